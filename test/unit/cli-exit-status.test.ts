// A command that reports a failure without throwing (a host it could not read) exits non-zero:
// scripts and CI jobs that call the CLI see it. Nothing here reaches the network: the host's
// SSH key is missing, so each command fails before it connects.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { runCli, tempProject } from '../helpers/cli';

const project = tempProject('alcaide-exit-');
after(() => project.cleanup());

const home = path.join(project.dir, 'home');
mkdirSync(home);
writeFileSync(
  path.join(project.dir, 'deploy.yml'),
  ['app: my_app', 'server:', '  host: 192.0.2.10', 'app_jail:', '  freebsd_version: 14.3-RELEASE', ''].join('\n'),
);
// no key in ssh.keys, none in this HOME, no agent
const env = { HOME: home, SSH_AUTH_SOCK: undefined, TEMPORAL_ADDRESS: '127.0.0.1:1' };

for (const args of [['releases'], ['status', '--all'], ['logs', '-n', '5']]) {
  test(`\`alcaide ${args.join(' ')}\` with a host it cannot read: the reason on stderr, exit 1`, () => {
    const r = runCli(args, { cwd: project.dir, env });
    assert.match(r.stderr, /192\.0\.2\.10.*no SSH key to log in to root@192\.0\.2\.10|no SSH key to log in to root@192\.0\.2\.10/s);
    assert.equal(r.code, 1, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  });
}
