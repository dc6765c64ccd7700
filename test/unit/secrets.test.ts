import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { decryptSecrets, encryptSecrets, generateMasterKey, loadMasterKey, parseSecretsText, SecretsStore, setSecretInText } from '../../src/config/secrets';
import { UserError } from '../../src/errors';
import { runCli, tempProject } from '../helpers/cli';

const key = () => Buffer.from(generateMasterKey(), 'base64');
const HOSTILE = `it's "quoted" $(touch /tmp/pwned) \`id\` ; & | \\ \n second line ünïcødé 🔑`;

const project = tempProject();
after(project.cleanup);
let n = 0;
const freshDir = () => {
  const dir = path.join(project.dir, `p${n++}`);
  mkdirSync(dir);
  return dir;
};

describe('secrets encryption', () => {
  test('round trip keeps every byte, including quotes, newlines and non-ASCII', () => {
    const k = key();
    const text = `A: ${JSON.stringify(HOSTILE)}\n`;
    const file = encryptSecrets(text, k, undefined);
    assert.match(file, /^ALCAIDE-SECRETS v1 aes-256-gcm\n/);
    assert.ok(!file.includes('quoted'));
    assert.equal(decryptSecrets(file, k, undefined, 'f'), text);
    assert.equal(parseSecretsText(decryptSecrets(file, k, undefined, 'f')).secrets.A, HOSTILE);
  });

  test('each encryption uses a fresh nonce', () => {
    const k = key();
    assert.notEqual(encryptSecrets('A: 1', k, undefined), encryptSecrets('A: 1', k, undefined));
  });

  test('a wrong key is refused with a clear error', () => {
    const file = encryptSecrets('A: 1', key(), undefined);
    assert.throws(
      () => decryptSecrets(file, key(), undefined, 'secrets.enc'),
      /cannot decrypt secrets\.enc: wrong master key, the file was modified, or it was encrypted for another destination/,
    );
  });

  test('a tampered file is refused (one flipped bit)', () => {
    const k = key();
    const file = encryptSecrets('A: 1', k, undefined);
    const [header, body] = [file.split('\n')[0], file.split('\n').slice(1).join('')];
    const bytes = Buffer.from(body!, 'base64');
    bytes[bytes.length - 20] ^= 1;
    assert.throws(() => decryptSecrets(`${header}\n${bytes.toString('base64')}\n`, k, undefined, 'f'), /cannot decrypt f/);
    assert.throws(() => decryptSecrets('hello\n', k, undefined, 'f'), /f is not an Alcaide secrets file/);
    assert.throws(
      () => decryptSecrets('ALCAIDE-SECRETS v2 xchacha\nAAAA\n', k, undefined, 'f'),
      /uses secrets format v2, which this version of alcaide cannot read/,
    );
    assert.throws(() => decryptSecrets(`${header}\nAAAA\n`, k, undefined, 'f'), /f is truncated or damaged/);
  });

  test('a file is bound to its destination: production cannot be read as staging', () => {
    const k = key();
    const prod = encryptSecrets('A: prod', k, 'production');
    assert.equal(decryptSecrets(prod, k, 'production', 'f'), 'A: prod');
    assert.throws(() => decryptSecrets(prod, k, 'staging', 'f'), /encrypted for another destination/);
    assert.throws(() => decryptSecrets(prod, k, undefined, 'f'), /cannot decrypt/);
  });

  test('plaintext validation names each bad entry', () => {
    assert.deepEqual(parseSecretsText('A: 1\nB: [x]\n"C-D": y\nE:\n').problems, [
      'B: expected a string value, got a list',
      '"C-D" is not a valid secret name (letters, digits, "_", not starting with a digit)',
      'E: expected a string value, got nothing',
    ]);
    assert.deepEqual(parseSecretsText('- a').problems, ['expected a mapping of NAME: value']);
  });

  test('setting a key keeps comments and other keys', () => {
    const out = setSecretInText('# keep me\nA: 1\n', 'B', 'two\nlines');
    assert.match(out, /# keep me/);
    assert.deepEqual(parseSecretsText(out).secrets, { A: '1', B: 'two\nlines' });
  });
});

describe('master key', () => {
  test('missing key: a clear error saying how to get one', () => {
    assert.throws(
      () => loadMasterKey(freshDir(), {}),
      (e: unknown) => {
        assert.ok(e instanceof UserError);
        assert.match(e.message, /no master key: .*master\.key does not exist and ALCAIDE_MASTER_KEY is not set/);
        assert.match(e.hint ?? '', /alcaide secrets init/);
        return true;
      },
    );
  });

  test('ALCAIDE_MASTER_KEY wins; a malformed one is refused', () => {
    const k = generateMasterKey();
    assert.deepEqual(loadMasterKey(freshDir(), { ALCAIDE_MASTER_KEY: k }), Buffer.from(k, 'base64'));
    assert.throws(() => loadMasterKey(freshDir(), { ALCAIDE_MASTER_KEY: 'c2hvcnQ=' }), /ALCAIDE_MASTER_KEY is not a master key \(expected 32 bytes in base64/);
  });

  test('a key file readable by others is refused', () => {
    const dir = freshDir();
    const store = new SecretsStore(dir, undefined, {});
    const r = runCli(['secrets', 'init'], { cwd: dir, env: { ALCAIDE_MASTER_KEY: '' } });
    assert.equal(r.code, 0, r.stderr);
    chmodSync(path.join(dir, '.alcaide', 'master.key'), 0o644);
    assert.throws(() => store.read(), /master\.key is readable by other users \(mode 644\)/);
  });
});

describe('alcaide secrets CLI', () => {
  const env = { ALCAIDE_MASTER_KEY: '' };

  test('init creates a 0600 master key and the file, then refuses to overwrite', () => {
    const dir = freshDir();
    const r = runCli(['secrets', 'init'], { cwd: dir, env });
    assert.equal(r.code, 0, r.stderr);
    const keyFile = path.join(dir, '.alcaide', 'master.key');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const keyText = readFileSync(keyFile, 'utf8').trim();
    assert.ok(!r.stdout.includes(keyText) && !r.stderr.includes(keyText), 'the master key is never printed');
    const before = readFileSync(path.join(dir, '.alcaide', 'secrets.enc'), 'utf8');
    const again = runCli(['secrets', 'init'], { cwd: dir, env });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /secrets\.enc already exists; not overwriting it/);
    assert.equal(readFileSync(path.join(dir, '.alcaide', 'secrets.enc'), 'utf8'), before);
    assert.equal(readFileSync(keyFile, 'utf8').trim(), keyText);
  });

  test('set reads the value from stdin; get returns it byte for byte; show redacts', () => {
    const dir = freshDir();
    assert.equal(runCli(['secrets', 'init'], { cwd: dir, env }).code, 0);
    const set = runCli(['secrets', 'set', 'DATABASE_URL'], { cwd: dir, env, input: `${HOSTILE}\n` });
    assert.equal(set.code, 0, set.stderr);
    assert.ok(!set.stdout.includes('pwned'));
    const get = runCli(['secrets', 'get', 'DATABASE_URL'], { cwd: dir, env });
    assert.equal(get.stdout, HOSTILE);
    const show = runCli(['secrets', 'show'], { cwd: dir, env });
    assert.equal(show.stdout.trim(), 'DATABASE_URL: [redacted]');
    assert.ok(!existsSync('/tmp/pwned'));
    const missing = runCli(['secrets', 'get', 'NOPE'], { cwd: dir, env });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no secret NOPE in \.alcaide\/secrets\.enc/);
    assert.equal(runCli(['secrets', 'set', 'bad-name'], { cwd: dir, env, input: 'x' }).code, 2);
    assert.equal(runCli(['secrets', 'unset', 'DATABASE_URL'], { cwd: dir, env }).code, 0);
    assert.equal(runCli(['secrets', 'show'], { cwd: dir, env }).stdout.trim(), '(no secrets in .alcaide/secrets.enc)');
  });

  test('per-destination files are separate and bound to their destination', () => {
    const dir = freshDir();
    assert.equal(runCli(['secrets', 'init'], { cwd: dir, env }).code, 0);
    assert.equal(runCli(['-d', 'staging', 'secrets', 'init'], { cwd: dir, env }).code, 0);
    runCli(['secrets', 'set', 'K'], { cwd: dir, env, input: 'default-value' });
    runCli(['-d', 'staging', 'secrets', 'set', 'K'], { cwd: dir, env, input: 'staging-value' });
    assert.equal(runCli(['secrets', 'get', 'K'], { cwd: dir, env }).stdout, 'default-value');
    assert.equal(runCli(['-d', 'staging', 'secrets', 'get', 'K'], { cwd: dir, env }).stdout, 'staging-value');
    // copying staging's file over production's must not silently work
    writeFileSync(path.join(dir, '.alcaide', 'secrets.production.enc'), readFileSync(path.join(dir, '.alcaide', 'secrets.staging.enc')));
    const swapped = runCli(['-d', 'production', 'secrets', 'get', 'K'], { cwd: dir, env });
    assert.equal(swapped.code, 1);
    assert.match(swapped.stderr, /cannot decrypt \.alcaide\/secrets\.production\.enc/);
    const none = runCli(['-d', 'qa', 'secrets', 'show'], { cwd: dir, env });
    assert.match(none.stderr, /no secrets file \.alcaide\/secrets\.qa\.enc for destination "qa"/);
  });

  test('a wrong master key via ALCAIDE_MASTER_KEY is refused, not printed', () => {
    const dir = freshDir();
    assert.equal(runCli(['secrets', 'init'], { cwd: dir, env }).code, 0);
    const wrong = generateMasterKey();
    const r = runCli(['secrets', 'show'], { cwd: dir, env: { ALCAIDE_MASTER_KEY: wrong } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot decrypt/);
    assert.ok(!r.stderr.includes(wrong));
  });

  test('edit: saves a change, leaves an unchanged file alone, refuses invalid YAML, removes its temp file', () => {
    const dir = freshDir();
    assert.equal(runCli(['secrets', 'init'], { cwd: dir, env }).code, 0);
    const tmp = path.join(project.dir, `tmp${n}`);
    mkdirSync(tmp);
    const editor = path.join(project.dir, 'editor.sh');
    // The "editor" records the mode of the file it was given, then applies $EDIT_SCRIPT.
    writeFileSync(editor, '#!/bin/sh\nstat -c %a "$1" > "$MODE_OUT"\nprintf "%s" "$1" > "$PATH_OUT"\nsh -c "$EDIT_SCRIPT" edit "$1"\n');
    chmodSync(editor, 0o755);
    const edit = (script: string) =>
      runCli(['secrets', 'edit'], {
        cwd: dir,
        env: { ...env, EDITOR: editor, TMPDIR: tmp, EDIT_SCRIPT: script, MODE_OUT: path.join(project.dir, 'mode'), PATH_OUT: path.join(project.dir, 'path') },
      });
    const before = readFileSync(path.join(dir, '.alcaide', 'secrets.enc'), 'utf8');
    const unchanged = edit('true');
    assert.equal(unchanged.code, 0);
    assert.match(unchanged.stdout, /no changes/);
    assert.equal(readFileSync(path.join(dir, '.alcaide', 'secrets.enc'), 'utf8'), before);
    assert.equal(readFileSync(path.join(project.dir, 'mode'), 'utf8').trim(), '600');

    const changed = edit('printf "SECRET_KEY_BASE: abc\\n" >> "$1"');
    assert.equal(changed.code, 0, changed.stderr);
    assert.equal(runCli(['secrets', 'get', 'SECRET_KEY_BASE'], { cwd: dir, env }).stdout, 'abc');

    const saved = readFileSync(path.join(dir, '.alcaide', 'secrets.enc'), 'utf8');
    const invalid = edit('printf "A: [unclosed\\n" > "$1"');
    assert.equal(invalid.code, 2);
    assert.match(invalid.stderr, /the edited secrets are invalid; nothing changed/);
    assert.equal(readFileSync(path.join(dir, '.alcaide', 'secrets.enc'), 'utf8'), saved);

    const failing = edit('exit 3');
    assert.equal(failing.code, 1);
    assert.match(failing.stderr, /exited with status 3; nothing changed/);
    assert.deepEqual(readdirSync(tmp), [], 'no plaintext left in TMPDIR');
    assert.ok(!existsSync(readFileSync(path.join(project.dir, 'path'), 'utf8')));
  });
});

describe('what reaches the app, what stays out of git', () => {
  const env = { ALCAIDE_MASTER_KEY: '', TEMPORAL_ADDRESS: '127.0.0.1:1' };
  const git = (dir: string, ...args: string[]) => {
    const r = spawnSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@localhost', ...args], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  /** A committed project of the given config and secrets text; nothing listens at its Temporal address. */
  const deployable = (secretsText: string, config = 'app: my_app\nserver:\n  host: 203.0.113.10\nenv:\n  secret: [SECRET_KEY_BASE]\n') => {
    const dir = freshDir();
    writeFileSync(path.join(dir, 'deploy.yml'), config);
    git(dir, 'init', '-q');
    assert.equal(runCli(['secrets', 'init'], { cwd: dir, env }).code, 0);
    new SecretsStore(dir, undefined, {}).writeText(secretsText);
    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'app');
    return dir;
  };

  test('an empty value on stdin is a value: set, then got back empty', () => {
    const dir = freshDir();
    assert.equal(runCli(['secrets', 'init'], { cwd: dir, env }).code, 0);
    const set = runCli(['secrets', 'set', 'EMPTY'], { cwd: dir, env, input: '' });
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /set EMPTY to an empty value/);
    const get = runCli(['secrets', 'get', 'EMPTY'], { cwd: dir, env });
    assert.equal(get.code, 0, get.stderr);
    assert.equal(get.stdout, '');
    assert.deepEqual(new SecretsStore(dir, undefined, {}).read(), { EMPTY: '' });
  });

  test('a NUL byte is refused with exit 2 and the name: by set, in the file, before a deploy', () => {
    const dir = freshDir();
    assert.equal(runCli(['secrets', 'init'], { cwd: dir, env }).code, 0);
    const before = readFileSync(path.join(dir, '.alcaide', 'secrets.enc'), 'utf8');
    const set = runCli(['secrets', 'set', 'SECRET_KEY_BASE'], { cwd: dir, env, input: 'a\0b' });
    assert.equal(set.code, 2, set.stderr);
    assert.match(set.stderr, /SECRET_KEY_BASE: expected a value without a NUL byte/);
    assert.equal(readFileSync(path.join(dir, '.alcaide', 'secrets.enc'), 'utf8'), before, 'nothing changed');
    assert.deepEqual(parseSecretsText('A: "a\\0b"\nB: ok\n').problems, [
      'A: expected a value without a NUL byte (no environment variable can hold one), got a value with one',
    ]);

    // a file that holds one (written by hand or by an older alcaide) stops the deploy before Temporal or the server
    const project = deployable('SECRET_KEY_BASE: "a\\0b"\n');
    const deploy = runCli(['deploy'], { cwd: project, env });
    assert.equal(deploy.code, 2, deploy.stderr);
    assert.match(deploy.stderr, /SECRET_KEY_BASE: expected a value without a NUL byte/);
    assert.doesNotMatch(deploy.stderr, /Temporal/);
    const missing = runCli(['deploy'], { cwd: deployable('OTHER: x\n'), env });
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /secrets missing from \.alcaide\/secrets\.enc: SECRET_KEY_BASE/);
  });

  test('secrets init in a project with deploy.yml ignores the master key; deploy refuses a key in git', () => {
    const dir = freshDir();
    writeFileSync(path.join(dir, 'deploy.yml'), 'app: my_app\nserver:\n  host: 203.0.113.10\n');
    writeFileSync(path.join(dir, '.gitignore'), '_build');
    git(dir, 'init', '-q');
    const init = runCli(['secrets', 'init'], { cwd: dir, env });
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /added \.alcaide\/\*, !\.alcaide\/secrets\*\.enc, !\.alcaide\/hooks\/ to \.gitignore/);
    assert.equal(
      readFileSync(path.join(dir, '.gitignore'), 'utf8'),
      '_build\n# alcaide: master key and local state stay out of git; encrypted secrets and hooks may go in\n.alcaide/*\n!.alcaide/secrets*.enc\n!.alcaide/hooks/\n',
    );
    git(dir, 'add', '-A');
    assert.deepEqual(git(dir, 'ls-files').trim().split('\n').sort(), ['.alcaide/secrets.enc', '.gitignore', 'deploy.yml'], 'git add -A leaves the key out');
    assert.equal(runCli(['secrets', 'init'], { cwd: dir, env }).code, 1, 'still never overwrites');
    assert.equal(
      readFileSync(path.join(dir, '.gitignore'), 'utf8')
        .split('\n')
        .filter((l) => l === '.alcaide/*').length,
      1,
      'lines added once',
    );

    // committed anyway (git add -f): deploy says so and how to fix it, before anything remote
    git(dir, 'add', '-f', '.alcaide/master.key');
    git(dir, 'commit', '-qm', 'oops');
    const deploy = runCli(['deploy'], { cwd: dir, env });
    assert.equal(deploy.code, 2, deploy.stderr);
    assert.match(deploy.stderr, /\.alcaide\/master\.key is tracked by git and in commit [0-9a-f]{12}: whoever has the repository can decrypt the secrets/);
    assert.match(deploy.stderr, /hint: git rm --cached \.alcaide\/master\.key/);
    git(dir, 'rm', '-q', '--cached', '.alcaide/master.key');
    const staged = runCli(['deploy'], { cwd: dir, env });
    assert.match(staged.stderr, /\.alcaide\/master\.key is in commit [0-9a-f]{12}:/, 'untracked but still in the commit to deploy');
    git(dir, 'commit', '-qm', 'key out');
    const fixed = runCli(['deploy'], { cwd: dir, env });
    assert.equal(fixed.code, 1, fixed.stderr);
    assert.match(fixed.stderr, /cannot reach Temporal at 127\.0\.0\.1:1/, 'past the checks: only Temporal is missing');
  });
});
