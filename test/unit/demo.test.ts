// The README's first command works as root on a machine without sudo and as a user with sudo:
// demo.sh asks for root itself. Run from a copy in a temp dir, so nothing past its root check
// (installs, servers) can start: there the copy stops at the missing scripts/install-deps.sh.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { REPO_ROOT } from '../helpers/paths';

const dir = mkdtempSync(path.join(os.tmpdir(), 'alcaide-demo-'));
after(() => rmSync(dir, { recursive: true, force: true }));
chmodSync(dir, 0o777);
const demo = path.join(dir, 'demo.sh');
copyFileSync(path.join(REPO_ROOT, 'demo.sh'), demo);
chmodSync(demo, 0o755);
// a sudo that records how it was called
const bin = path.join(dir, 'bin');
mkdirSync(bin, { mode: 0o755 });
const calls = path.join(dir, 'sudo-calls');
writeFileSync(path.join(bin, 'sudo'), `#!/bin/sh\nprintf '%s\\n' "$@" >> ${calls}\n`, { mode: 0o755 });
const PATH = `${bin}:/usr/local/bin:/usr/bin:/bin`;
const sudoCalls = () => {
  try {
    return readFileSync(calls, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
};

test('the README starts with ./demo.sh, without sudo', () => {
  const quickStart = /## Quick start\n\n```sh\n([^\n]*)/.exec(readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8'));
  assert.match(quickStart?.[1] ?? '', /^\.\/demo\.sh\s/);
});

test('as a user, demo.sh runs itself again through sudo, with its arguments', () => {
  rmSync(calls, { force: true });
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'bash', demo, '--stop'], { encoding: 'utf8', env: { PATH }, cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(sudoCalls(), ['--', demo, '--stop']);
});

test('as root, demo.sh goes on without calling sudo', () => {
  rmSync(calls, { force: true });
  const r = spawnSync('bash', [demo], { encoding: 'utf8', env: { PATH }, cwd: dir });
  assert.deepEqual(sudoCalls(), []);
  assert.match(r.stderr, /scripts\/install-deps\.sh: No such file or directory/, 'past the root check, at its first step');
});
