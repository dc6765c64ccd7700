// A step's script runs its checks and actions in one /bin/sh: `put` and the composed scripts are
// run here by the real POSIX shell (dash, as on the simulated host) on real files.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { installApp, rcConfD, renderRcConfD } from '../../src/freebsd/app';
import { putFunction, putStdin, putText } from '../../src/freebsd/files';
import { changesOf, script } from '../../src/freebsd/sh';

const dir = mkdtempSync(path.join(os.tmpdir(), 'alcaide-script-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(cmd: string, stdin = ''): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('/bin/sh', ['-c', cmd], { input: stdin, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('put (one command writes a file only when it differs)', () => {
  const file = path.join(dir, 'etc', 'app.env');

  test('writes a new file with its mode, reports it; the same content again changes nothing', () => {
    const first = run(script(putFunction(), putStdin(file, '0600', 'wrote env')), 'A=1\n');
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(changesOf(first.stdout), ['wrote env']);
    assert.equal(readFileSync(file, 'utf8'), 'A=1\n');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const before = statSync(file);
    const again = run(script(putFunction(), putStdin(file, '0600', 'wrote env')), 'A=1\n');
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(changesOf(again.stdout), [], 'identical content: no change reported');
    const after = statSync(file);
    assert.deepEqual([after.ino, after.mtimeMs], [before.ino, before.mtimeMs], 'the file was not rewritten');
    assert.deepEqual(readdirSync(path.dirname(file)), ['app.env'], 'no temp file left');
  });

  test('other content replaces the file atomically (a new inode)', () => {
    const before = statSync(file).ino;
    const r = run(script(putFunction(), putStdin(file, '0600', 'wrote env')), 'A=2\n');
    assert.deepEqual(changesOf(r.stdout), ['wrote env']);
    assert.equal(readFileSync(file, 'utf8'), 'A=2\n');
    assert.notEqual(statSync(file).ino, before);
  });

  test('a failure later in the script leaves no temp file and stops the script', () => {
    const target = path.join(dir, 'stop', 'x.conf');
    const r = run(script(putFunction(), putText(target, '0644', 'a\n', 'x'), 'false', `echo never`));
    assert.notEqual(r.code, 0);
    assert.doesNotMatch(r.stdout, /never/);
    assert.deepEqual(readdirSync(path.dirname(target)), ['x.conf']);
  });

  test('putText: content with the delimiter line and shell syntax arrives as it was', () => {
    const target = path.join(dir, 'text', 'f');
    const content = "ALCAIDE_EOF\n$(touch /tmp/alcaide-pwned) `id` 'q' \"d\" \\\n";
    const r = run(script(putFunction(), putText(target, '0644', content, 'f')));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(target, 'utf8'), content);
    assert.equal(existsSync('/tmp/alcaide-pwned'), false);
    assert.throws(() => putText(target, '0644', 'no newline'), /must end with a newline/);
  });
});

describe('installApp (the release, runner, rc.d script and rc.conf.d of a slot, one script)', () => {
  test('unpacks once per version; a second run changes nothing', () => {
    const root = path.join(dir, 'slot');
    const artifact = path.join(dir, 'rel.tar.gz');
    const src = mkdtempSync(path.join(dir, 'rel-'));
    writeFileSync(path.join(src, 'VERSION'), '1\n');
    assert.equal(spawnSync('tar', ['-czf', artifact, '-C', src, '.']).status, 0);
    const v = 'a'.repeat(40);
    const files = { app: 'hello', releaseName: 'hello' };
    const first = run(script(putFunction(), installApp(files, root, artifact, v)));
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(changesOf(first.stdout), [`release ${v.slice(0, 12)} in /usr/local/hello`, 'runner', 'rc.d script', 'hello_enable=YES']);
    assert.equal(readFileSync(path.join(root, 'usr/local/hello/VERSION'), 'utf8'), '1\n');
    assert.equal(readFileSync(path.join(root, rcConfD('hello')), 'utf8'), renderRcConfD('hello'));
    assert.equal(statSync(path.join(root, 'usr/local/etc/rc.d/hello')).mode & 0o777, 0o755);
    const second = run(script(putFunction(), installApp(files, root, artifact, v)));
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(changesOf(second.stdout), []);
  });
});
