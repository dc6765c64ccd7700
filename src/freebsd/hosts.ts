// Names for the slot jails in the host's /etc/hosts, each with the jail's IPv4 and IPv6
// address. Caddy's slot servers and the health check reach a slot by its name, so the app
// answers whichever family it listens on: FreeBSD's net.inet6.ip6.v6only is 1 by default,
// so phx.new's `ip: {0, 0, 0, 0, 0, 0, 0, 0}` listens on IPv6 only, while an app bound to
// {0, 0, 0, 0} listens on IPv4 only. Go (Caddy) and sshd try the next address of a name at
// once when one refuses. See docs/phoenix.md.
import { sh } from './sh';
import { HOSTS_FILE } from './layout';

/** A jail's name on the host (jail names hold "_", host names should not; no jail name holds "-"). */
export const jailHostName = (jail: string) => `${jail.replace(/_/g, '-')}.alcaide.internal`;

export const hostsBegin = (app: string) => `# BEGIN alcaide ${app} (managed; do not edit between these lines)`;
export const hostsEnd = (app: string) => `# END alcaide ${app}`;

export interface HostsEntry {
  name: string;
  addresses: string[];
}

/** The app's block: one line per address, IPv6 first (what a stock Phoenix app listens on). */
export function renderHostsBlock(app: string, entries: HostsEntry[]): string {
  return [hostsBegin(app), ...entries.flatMap((e) => e.addresses.map((a) => `${a}\t${e.name}`)), hostsEnd(app)].join('\n');
}

// Replaces the app's block where it is (or appends it), keeping every other line: `blk` is
// empty to remove it. awk -v turns the "\n" of blk into newlines.
const AWK = `$0 == b { if (blk != "") print blk; skip = 1; done = 1; next }
skip { if ($0 == e) skip = 0; next }
{ print }
END { if (!done && blk != "") print blk }`;

function withBlock(app: string, block: string, note: string, file: string): string {
  return sh`awk -v b=${hostsBegin(app)} -v e=${hostsEnd(app)} -v blk=${block.replace(/\n/g, '\\n')} ${AWK} ${file} | put ${file} 0644 ${note}`;
}

/** Script part (with `putFunction()`): the app's block in /etc/hosts as rendered; reports a change. */
export const ensureHostsBlock = (app: string, entries: HostsEntry[], file = HOSTS_FILE) =>
  withBlock(app, renderHostsBlock(app, entries), `${file}: names of ${app}'s slots`, file);

/** Script part (with `putFunction()`): the app's block gone from /etc/hosts. */
export const removeHostsBlock = (app: string, file = HOSTS_FILE) => withBlock(app, '', `${file}: ${app}'s names removed`, file);
