// `alcaide secrets fetch` against stand-ins of each vault's CLI (test/fixtures/vault-clis: the
// vendor's argv, output format, messages and exit codes), put first on PATH: values arrive byte
// for byte in the encrypted file, none is ever on a command line or in a plaintext file, and a
// missing CLI, a signed-out vault or a missing item changes nothing.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { SecretsStore } from '../../src/config/secrets';
import { runCli, tempProject, type CliResult } from '../helpers/cli';
import { REPO_ROOT } from '../helpers/paths';

const CLIS = path.join(REPO_ROOT, 'test', 'fixtures', 'vault-clis');

/** Values that break naive handling: newlines (a trailing one too), quotes, unicode, `=`, spaces, empty, shell. */
const VALUES: Record<string, string> = {
  MULTI_LINE: '-----BEGIN KEY-----\nline two\n\nlast line\n',
  QUOTES: `it's "double" \\ 'single'`,
  UNICODE: 'ünïcødé 🔑 日本語',
  EQUALS: 'a=b==c=',
  SPACES: '  leading and trailing  ',
  EMPTY: '',
  SHELL: '$(touch /tmp/alcaide-pwned) `id`; x | y && z > /dev/null',
  DASHES: '--help -n',
  CRLF_TAB: 'tab\there\r\nnext',
};
const KEYS = Object.keys(VALUES);
const DISTINCT = Object.values(VALUES).filter((v) => v.length >= 4);

const project = tempProject('alcaide-fetch-');
after(project.cleanup);
let n = 0;

interface Rig {
  dir: string;
  env: NodeJS.ProcessEnv;
  log: string;
  tmp: string;
  data: string;
  fetch: (args: string[], extra?: NodeJS.ProcessEnv) => CliResult;
  file: (dest?: string) => string;
  read: (dest?: string) => Record<string, string>;
}

/** A project with a secrets file, the vault data the stand-ins read, and an argv log. */
function rig(vault: Record<string, unknown>, opts: { config?: string; destinations?: string[] } = {}): Rig {
  const base = path.join(project.dir, `r${n++}`);
  const dir = path.join(base, 'project');
  const tmp = path.join(base, 'tmp');
  mkdirSync(dir, { recursive: true });
  mkdirSync(tmp);
  const data = path.join(base, 'vault.json');
  const log = path.join(base, 'argv.log');
  writeFileSync(data, JSON.stringify(vault));
  if (opts.config) writeFileSync(path.join(dir, 'deploy.yml'), opts.config);
  const env: NodeJS.ProcessEnv = {
    PATH: `${CLIS}:${process.env.PATH}`,
    VAULT_DATA: data,
    VAULT_CLI_LOG: log,
    TMPDIR: tmp,
    ALCAIDE_MASTER_KEY: '',
    // the machine's own vault sessions stay out of the test
    BW_SESSION: undefined,
    BWS_ACCESS_TOKEN: undefined,
    DOPPLER_TOKEN: undefined,
    OP_SERVICE_ACCOUNT_TOKEN: undefined,
    AWS_PROFILE: undefined,
  };
  for (const d of [undefined, ...(opts.destinations ?? [])]) {
    const init = runCli([...(d ? ['-d', d] : []), 'secrets', 'init'], { cwd: dir, env });
    assert.equal(init.code, 0, init.stderr);
  }
  const file = (dest?: string) => readFileSync(path.join(dir, '.alcaide', dest ? `secrets.${dest}.enc` : 'secrets.enc'), 'utf8');
  return {
    dir,
    env,
    log,
    tmp,
    data,
    file,
    read: (dest) => new SecretsStore(dir, dest, {}).read(),
    fetch: (args, extra) => runCli(['secrets', 'fetch', ...args], { cwd: dir, env: { ...env, ...extra } }),
  };
}

function argvLogged(r: Rig): string[][] {
  let text = '';
  try {
    text = readFileSync(r.log, 'utf8');
  } catch {
    return [];
  }
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const e = JSON.parse(l) as { cli: string; argv: string[] };
      return [e.cli, ...e.argv];
    });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

/** No value on any command line the stand-ins saw, in the CLI's output, or in any file of the project or TMPDIR. */
function assertNoPlaintext(r: Rig, result: CliResult, values: string[] = DISTINCT): void {
  const argv = argvLogged(r);
  assert.ok(argv.length > 0, 'the vault CLI ran');
  for (const v of values) {
    for (const call of argv) assert.ok(!call.some((a) => a.includes(v)), `${JSON.stringify(v)} on the command line ${JSON.stringify(call)}`);
    assert.ok(!result.stdout.includes(v) && !result.stderr.includes(v), `${JSON.stringify(v)} printed`);
    for (const f of filesUnder(r.dir)) assert.ok(!readFileSync(f, 'utf8').includes(v), `${JSON.stringify(v)} in ${f}`);
  }
  assert.deepEqual(readdirSync(r.tmp), [], 'nothing left in TMPDIR');
  for (const f of readdirSync(path.join(r.dir, '.alcaide')))
    assert.match(f, /^(master\.key|secrets(\.[a-z0-9_-]+)?\.enc)$/, 'no other file beside the key and the encrypted files');
}

