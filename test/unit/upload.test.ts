// The upload's two commands, built from a host's primitives and run under the real /bin/sh on
// real files (GNU primitives here; the FreeBSD ones run on the simulated host).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { freebsdUploadCommands, sizeAndSha256 } from '../../src/freebsd/files';
import { parseCheck } from '../../src/ssh/upload';
import { linuxUpload } from '../helpers/linuxUpload';

const dir = mkdtempSync(path.join(os.tmpdir(), 'alcaide-upload-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const sh = (cmd: string, input = '') => spawnSync('/bin/sh', ['-c', cmd], { input, encoding: 'utf8' });
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const expect = (s: string) => ({ size: Buffer.byteLength(s), sha: sha(s) });

test('the check reports the file in place and the partial one, each or neither', () => {
  const dest = path.join(dir, 'a b', 'src.tar');
  const part = `${dest}.part`;
  assert.equal(freebsdUploadCommands.check('/x', '/x.part'), `${sizeAndSha256('/x')}; echo --; ${sizeAndSha256('/x.part')}`);
  assert.deepEqual(parseCheck(sh(linuxUpload.check(dest, part)).stdout), { there: undefined, part: undefined });
  sh(`mkdir -p "$(dirname '${part}')" && cat >> '${part}'`, 'half');
  assert.deepEqual(parseCheck(sh(linuxUpload.check(dest, part)).stdout), { there: undefined, part: expect('half') });
  sh(`cat >> '${dest}'`, 'whole file');
  assert.deepEqual(parseCheck(sh(linuxUpload.check(dest, part)).stdout), { there: expect('whole file'), part: expect('half') });
});

test('append, verify, install: a fresh start empties the partial file; a resume appends to it; a mismatch installs nothing', () => {
  const dest = path.join(dir, 'new', 'release.tar');
  const part = `${dest}.part`;
  const content = 'the whole archive';
  // a stale partial of another file: a fresh start drops it
  sh(`mkdir -p "$(dirname '${part}')" && cat >> '${part}'`, 'stale bytes');
  const fresh = sh(linuxUpload.appendVerifyInstall(part, dest, '0640', expect(content), true), content);
  assert.equal(fresh.status, 0, fresh.stderr);
  assert.equal(readFileSync(dest, 'utf8'), content);
  assert.equal(statSync(dest).mode & 0o777, 0o640);
  assert.ok(!existsSync(part), 'the partial file became the file');
  assert.deepEqual(parseCheck(`${fresh.stdout}--\n`).there, expect(content));

  // resume: the first half is there, the rest is appended
  const dest2 = path.join(dir, 'resumed.tar');
  sh(`cat >> '${dest2}.part'`, content.slice(0, 7));
  const resumed = sh(linuxUpload.appendVerifyInstall(`${dest2}.part`, dest2, '0644', expect(content), false), content.slice(7));
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.equal(readFileSync(dest2, 'utf8'), content);

  // a partial that was not a prefix: nothing installed, what the part holds is reported
  const dest3 = path.join(dir, 'damaged.tar');
  sh(`cat >> '${dest3}.part'`, 'XXXXXXX');
  const bad = sh(linuxUpload.appendVerifyInstall(`${dest3}.part`, dest3, '0644', expect(content), false), content.slice(7));
  assert.equal(bad.status, 0);
  assert.ok(!existsSync(dest3));
  assert.deepEqual(parseCheck(`${bad.stdout}--\n`).there, expect(`XXXXXXX${content.slice(7)}`));
});

test('the expected size and sha256 are checked before they go into the command', () => {
  assert.throws(() => linuxUpload.appendVerifyInstall('/p', '/d', '0644', { size: 1, sha: "x'; rm -rf /; '" }, true), /not a size and sha256/);
  assert.throws(() => linuxUpload.appendVerifyInstall('/p', '/d', '0644', { size: 1.5, sha: sha('') }, true), /not a size and sha256/);
});
