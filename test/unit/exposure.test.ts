// Least exposure: files that may hold secrets are private from their first byte, and temp
// files are removed on every exit path (failure, signal), not only on success.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { SecretsStore } from '../../src/config/secrets';
import { writeFileAtomic } from '../../src/freebsd/files';
import { createDeployActivities } from '../../activities/deploy';
import { testDeps } from '../helpers/activityDeps';
import { tempProject } from '../helpers/cli';
import { TEST_TARGET } from '../helpers/target';

const project = tempProject('alcaide-exposure-');
after(project.cleanup);
let n = 0;
const fresh = () => {
  const d = path.join(project.dir, `d${n++}`);
  mkdirSync(d);
  return d;
};
const SECRET = "SECRET_KEY_BASE='s3cr3t value'\n";

describe('atomic remote writes (env files, configs) under /bin/sh', () => {
  test('a failing step (here chmod) leaves neither the temp file nor the target', () => {
    const dir = fresh();
    const file = path.join(dir, 'app.env');
    const r = spawnSync('/bin/sh', ['-c', writeFileAtomic(file, 'not-a-mode')], { input: SECRET, encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.deepEqual(readdirSync(dir), [], 'no temp file with the content left behind');
  });

  for (const signal of ['SIGHUP', 'SIGTERM', 'SIGINT'] as const) {
    test(`the link dropping mid-write (${signal} to the session) removes the temp file; it was 0600 from the start`, async () => {
      const dir = fresh();
      const file = path.join(dir, 'app.env');
      // a session whose stdin never ends, as when the SSH link drops mid-transfer
      const child = spawn('/bin/sh', ['-c', writeFileAtomic(file, '0600')], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
      child.stdin.write(SECRET);
      let temp: string | undefined;
      // wait until content has arrived in the temp file (cat is running)
      for (let i = 0; i < 200; i++) {
        temp = readdirSync(dir).find((f) => f.startsWith('app.env.'));
        if (temp && statSync(path.join(dir, temp)).size > 0) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(temp, 'the temp file exists while content streams in');
      assert.equal(statSync(path.join(dir, temp)).mode & 0o777, 0o600, 'private while being written (umask 077)');
      process.kill(-child.pid!, signal);
      await once(child, 'exit');
      // the subshell's trap may finish just after the session's shell
      for (let i = 0; i < 100 && readdirSync(dir).length; i++) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(readdirSync(dir), [], 'nothing left behind');
    });
  }
});

describe('local temp files', () => {
  test('the secrets file: a failed write leaves no temp file beside it', () => {
    const dir = fresh();
    mkdirSync(path.join(dir, '.alcaide'), { mode: 0o700 });
    // the target is a directory: the rename fails
    mkdirSync(path.join(dir, '.alcaide', 'secrets.enc'));
    writeFileSync(path.join(dir, 'x'), '');
    const store = new SecretsStore(dir, undefined, { ALCAIDE_MASTER_KEY: Buffer.alloc(32, 3).toString('base64') });
    assert.throws(() => store.writeText('A: b\n'));
    assert.deepEqual(readdirSync(path.join(dir, '.alcaide')), ['secrets.enc']);
  });

  test('the source upload: a failing git archive leaves no temp directory', async () => {
    const tmp = fresh();
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      const notARepo = fresh();
      await assert.rejects(
        createDeployActivities(testDeps()).uploadSource({ ...TEST_TARGET, projectRoot: notARepo }, 'a'.repeat(40)),
        /git archive aaaaaaaaaaaa failed/,
      );
      assert.deepEqual(readdirSync(tmp), [], 'the local tarball directory is removed');
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
  });
});