interface VaultCase {
  adapter: string;
  cli: string;
  title: string;
  /** the vault holding VALUES (and what `extra` names) */
  vault: () => Record<string, unknown>;
  /** the arguments that fetch every key of VALUES */
  args: string[];
  /** the arguments of one KEY=REF in another form (another name, no --from), and its value */
  extraArgs: string[];
  extra: { key: string; value: string };
  /** the vault signed out (or locked), and what the stand-in then says */
  signedOut: (v: Record<string, unknown>) => void;
  signedOutMessage: RegExp;
  /** arguments naming a secret the vault does not hold (after one it does) */
  missing: string[];
  missingMessage: RegExp;
}

const PROJECT_ID = 'e325ea69-a3ab-4dff-836f-b02e013fe530';
const uuid = (i: number) => `0b6d9a3c-1f2e-4a5b-9c8d-${String(i).padStart(12, '0')}`;

const CASES: VaultCase[] = [
  {
    adapter: '1password',
    cli: 'op',
    title: '1Password',
    vault: () => ({
      op: { signed_in: true, accounts: ['my.1password.com'], vaults: { 'app-prod': { my_app: { ...VALUES }, db: { url: 'postgres://u:p@db/x?a=1' } } } },
    }),
    args: ['--account', 'my.1password.com', '--from', 'app-prod/my_app', ...KEYS],
    extraArgs: ['DATABASE_URL=app-prod/db/url'],
    extra: { key: 'DATABASE_URL', value: 'postgres://u:p@db/x?a=1' },
    signedOut: (v) => ((v.op as Record<string, unknown>).signed_in = false),
    signedOutMessage: /You are not currently signed in/,
    missing: ['--from', 'app-prod/my_app', 'QUOTES', 'NOPE'],
    missingMessage: /item 'app-prod\/my_app' does not have a field 'NOPE'/,
  },
  {
    adapter: 'bitwarden',
    cli: 'bw',
    title: 'Bitwarden',
    vault: () => ({
      bw: {
        status: 'unlocked',
        session: 'bw-session-key-xyz',
        email: 'ops@example.com',
        items: [
          {
            object: 'item',
            id: uuid(1),
            type: 1,
            name: 'my_app prod',
            notes: null,
            fields: KEYS.map((k) => ({ name: k, value: VALUES[k], type: 1, linkedId: null })),
            login: { uris: [], username: 'deploy', password: 'login pass wörd', totp: null },
          },
        ],
      },
    }),
    args: ['--account', 'ops@example.com', '--from', 'my_app prod', ...KEYS],
    extraArgs: ['ADMIN_PASSWORD=my_app prod/password'],
    extra: { key: 'ADMIN_PASSWORD', value: 'login pass wörd' },
    signedOut: (v) => ((v.bw as Record<string, unknown>).session = 'another-session'),
    signedOutMessage: /the vault is locked/,
    missing: ['--from', 'my_app prod', 'QUOTES', 'NOPE'],
    missingMessage: /item "my_app prod" has no field "NOPE"/,
  },
  {
    adapter: 'bitwarden-sm',
    cli: 'bws',
    title: 'Bitwarden Secrets Manager',
    vault: () => ({
      bws: {
        token: '0.machine-token.xyz',
        secrets: [
          ...KEYS.map((k, i) => ({ object: 'secret', id: uuid(i + 10), organizationId: uuid(99), projectId: PROJECT_ID, key: k, value: VALUES[k], note: '' })),
          { object: 'secret', id: uuid(50), organizationId: uuid(99), projectId: uuid(98), key: 'OTHER', value: 'by id ☂', note: '' },
        ],
      },
    }),
    args: ['--from', PROJECT_ID, ...KEYS],
    extraArgs: [`BY_ID=${uuid(50)}`],
    extra: { key: 'BY_ID', value: 'by id ☂' },
    signedOut: (v) => ((v.bws as Record<string, unknown>).token = 'rotated'),
    signedOutMessage: /invalid_client/,
    missing: ['--from', PROJECT_ID, 'QUOTES', 'NOPE'],
    missingMessage: /no secret named NOPE in project/,
  },
  {
    adapter: 'aws',
    cli: 'aws',
    title: 'AWS Secrets Manager',
    vault: () => ({
      aws: { credentials: true, profiles: ['default', 'prod'], secrets: { 'my_app/prod': JSON.stringify(VALUES), 'my_app/raw-key': 'whole\nsecret string\n' } },
    }),
    args: ['--account', 'prod', '--from', 'my_app/prod', ...KEYS],
    extraArgs: ['RAW_KEY=my_app/raw-key'],
    extra: { key: 'RAW_KEY', value: 'whole\nsecret string\n' },
    signedOut: (v) => ((v.aws as Record<string, unknown>).credentials = false),
    signedOutMessage: /Unable to locate credentials/,
    missing: ['QUOTES=my_app/prod#QUOTES', 'NOPE=my_app/nope'],
    missingMessage: /ResourceNotFoundException/,
  },
  {
    adapter: 'gcp',
    cli: 'gcloud',
    title: 'Google Cloud Secret Manager',
    vault: () => ({
      gcloud: {
        account: 'ops@example.com',
        accounts: ['ops@example.com'],
        project: 'default-project',
        secrets: { 'my-project': { ...Object.fromEntries(KEYS.map((k) => [k.toLowerCase(), ['old', VALUES[k]]])), 'db-url': ['v1 ✓', 'v2'] } },
      },
    }),
    args: ['--from', 'my-project', ...KEYS.map((k) => `${k}=${k.toLowerCase()}`)],
    extraArgs: ['--from', 'my-project', 'PINNED=db-url/1'],
    extra: { key: 'PINNED', value: 'v1 ✓' },
    signedOut: (v) => ((v.gcloud as Record<string, unknown>).account = null),
    signedOutMessage: /You do not currently have an active account selected/,
    missing: ['--from', 'my-project', 'QUOTES=quotes', 'NOPE=nope'],
    missingMessage: /NOT_FOUND: Secret \[projects\/my-project\/secrets\/nope\] not found or has no versions/,
  },
  {
    adapter: 'doppler',
    cli: 'doppler',
    title: 'Doppler',
    vault: () => ({ doppler: { logged_in: true, configs: { 'my_app/prd': { ...VALUES, PG_URL: 'postgres://doppler' } } } }),
    args: ['--from', 'my_app/prd', ...KEYS],
    extraArgs: ['--from', 'my_app/prd', 'DATABASE_URL=PG_URL'],
    extra: { key: 'DATABASE_URL', value: 'postgres://doppler' },
    signedOut: (v) => ((v.doppler as Record<string, unknown>).logged_in = false),
    signedOutMessage: /you must provide a token/,
    missing: ['--from', 'my_app/prd', 'QUOTES', 'NOPE'],
    missingMessage: /Could not find requested secret: NOPE/,
  },
  {
    adapter: 'lastpass',
    cli: 'lpass',
    title: 'LastPass',
    vault: () => ({
      lpass: {
        email: 'ops@example.com',
        entries: [
          ...KEYS.map((k, i) => ({
            id: String(1000 + i),
            name: k,
            fullname: `Prod/${k}`,
            username: '',
            password: VALUES[k],
            group: 'Prod',
            url: '',
            note: '',
          })),
          { id: '2000', name: 'admin', fullname: 'Shared-Ops/admin', username: 'root', password: 'lp ädmin', group: 'Shared-Ops', url: '', note: '' },
        ],
      },
    }),
    args: ['--account', 'ops@example.com', '--from', 'Prod', ...KEYS],
    extraArgs: ['ADMIN=Shared-Ops/admin'],
    extra: { key: 'ADMIN', value: 'lp ädmin' },
    signedOut: (v) => ((v.lpass as Record<string, unknown>).email = null),
    signedOutMessage: /LastPass: lpass is not logged in \(`lpass status`: Not logged in\.\)/,
    missing: ['--from', 'Prod', 'QUOTES', 'NOPE'],
    missingMessage: /Could not find specified account\(s\)/,
  },
  {
    adapter: 'command',
    cli: 'vault-json',
    title: 'the secrets command',
    vault: () => ({ 'vault-json': { values: { ...VALUES, 'db.url': 'from the command', PORT: 5432 } } }),
    args: ['--command', 'vault-json --env prod', ...KEYS],
    extraArgs: ['--command', 'vault-json', 'DATABASE_URL=db.url'],
    extra: { key: 'DATABASE_URL', value: 'from the command' },
    signedOut: (v) => ((v['vault-json'] as Record<string, unknown>).fail = ['vault-json: not signed in to the vault', 3]),
    signedOutMessage: /vault-json: not signed in to the vault/,
    missing: ['--command', 'vault-json', 'QUOTES', 'NOPE'],
    missingMessage: /the secrets command printed no NOPE/,
  },
];

