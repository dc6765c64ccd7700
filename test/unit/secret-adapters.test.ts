// The secret adapters' pure parts: the exact argv of every vendor CLI call, the request built
// from flags over deploy.yml's secrets_from, and what is refused (exit 2) before any CLI runs.
// test/unit/secrets-fetch.test.ts runs them for real against stand-ins of each CLI.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { configSchema } from '../../src/config/schema';
import { awsGetSecretArgv, awsSecretKey } from '../../src/config/secretAdapters/awsSecretsManager';
import { bwGetItemArgv, bwItemField, bwStatusArgv, bwSyncArgv } from '../../src/config/secretAdapters/bitwarden';
import { bwsGetArgv, bwsListArgv } from '../../src/config/secretAdapters/bitwardenSecretsManager';
import { commandArgv } from '../../src/config/secretAdapters/command';
import { dopplerGetArgv } from '../../src/config/secretAdapters/doppler';
import { gcloudAccessArgv } from '../../src/config/secretAdapters/gcpSecretManager';
import { lpassName, lpassShowArgv, lpassStatusArgv } from '../../src/config/secretAdapters/lastPass';
import { opReadArgv, opReference } from '../../src/config/secretAdapters/onePassword';
import { SECRET_ADAPTERS, type RunVaultCli, type VaultCall } from '../../src/config/secretAdapters';
import { fetchPlan, mergeSecrets, vaultReader } from '../../src/config/secretsFetch';
import { UserError } from '../../src/errors';
import { REPO_ROOT } from '../helpers/paths';

const config = (extra: object = {}) =>
  configSchema.parse({ app: 'my_app', server: { host: 'example.com' }, env: { secret: ['SECRET_KEY_BASE', 'DATABASE_URL'] }, ...extra });

/** A runner that answers each argv from a table and records the calls. */
function fakeRun(answers: Record<string, string | { status: number; stderr: string }>): { run: RunVaultCli; calls: VaultCall[] } {
  const calls: VaultCall[] = [];
  return {
    calls,
    run: (call) => {
      calls.push(call);
      const a = answers[call.argv.join(' ')];
      if (a === undefined) throw new Error(`unexpected call ${JSON.stringify(call.argv)}`);
      return typeof a === 'string' ? { status: 0, stdout: Buffer.from(a), stderr: '' } : { status: a.status, stdout: Buffer.alloc(0), stderr: a.stderr };
    },
  };
}

const exit2 = (message: RegExp) => (e: unknown) => e instanceof UserError && e.exitCode === 2 && message.test(e.message);

