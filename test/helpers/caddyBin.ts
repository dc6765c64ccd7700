// The pinned Caddy (scripts/caddy/go.mod, built by scripts/build-caddy.sh into a per-machine
// cache), so tests validate our Caddyfiles with the version FreeBSD's pkg installs, and the
// simulated hosts' `pkg install caddy` installs that same binary.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './paths';

export const BUILD_CADDY = path.join(REPO_ROOT, 'scripts', 'build-caddy.sh');
/** Debian's Caddy (2.6.2): only a fallback when the pinned build is missing. */
export const DEBIAN_CADDY = '/usr/bin/caddy';

let found: { path: string; pinned: boolean } | undefined;

/**
 * The pinned Caddy's path if it has been built (never builds: `scripts/build-caddy.sh` does, and
 * `scripts/install-deps.sh` runs it); otherwise Debian's /usr/bin/caddy, with a loud warning.
 */
export function pinnedCaddy(): { path: string; pinned: boolean } {
  if (found) return found;
  try {
    const p = execFileSync(BUILD_CADDY, ['--path'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    if (p) return (found = { path: p, pinned: true });
  } catch {
    // not built (or no go): fall through
  }
  let want = 'the pinned version';
  try {
    want = execFileSync(BUILD_CADDY, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // keep the generic text
  }
  process.stderr.write(
    `\n*** WARNING: the pinned Caddy ${want} is not built; using Debian's ${DEBIAN_CADDY} instead.\n` +
      `*** Run scripts/build-caddy.sh (scripts/install-deps.sh does) to test with the version FreeBSD installs.\n\n`,
  );
  return (found = { path: DEBIAN_CADDY, pinned: false });
}

/** Path of the Caddy binary tests should run. */
export const caddyBin = (): string => pinnedCaddy().path;
