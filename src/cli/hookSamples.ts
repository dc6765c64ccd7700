// The sample hooks `alcaide init` writes to .alcaide/hooks/: a file ending in .sample is no
// hook (docs/hooks.md), renamed it is one. Never overwritten.
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const VARIABLES = `# The run: ALCAIDE_APP ALCAIDE_DESTINATION ALCAIDE_COMMAND ALCAIDE_VERSION ALCAIDE_HOSTS
# ALCAIDE_SLOT ALCAIDE_PREVIOUS_SLOT ALCAIDE_PERFORMER ALCAIDE_WEB_UI ALCAIDE_RECORDED_AT
# (ALCAIDE_RUNTIME in post-* hooks). No secret unless deploy.yml names it for this hook.`;

export const HOOK_SAMPLES = {
  'pre-deploy.sample': `#!/bin/sh
# A pre-deploy hook runs on the worker, in the project's directory, before the new slot jail
# is made; a non-zero exit stops the deploy with nothing changed on the server.
# Rename this file to pre-deploy to use it (docs/hooks.md).
${VARIABLES}
set -eu

# Refuse a commit that is not on origin/main.
if ! git merge-base --is-ancestor "$ALCAIDE_VERSION" origin/main; then
  echo "$ALCAIDE_VERSION is not on origin/main: push it first" >&2
  exit 1
fi
`,
  'post-deploy.sample': `#!/bin/sh
# A post-deploy hook runs on the worker once the deploy is recorded; a failure is reported and
# undoes nothing. Rename this file to post-deploy to use it (docs/hooks.md).
${VARIABLES}
# To post to a chat webhook, name its secret for this hook in deploy.yml:
#   hooks:
#     post-deploy:
#       secrets: [SLACK_WEBHOOK_URL]
set -eu

text="$ALCAIDE_PERFORMER deployed $ALCAIDE_APP $(printf '%.12s' "$ALCAIDE_VERSION") to \${ALCAIDE_DESTINATION:-$ALCAIDE_HOSTS} in \${ALCAIDE_RUNTIME}s"
echo "$text"
# curl -fsS -H 'Content-Type: application/json' --data "{\\"text\\": \\"$text\\"}" "$SLACK_WEBHOOK_URL"
`,
};

/** Writes the samples `dir/.alcaide/hooks/` lacks; returns those it wrote. */
export function writeHookSamples(dir: string): string[] {
  const hooks = path.join(dir, '.alcaide', 'hooks');
  mkdirSync(hooks, { recursive: true });
  const written: string[] = [];
  for (const [name, text] of Object.entries(HOOK_SAMPLES)) {
    const file = path.join(hooks, name);
    if (existsSync(file)) continue;
    writeFileSync(file, text, { flag: 'wx' });
    // executable already: renamed, it runs
    chmodSync(file, 0o755);
    written.push(name);
  }
  return written;
}