describe('vendor CLI calls (argv, never a value in it)', () => {
  test('1Password: op read --no-newline of a secret reference', () => {
    assert.equal(opReference('DB_URL', 'app-prod/my_app'), 'op://app-prod/my_app/DB_URL');
    assert.equal(opReference('section/field', 'op://app-prod/my_app/'), 'op://app-prod/my_app/section/field');
    assert.equal(opReference('v/i/f'), 'op://v/i/f');
    assert.equal(opReference('op://other/item/f', 'app-prod/my_app'), 'op://other/item/f');
    assert.deepEqual(opReadArgv('op://v/i/f'), ['op', 'read', '--no-newline', 'op://v/i/f']);
    assert.deepEqual(opReadArgv('op://v/i/f', 'my.1password.com'), ['op', 'read', '--no-newline', '--account', 'my.1password.com', 'op://v/i/f']);
  });

  test('Bitwarden: status, sync and get item, never --session', () => {
    assert.deepEqual(bwStatusArgv(), ['bw', 'status', '--nointeraction']);
    assert.deepEqual(bwSyncArgv(), ['bw', 'sync', '--nointeraction']);
    assert.deepEqual(bwGetItemArgv('my item'), ['bw', 'get', 'item', 'my item', '--nointeraction']);
    assert.deepEqual(bwItemField('F', 'item'), { item: 'item', field: 'F' });
    assert.deepEqual(bwItemField('a/b/F'), { item: 'a/b', field: 'F' });
    assert.deepEqual(bwItemField('item'), { item: 'item' });
  });

  test('Bitwarden Secrets Manager, AWS, GCP, Doppler, LastPass, command', () => {
    assert.deepEqual(bwsGetArgv('id'), ['bws', 'secret', 'get', 'id', '--output', 'json']);
    assert.deepEqual(bwsListArgv(), ['bws', 'secret', 'list', '--output', 'json']);
    assert.deepEqual(bwsListArgv('p'), ['bws', 'secret', 'list', 'p', '--output', 'json']);
    assert.deepEqual(awsGetSecretArgv('my_app/prod'), ['aws', 'secretsmanager', 'get-secret-value', '--secret-id', 'my_app/prod', '--output', 'json']);
    assert.deepEqual(awsGetSecretArgv('s', 'prod'), ['aws', 'secretsmanager', 'get-secret-value', '--secret-id', 's', '--output', 'json', '--profile', 'prod']);
    assert.deepEqual(awsSecretKey('K', 'my_app/prod'), { secret: 'my_app/prod', jsonKey: 'K' });
    assert.deepEqual(awsSecretKey('my_app/prod#K'), { secret: 'my_app/prod', jsonKey: 'K' });
    assert.deepEqual(awsSecretKey('my_app/prod'), { secret: 'my_app/prod' });
    assert.deepEqual(gcloudAccessArgv('db-url', 'latest'), ['gcloud', 'secrets', 'versions', 'access', 'latest', '--secret=db-url', '--format=json']);
    assert.deepEqual(gcloudAccessArgv('db-url', '3', 'proj', 'me@example.com'), [
      'gcloud',
      'secrets',
      'versions',
      'access',
      '3',
      '--secret=db-url',
      '--project=proj',
      '--account=me@example.com',
      '--format=json',
    ]);
    assert.deepEqual(dopplerGetArgv(['A', 'B']), ['doppler', 'secrets', 'get', 'A', 'B', '--json', '--no-check-version']);
    assert.deepEqual(dopplerGetArgv(['A'], 'p', 'c'), ['doppler', 'secrets', 'get', 'A', '--json', '--no-check-version', '--project', 'p', '--config', 'c']);
    assert.deepEqual(lpassStatusArgv(), ['lpass', 'status', '--color=never']);
    assert.deepEqual(lpassShowArgv(['Prod/A', 'B']), ['lpass', 'show', '--json', 'Prod/A', 'B']);
    assert.equal(lpassName('A', 'Prod/'), 'Prod/A');
    assert.deepEqual(commandArgv('sops -d x'), ['/bin/sh', '-c', 'sops -d x']);
  });

  test('every adapter is documented in docs/secrets.md, with a link to its CLI', () => {
    const doc = readFileSync(path.join(REPO_ROOT, 'docs', 'secrets.md'), 'utf8');
    assert.equal(new Set(SECRET_ADAPTERS.map((a) => a.name)).size, SECRET_ADAPTERS.length);
    for (const a of SECRET_ADAPTERS) {
      assert.match(doc, new RegExp(`\\| \`${a.name}\` \\|`), `${a.name} in docs/secrets.md's table`);
      if (a.name !== 'command') assert.ok(doc.includes(a.docs), `${a.docs} in docs/secrets.md`);
    }
  });
});