const SESSION_ENV: Record<string, NodeJS.ProcessEnv> = {
  bitwarden: { BW_SESSION: 'bw-session-key-xyz' },
  'bitwarden-sm': { BWS_ACCESS_TOKEN: '0.machine-token.xyz' },
};

describe('secrets fetch through each vault CLI', () => {
  for (const c of CASES) {
    test(`${c.adapter}: every value byte for byte in the encrypted file, none on a command line or in plaintext`, () => {
      const r = rig(c.vault());
      const env = SESSION_ENV[c.adapter];
      const res = r.fetch(['--adapter', c.adapter, ...c.args], env);
      assert.equal(res.code, 0, res.stderr);
      assert.deepEqual(r.read(), VALUES);
      for (const k of KEYS) assert.match(res.stdout, new RegExp(`✓ ${k} set from ${c.title}`));
      assertNoPlaintext(r, res);
      for (const s of Object.values(env ?? {}))
        assert.ok(!argvLogged(r).some((call) => call.some((a) => a.includes(s!))), 'the session token is not on a command line');

      const extra = r.fetch(['--adapter', c.adapter, ...c.extraArgs], env);
      assert.equal(extra.code, 0, extra.stderr);
      assert.deepEqual(r.read(), { ...VALUES, [c.extra.key]: c.extra.value });
      assertNoPlaintext(r, extra, [...DISTINCT, c.extra.value]);
      // the same values again: the file is not rewritten
      const before = r.file();
      const again = r.fetch(['--adapter', c.adapter, ...c.args], env);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /already holds these values; not written/);
      assert.equal(r.file(), before);
    });

    test(`${c.adapter}: signed out, a missing secret, the CLI missing: a clear error and the file unchanged`, () => {
      const vault = c.vault();
      const r = rig(vault);
      const env = SESSION_ENV[c.adapter];
      const before = r.file();

      const missing = r.fetch(['--adapter', c.adapter, ...c.missing], env);
      assert.equal(missing.code, 1, missing.stderr);
      assert.match(missing.stderr, c.missingMessage);
      assert.match(missing.stderr, /nothing changed in \.alcaide\/secrets\.enc/);
      assert.equal(r.file(), before, 'the first value was read, yet nothing was written');

      c.signedOut(vault);
      writeFileSync(r.data, JSON.stringify(vault));
      const out = r.fetch(['--adapter', c.adapter, ...c.args], env);
      assert.equal(out.code, 1, out.stderr);
      assert.match(out.stderr, c.signedOutMessage);
      if (c.adapter !== 'command') assert.match(out.stderr, /hint: .*(sign in|login|BW_SESSION|BWS_ACCESS_TOKEN)/i);
      assert.equal(r.file(), before);

      const empty = path.join(project.dir, 'empty-path');
      mkdirSync(empty, { recursive: true });
      const gone = r.fetch(['--adapter', c.adapter, ...c.args], { ...env, PATH: empty });
      assert.equal(gone.code, 1, gone.stderr);
      if (c.adapter === 'command') assert.match(gone.stderr, /vault-json: not found|No such file/);
      else {
        assert.match(gone.stderr, new RegExp(`error: ${c.cli} \\(the ${c.title} CLI\\) is not installed or not on PATH`));
        assert.match(gone.stderr, /hint: install it: https:\/\//);
      }
      assert.equal(r.file(), before);
      assert.deepEqual(readdirSync(r.tmp), []);
    });
  }
});

