// A step's script runs its checks and actions in one /bin/sh: `put` and the composed scripts are
// run here by the real POSIX shell (dash, as on the simulated host) on real files.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { newsyslogConf } from '../../src/freebsd/layout';
import { installApp } from '../../src/freebsd/app';
import { ensureHostsBlock, removeHostsBlock } from '../../src/freebsd/hosts';
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
    const replaced = path.join(dir, 'replace', 'app.env');
    assert.equal(run(script(putFunction(), putStdin(replaced, '0600', 'wrote env')), 'A=1\n').code, 0);
    const before = statSync(replaced).ino;
    const r = run(script(putFunction(), putStdin(replaced, '0600', 'wrote env')), 'A=2\n');
    assert.deepEqual(changesOf(r.stdout), ['wrote env']);
    assert.equal(readFileSync(replaced, 'utf8'), 'A=2\n');
    assert.notEqual(statSync(replaced).ino, before);
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
    const content = 'ALCAIDE_EOF\n$(touch /tmp/alcaide-pwned) `id` \'q\' "d" \\\n';
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
    assert.deepEqual(changesOf(first.stdout), [`release ${v.slice(0, 12)} in /usr/local/hello`, 'runner', 'rc.d script', 'hello_enable=YES', 'log rotation']);
    // newsyslog(8) reads only *.conf in /usr/local/etc/newsyslog.conf.d; it signals daemon(8), which reopens the log (-H)
    assert.equal(newsyslogConf('hello'), '/usr/local/etc/newsyslog.conf.d/hello.conf');
    const rotation = readFileSync(path.join(root, newsyslogConf('hello')), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    assert.deepEqual(
      rotation.map((l) => l.split(/\s+/)),
      [['/var/log/hello.log', '600', '7', '10240', '@T00', 'JC', '/var/run/hello_supervisor.pid']],
    );
    assert.equal(readFileSync(path.join(root, 'usr/local/hello/VERSION'), 'utf8'), '1\n');
    // rc.subr's load_rc_config sources /etc/rc.conf.d/NAME: the app is enabled by it
    const rcConf = path.join(root, 'etc/rc.conf.d/hello');
    assert.equal(readFileSync(rcConf, 'utf8'), '# Written by alcaide.\nhello_enable="YES"\n');
    assert.equal(run(`. ${rcConf} && echo "$hello_enable"`).stdout, 'YES\n');
    assert.equal(statSync(path.join(root, 'usr/local/etc/rc.d/hello')).mode & 0o777, 0o755);
    const second = run(script(putFunction(), installApp(files, root, artifact, v)));
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(changesOf(second.stdout), []);
  });
});

describe('/etc/hosts: each app names its slots in a block of its own', () => {
  const entries = (n: number) => [
    { name: 'shop-blue.alcaide.internal', addresses: [`fd00:a1ca:1de::a00:${n}`, `10.0.0.${n}`] },
    { name: 'shop-green.alcaide.internal', addresses: ['fd00:a1ca:1de::a00:3', '10.0.0.3'] },
  ];
  test('added, replaced in place, left alone when current, removed; the lines around it kept', () => {
    const hosts = path.join(dir, 'hosts');
    const original = '127.0.0.1\tlocalhost\n::1\tlocalhost\n';
    writeFileSync(hosts, original);
    const added = run(script(putFunction(), ensureHostsBlock('shop', entries(2), hosts)));
    assert.equal(added.code, 0, added.stderr);
    assert.equal(changesOf(added.stdout).length, 1);
    const text = readFileSync(hosts, 'utf8');
    assert.ok(text.startsWith(original), text);
    assert.match(text, /^fd00:a1ca:1de::a00:2\tshop-blue\.alcaide\.internal\n10\.0\.0\.2\tshop-blue\.alcaide\.internal$/m, 'IPv6 first, then IPv4');
    // another app's block and an operator's line after it stay where they are
    writeFileSync(hosts, `${readFileSync(hosts, 'utf8')}192.0.2.7\tbackup\n`);
    run(script(putFunction(), ensureHostsBlock('cart', [{ name: 'cart-blue.alcaide.internal', addresses: ['10.0.1.2'] }], hosts)));
    assert.deepEqual(changesOf(run(script(putFunction(), ensureHostsBlock('shop', entries(2), hosts))).stdout), [], 'nothing to change');
    const replaced = run(script(putFunction(), ensureHostsBlock('shop', entries(9), hosts)));
    assert.equal(changesOf(replaced.stdout).length, 1);
    const lines = readFileSync(hosts, 'utf8').split('\n');
    assert.equal(
      lines.filter((l) => l.includes('shop-blue')).join(','),
      'fd00:a1ca:1de::a00:9\tshop-blue.alcaide.internal,10.0.0.9\tshop-blue.alcaide.internal',
    );
    assert.ok(lines.indexOf('192.0.2.7\tbackup') > lines.findIndex((l) => l.includes('shop-green')), 'replaced in place');
    run(script(putFunction(), removeHostsBlock('shop', hosts)));
    const left = readFileSync(hosts, 'utf8');
    assert.equal(
      left,
      `${original}192.0.2.7\tbackup\n# BEGIN alcaide cart (managed; do not edit between these lines)\n10.0.1.2\tcart-blue.alcaide.internal\n# END alcaide cart\n`,
    );
  });
});