describe('the fetch request', () => {
  test('KEY or KEY=REF; with no KEY, env.secret and secrets_from.keys; flags over secrets_from of the same adapter', () => {
    const c = config({ secrets_from: { adapter: 'doppler', from: 'my_app/prd', keys: { DATABASE_URL: 'PG_URL', EXTRA: 'X' } } });
    const all = fetchPlan({}, [], c);
    assert.equal(all.adapter.name, 'doppler');
    assert.deepEqual(all.request, {
      refs: [
        { key: 'SECRET_KEY_BASE', ref: 'SECRET_KEY_BASE' },
        { key: 'DATABASE_URL', ref: 'PG_URL' },
        { key: 'EXTRA', ref: 'X' },
      ],
      account: undefined,
      from: 'my_app/prd',
      command: undefined,
    });
    const narrowed = fetchPlan({ from: 'my_app/stg' }, ['DATABASE_URL', 'A=B=C'], c);
    assert.deepEqual(narrowed.request.refs, [
      { key: 'DATABASE_URL', ref: 'PG_URL' },
      { key: 'A', ref: 'B=C' },
    ]);
    assert.equal(narrowed.request.from, 'my_app/stg');
    // another adapter than deploy.yml's: none of its settings apply
    const other = fetchPlan({ adapter: 'aws' }, ['DATABASE_URL'], c);
    assert.deepEqual(other.request, { refs: [{ key: 'DATABASE_URL', ref: 'DATABASE_URL' }], account: undefined, from: undefined, command: undefined });
    const pg = config({
      accessories: { postgresql: { volume: '/var/db/pg:/var/db/postgres', user: 'my_app', password_secret: 'PG_PASS', database: 'my_app' } },
    });
    assert.deepEqual(
      fetchPlan({ adapter: 'doppler' }, [], pg).request.refs.map((r) => r.key),
      ['SECRET_KEY_BASE', 'DATABASE_URL', 'PG_PASS'],
    );
  });

  test('refused with exit 2 before any CLI runs', () => {
    assert.throws(
      () => fetchPlan({ adapter: 'vault' }, ['A']),
      exit2(/unknown secret adapter "vault": expected one of 1password, bitwarden, bitwarden-sm, aws, gcp, doppler, lastpass, command/),
    );
    assert.throws(() => fetchPlan({}, ['A']), exit2(/name the vault: --adapter NAME/));
    assert.throws(() => fetchPlan({ adapter: 'aws' }, []), exit2(/nothing to fetch/));
    assert.throws(() => fetchPlan({ adapter: 'aws' }, ['A=-x']), exit2(/may not start with "-"/));
    assert.throws(() => fetchPlan({ adapter: 'aws' }, ['A=x\ny']), exit2(/control characters/));
    assert.throws(() => fetchPlan({ adapter: 'aws' }, ['A=']), exit2(/A: an empty reference/));
    assert.throws(() => fetchPlan({ adapter: 'bitwarden-sm', account: 'x' }, ['A']), exit2(/takes no --account/));
    assert.throws(() => fetchPlan({ adapter: 'aws', command: 'x' }, ['A']), exit2(/--command is for --adapter command/));
  });

  test('secrets_from in deploy.yml: a known adapter; command with the command adapter only', () => {
    assert.throws(() => config({ secrets_from: { adapter: 'keepass' } }), /one of 1password, bitwarden/);
    assert.throws(() => config({ secrets_from: { adapter: 'aws', command: 'x' } }), /no command with adapter: aws/);
    assert.throws(() => config({ secrets_from: { adapter: 'command' } }), /a command line \(adapter: command runs it\)/);
    assert.throws(() => config({ secrets_from: { adapter: 'aws', keys: { 'bad-name': 'x' } } }));
    assert.equal(config().secrets_from, undefined);
  });
});

describe('reading and merging', () => {
  test('values from every call before any is returned; a failed call says why and how to sign in', () => {
    const plan = fetchPlan({ adapter: '1password', from: 'v/i' }, ['A', 'B']);
    const ok = fakeRun({ 'op read --no-newline op://v/i/A': 'a\n', 'op read --no-newline op://v/i/B': '' });
    assert.deepEqual(vaultReader(plan)(ok.run), { A: 'a\n', B: '' });
    const signedOut = fakeRun({
      'op read --no-newline op://v/i/A': 'a',
      'op read --no-newline op://v/i/B': {
        status: 1,
        stderr: '[ERROR] 2026/11/30 03:00:00 You are not currently signed in. Please run `op signin --help` for instructions\n',
      },
    });
    assert.throws(
      () => vaultReader(plan)(signedOut.run),
      (e: unknown) =>
        e instanceof UserError &&
        e.exitCode === 1 &&
        /1Password: `op read --no-newline op:\/\/v\/i\/B` failed \(exit 1\):\n {2}\[ERROR\] .* You are not currently signed in/.test(e.message) &&
        /eval \$\(op signin\)/.test(e.hint ?? ''),
    );
  });

  test('bytes that are not UTF-8 are refused, a BOM is kept', () => {
    const plan = fetchPlan({ adapter: '1password', from: 'v/i' }, ['A']);
    const bytes = (b: number[]) => () => ({ status: 0, stdout: Buffer.from(b), stderr: '' });
    assert.throws(() => vaultReader(plan)(bytes([0x61, 0xff])), /is not UTF-8 text/);
    assert.deepEqual(vaultReader(plan)(bytes([0xef, 0xbb, 0xbf, 0x41])), { A: '\ufeffA' });
  });

  test('merge keeps the other keys and comments, and names what changes', () => {
    const m = mergeSecrets('# mine\nA: "1"\nB: two\n', { A: '1', B: 'zwei', C: ' c\n' });
    assert.deepEqual([m.changed, m.unchanged], [['B', 'C'], ['A']]);
    assert.match(m.text, /^# mine\n/);
  });
});