describe('secrets fetch: usage, dry run, deploy.yml', () => {
  const doppler = () => ({
    doppler: {
      logged_in: true,
      configs: { 'my_app/prd': { ...VALUES, PG_URL: 'pg-prd' }, 'my_app/stg': { SECRET_KEY_BASE: 'stg-skb', PG_URL: 'pg-stg' } } as Record<
        string,
        Record<string, string>
      >,
    },
  });

  test('an unknown adapter is exit 2 with the list, before anything runs', () => {
    const r = rig(doppler());
    const res = r.fetch(['--adapter', 'keepass', 'A']);
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /unknown secret adapter "keepass": expected one of 1password, bitwarden, bitwarden-sm, aws, gcp, doppler, lastpass, command/);
    assert.deepEqual(argvLogged(r), []);
  });

  test('bad names and references, and options an adapter does not take, are exit 2 before the vault CLI runs', () => {
    const r = rig(doppler());
    const cases: Array<[string[], RegExp]> = [
      [['--adapter', 'doppler', 'not-a-name'], /"not-a-name" is not a valid secret name/],
      [['--adapter', 'doppler', 'A=--token=x'], /a reference may not start with "-"/],
      [['--adapter', 'doppler', 'A=x', 'A=y'], /A is named twice/],
      [['--adapter', 'doppler', '--account', 'me', 'A'], /--adapter doppler takes no --account/],
      [['--adapter', 'doppler', '--from', 'only-project', 'A'], /--from: expected PROJECT\/CONFIG/],
      [['--adapter', 'command', 'A'], /name the command: --command CMD/],
      [['--adapter', '1password', 'A'], /expected VAULT\/ITEM\/FIELD/],
      [['--adapter', 'gcp', 'A=bad name'], /expected a secret NAME/],
      [['--adapter', 'bitwarden-sm', '--from', 'not-a-uuid', 'A'], /expected a project ID/],
      [['--adapter', 'doppler'], /deploy\.yml: file not found/],
      [['A'], /deploy\.yml: file not found/],
    ];
    for (const [args, message] of cases) {
      const res = r.fetch(args);
      assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
      assert.match(res.stderr, message, args.join(' '));
    }
    assert.deepEqual(argvLogged(r), []);
  });

  test('--dry-run reads every value and names what would change; nothing is written', () => {
    const r = rig(doppler());
    assert.equal(r.fetch(['--adapter', 'doppler', '--from', 'my_app/prd', 'QUOTES']).code, 0);
    const before = r.file();
    const res = r.fetch(['--adapter', 'doppler', '--from', 'my_app/prd', '--dry-run', 'QUOTES', 'UNICODE', 'DATABASE_URL=PG_URL']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /✓ UNICODE would be set from Doppler \(UNICODE\)/);
    assert.match(res.stdout, /✓ DATABASE_URL would be set from Doppler \(PG_URL\)/);
    assert.match(res.stdout, /· QUOTES unchanged/);
    assert.match(res.stdout, /--dry-run: \.alcaide\/secrets\.enc not written/);
    assert.equal(r.file(), before);
    assertNoPlaintext(r, res);
  });

  test('with no flags, secrets_from of deploy.yml (and of the destination) fetches every env.secret', () => {
    const config = `app: my_app
server:
  host: 203.0.113.10
env:
  secret: [SECRET_KEY_BASE, DATABASE_URL]
secrets_from:
  adapter: doppler
  from: my_app/prd
  keys:
    DATABASE_URL: PG_URL
    QUOTES: QUOTES
`;
    const vault = doppler();
    vault.doppler.configs['my_app/prd'] = { SECRET_KEY_BASE: 'skb\n', PG_URL: 'pg-prd', QUOTES: VALUES.QUOTES! };
    const r = rig(vault, { config, destinations: ['staging'] });
    writeFileSync(path.join(r.dir, 'deploy.staging.yml'), 'secrets_from:\n  from: my_app/stg\n  keys:\n    QUOTES: SECRET_KEY_BASE\n');
    const res = r.fetch([]);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(r.read(), { SECRET_KEY_BASE: 'skb\n', DATABASE_URL: 'pg-prd', QUOTES: VALUES.QUOTES });
    const staging = runCli(['-d', 'staging', 'secrets', 'fetch'], { cwd: r.dir, env: r.env });
    assert.equal(staging.code, 0, staging.stderr);
    assert.deepEqual(r.read('staging'), { SECRET_KEY_BASE: 'stg-skb', DATABASE_URL: 'pg-stg', QUOTES: 'stg-skb' });
    // a flag wins over deploy.yml; KEY arguments narrow the fetch
    const one = r.fetch(['--from', 'my_app/stg', 'DATABASE_URL']);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(r.read().DATABASE_URL, 'pg-stg');
    assert.equal(r.read().SECRET_KEY_BASE, 'skb\n');
    const argv = argvLogged(r);
    assert.deepEqual(argv[0], [
      'doppler',
      'secrets',
      'get',
      'SECRET_KEY_BASE',
      'PG_URL',
      'QUOTES',
      '--json',
      '--no-check-version',
      '--project',
      'my_app',
      '--config',
      'prd',
    ]);
  });

  test('a value with a NUL byte is refused with exit 2 and its name; nothing is written', () => {
    const r = rig({ 'vault-json': { values: { GOOD: 'fine', BAD: 'a\u0000b' } } });
    const before = r.file();
    const res = r.fetch(['--adapter', 'command', '--command', 'vault-json', 'GOOD', 'BAD']);
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /BAD: expected a value without a NUL byte/);
    assert.equal(r.file(), before);
  });
});
