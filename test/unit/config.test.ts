import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { camelize, deepMerge, loadConfig } from '../../src/config/load';
import { parseDuration } from '../../src/model/duration';
import { ConfigError } from '../../src/errors';
import { runCli, tempProject } from '../helpers/cli';
import { toAppTarget } from '../../src/config/target';
import { onHost } from '../../src/model/fleet';

const VALID = `app: my_app
server:
  host: 203.0.113.10
env:
  clear:
    PHX_HOST: example.com
  secret: [SECRET_KEY_BASE]
`;

const project = tempProject();
after(project.cleanup);

function writeProject(name: string, files: Record<string, string>): string {
  const dir = path.join(project.dir, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(path.join(dir, f), text);
  return dir;
}

describe('loadConfig', () => {
  test('fills defaults and derives slot addresses, release name and migrate expression', () => {
    const dir = writeProject('defaults', { 'deploy.yml': VALID });
    const c = loadConfig({ cwd: dir });
    assert.equal(c.app, 'my_app');
    assert.deepEqual(c.server, { host: '203.0.113.10', user: 'root', port: 22 });
    assert.equal(c.app_jail.base_path, '/usr/local/jails');
    assert.equal(c.app_jail.freebsd_version, '14.3-RELEASE');
    assert.equal(c.app_jail.port, 4000);
    assert.deepEqual(c.addresses, {
      host: '10.0.0.1',
      blue: '10.0.0.2',
      green: '10.0.0.3',
      db: '10.0.0.4',
      build: '10.0.0.5',
      buildNext: '10.0.0.6',
      blue6: 'fd00:a1ca:1de::a00:2',
      green6: 'fd00:a1ca:1de::a00:3',
    });
    assert.equal(c.release.name, 'my_app');
    assert.equal(c.release.migrate, 'MyApp.Release.migrate()');
    assert.equal(c.health_check.interval, 1000);
    assert.equal(c.health_check.timeout, 30_000);
    assert.equal(c.drain_timeout, 10_000);
    assert.equal(c.root, dir);
    assert.equal(c.destination, undefined);
  });

  test('-d DEST deep-merges deploy.DEST.yml: mappings merge, lists and scalars replace', () => {
    const dir = writeProject('dest', {
      'deploy.yml': `${VALID}network:\n  subnet: 10.9.0.0/24\n`,
      'deploy.staging.yml': 'server:\n  port: 2222\nenv:\n  secret: [OTHER]\nnetwork:\n  interface: lo2\n',
    });
    const c = loadConfig({ cwd: dir, destination: 'staging' });
    assert.deepEqual(c.server, { host: '203.0.113.10', user: 'root', port: 2222 });
    assert.deepEqual(c.env.secret, ['OTHER']);
    assert.deepEqual(c.env.clear, { PHX_HOST: 'example.com' });
    assert.deepEqual(c.network, { interface: 'lo2', subnet: '10.9.0.0/24' });
    assert.equal(c.addresses.green, '10.9.0.3');
    assert.equal(c.addresses.green6, 'fd00:a1ca:1de::a09:3', 'the IPv6 address embeds the IPv4 one: unique while subnets are');
    assert.equal(c.files.length, 2);
    assert.equal(c.destination, 'staging');
  });

  test('a destination with its own app name keeps the mix release: release.name names it, migrate follows', () => {
    const dir = writeProject('renamed', { 'deploy.yml': `${VALID}release:\n  name: my_app\n`, 'deploy.staging.yml': 'app: my_app_staging\n' });
    const c = loadConfig({ cwd: dir, destination: 'staging' });
    assert.equal(c.app, 'my_app_staging');
    assert.equal(c.release.name, 'my_app');
    assert.equal(c.release.migrate, 'MyApp.Release.migrate()');
  });

  test('a missing destination file is an error naming it', () => {
    const dir = writeProject('nodest', { 'deploy.yml': VALID });
    assert.throws(
      () => loadConfig({ cwd: dir, destination: 'prod' }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.match(e.message, /deploy\.prod\.yml: file not found \(destination "prod" needs it\)/);
        return true;
      },
    );
  });

  test('an empty section (everything under it commented out) counts as not set', () => {
    const dir = writeProject('empty-section', { 'deploy.yml': `${VALID}ssh:\n  # keys: []\n` });
    assert.deepEqual(loadConfig({ cwd: dir }).ssh.keys, []);
  });

  test('durations, camelize and merge helpers', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration(2), 2000);
    assert.equal(parseDuration('soon'), undefined);
    assert.equal(parseDuration(-1), undefined);
    assert.equal(camelize('my_app_web'), 'MyAppWeb');
    assert.deepEqual(deepMerge({ a: { b: 1, c: [1] } }, { a: { c: [2] } }), { a: { b: 1, c: [2] } });
  });
});

const FLEET = `app: my_app
servers:
  - host: web1.example.com
  - host: web2.example.com
    port: 2222
    labels: [eu]
  - host: jobs.example.com
roles:
  web:
    hosts: [web1.example.com, web2.example.com]
  worker:
    hosts: [jobs.example.com]
`;

const ROLE_CMD = 'one command line to run in the release directory, such as \'bin/my_app eval "MyApp.Worker.run()"\' (not empty, one line)';

/** Hosts and roles that do not fit together: each error names its key path and line. */
function fleetCases(): Array<{ name: string; yml: string; expect: string }> {
  return [
    {
      name: 'a server listed twice',
      yml: FLEET.replace('jobs.example.com\nroles', 'web1.example.com\nroles'),
      expect: 'deploy.yml:7: servers[2].host: expected each server once ("web1.example.com" is servers[0] too), got "web1.example.com"',
    },
    {
      name: 'server and servers both',
      yml: `${FLEET}server:\n  host: a.example.com\n`,
      expect:
        "servers: expected either server (one host) or servers (a list), not both (a destination file that lists servers drops the base file's with `server: null`), got a list (3 items)",
    },
    { name: 'servers empty', yml: 'app: my_app\nservers: []\n', expect: 'deploy.yml:2: servers: expected at least one server, got a list (0 items)' },
    {
      name: 'a role without hosts',
      yml: FLEET.replace('hosts: [jobs.example.com]', 'hosts: []'),
      expect: 'deploy.yml:12: roles.worker.hosts: expected at least one host named in servers, got a list (0 items)',
    },
    {
      name: 'a role naming a host not in servers',
      yml: FLEET.replace('hosts: [jobs.example.com]', 'hosts: [jobs.example.com, db.example.com]'),
      expect: 'roles.worker.hosts[1]: expected a host named in servers (web1.example.com, web2.example.com, jobs.example.com), got "db.example.com"',
    },
    {
      name: 'a server in no role',
      yml: FLEET.replace('  worker:\n    hosts: [jobs.example.com]\n', ''),
      expect: 'deploy.yml:7: servers[2]: expected a server in a role ("jobs.example.com" is in none of roles: web), got a mapping',
    },
    {
      name: 'roles without web',
      yml: FLEET.replace('  web:\n', '  www:\n'),
      expect: 'roles: expected a "web" role: the hosts Caddy serves the app from, got a mapping',
    },
    {
      name: 'unknown primary role',
      yml: `${FLEET}primary_role: db\n`,
      expect: 'deploy.yml:13: primary_role: expected one of the roles (web, worker), got "db"',
    },
    { name: 'build host not a server', yml: `${FLEET}build:\n  host: ci.example.com\n`, expect: 'build.host: expected a host named in servers' },
    {
      name: 'boot limit over 100%',
      yml: `${FLEET}boot:\n  limit: 150%\n`,
      expect: 'boot.limit: expected a number of hosts (integer >= 1, such as 2) or a share from 1% to 100%',
    },
    { name: 'boot prepare 0', yml: `${FLEET}boot:\n  prepare: 0\n`, expect: 'boot.prepare: expected a number of hosts (integer 1-100), got 0' },
    {
      name: 'boot limit 0',
      yml: `${FLEET}boot:\n  limit: 0\n`,
      expect: 'boot.limit: expected a number of hosts (integer >= 1, such as 2) or a share from 1% to 100%',
    },
    {
      name: 'a role cmd that is empty',
      yml: FLEET.replace('hosts: [jobs.example.com]', 'hosts: [jobs.example.com]\n    cmd: "  "'),
      expect: `deploy.yml:13: roles.worker.cmd: expected ${ROLE_CMD}, got "  "`,
    },
    {
      name: 'a role cmd of two lines',
      yml: FLEET.replace('hosts: [jobs.example.com]', 'hosts: [jobs.example.com]\n    cmd: "bin/my_app start\\nrm -rf /"'),
      expect: `roles.worker.cmd: expected ${ROLE_CMD}, got "bin/my_app start\\nrm -rf /"`,
    },
    {
      name: 'a role env name with a dash',
      yml: FLEET.replace('hosts: [jobs.example.com]', 'hosts: [jobs.example.com]\n    env:\n      MY-QUEUE: mail'),
      expect: 'roles.worker.env',
    },
    {
      name: 'a role env naming a secret',
      yml: `${FLEET.replace('hosts: [jobs.example.com]', 'hosts: [jobs.example.com]\n    env:\n      SECRET_KEY_BASE: x')}env:\n  secret: [SECRET_KEY_BASE]\n`,
      expect:
        'deploy.yml:14: roles.worker.env.SECRET_KEY_BASE: expected a name not in env.secret ("SECRET_KEY_BASE" is a secret, the same on every host), got "x"',
    },
    {
      name: 'a host in two roles that set cmd or env',
      yml: `${FLEET.replace('hosts: [jobs.example.com]', 'hosts: [jobs.example.com]\n    cmd: bin/my_app eval "MyApp.Worker.run()"')}  mailer:\n    hosts: [jobs.example.com]\n    env:\n      QUEUES: mail\n`,
      expect:
        'deploy.yml:15: roles.mailer.hosts[0]: expected a host in one role with cmd or env at most: a host runs one command ("jobs.example.com" is in worker and mailer, both set cmd or env), got "jobs.example.com"',
    },
    {
      name: "a web host in another role's cmd",
      yml: FLEET.replace('hosts: [jobs.example.com]', 'hosts: [jobs.example.com, web2.example.com]\n    cmd: bin/my_app eval "MyApp.Worker.run()"'),
      expect:
        'roles.worker.hosts[1]: expected a host outside the web role: worker sets cmd, and "web2.example.com" is a web host, whose release serves the app through its Caddy, got "web2.example.com"',
    },
    {
      name: 'a label with a space',
      yml: FLEET.replace('[eu]', '["e u"]'),
      expect: 'servers[1].labels[0]: expected a label (lowercase letters, digits, "_", "-"), got "e u"',
    },
  ];
}

describe('a fleet: servers and roles', () => {
  test("each server with its roles; one-host commands act on the primary role's first host", () => {
    const dir = writeProject('fleet', { 'deploy.yml': `${FLEET}primary_role: worker\nboot:\n  limit: 50%\n  wait: 5s\n` });
    const c = loadConfig({ cwd: dir });
    assert.deepEqual(
      c.hosts.map((h) => [h.host, h.port, h.labels.join(','), h.roles.join(',')]),
      [
        ['web1.example.com', 22, '', 'web'],
        ['web2.example.com', 2222, 'eu', 'web'],
        ['jobs.example.com', 22, '', 'worker'],
      ],
    );
    assert.deepEqual(c.server, { host: 'jobs.example.com', user: 'root', port: 22 });
    const t = toAppTarget(c);
    assert.equal(t.fleet?.buildHost, 'jobs.example.com');
    assert.deepEqual(t.fleet?.boot, { limit: { percent: 50 }, waitMs: 5000, prepareAtOnce: 10 });
  });

  test('without roles every server is a web host; a single server is no fleet', () => {
    const dir = writeProject('fleet-plain', {
      'deploy.yml': 'app: my_app\nservers:\n  - host: a.example.com\n  - host: b.example.com\nbuild:\n  host: b.example.com\n',
    });
    const c = loadConfig({ cwd: dir });
    assert.deepEqual(
      c.hosts.map((h) => h.roles),
      [['web'], ['web']],
    );
    assert.equal(toAppTarget(c).fleet?.buildHost, 'b.example.com');
    assert.equal(toAppTarget(c).fleet?.hosts.length, 2);
    const one = loadConfig({ cwd: writeProject('fleet-one', { 'deploy.yml': VALID }) });
    assert.deepEqual(one.hosts, [{ host: '203.0.113.10', user: 'root', port: 22, labels: [], roles: ['web'] }]);
    assert.equal(toAppTarget(one).fleet, undefined);
  });

  test("a role's cmd and env reach its hosts and each host's target; a web host's target is as before", () => {
    const yml = FLEET.replace(
      'hosts: [jobs.example.com]',
      'hosts: [jobs.example.com]\n    cmd: bin/my_app eval "MyApp.Worker.run()"\n    env:\n      QUEUES: mail\n      SEATS: 3',
    );
    const c = loadConfig({ cwd: writeProject('fleet-cmd', { 'deploy.yml': yml }) });
    const jobs = c.hosts.find((h) => h.host === 'jobs.example.com')!;
    assert.equal(jobs.cmd, 'bin/my_app eval "MyApp.Worker.run()"');
    assert.deepEqual(jobs.env, { QUEUES: 'mail', SEATS: '3' });
    const t = toAppTarget(c);
    assert.equal(t.hostRun, undefined, "the fleet's own target is no host's");
    assert.deepEqual(onHost(t, jobs).hostRun, { web: false, cmd: 'bin/my_app eval "MyApp.Worker.run()"', env: { QUEUES: 'mail', SEATS: '3' } });
    assert.equal(onHost(t, c.hosts[0]!).hostRun, undefined);
    // one server whose web role sets its own environment
    const one = loadConfig({ cwd: writeProject('one-env', { 'deploy.yml': `${VALID}roles:\n  web:\n    hosts: [203.0.113.10]\n    env:\n      POOL: 5\n` }) });
    assert.deepEqual(toAppTarget(one).hostRun, { web: true, env: { POOL: '5' } });
    assert.equal(toAppTarget(one).fleet, undefined);
  });

  test('a destination file swaps one server for a fleet with server: null', () => {
    const dir = writeProject('fleet-dest', {
      'deploy.yml': VALID,
      'deploy.prod.yml': 'server: null\nservers:\n  - host: a.example.com\n  - host: b.example.com\n',
    });
    assert.deepEqual(
      loadConfig({ cwd: dir, destination: 'prod' }).hosts.map((h) => h.host),
      ['a.example.com', 'b.example.com'],
    );
  });
});

// Each bad input: what to write, and the exact line the CLI must print for it.
const BAD: Array<{ name: string; yml: string; expect: string | RegExp }> = [
  {
    name: 'app with capitals',
    yml: VALID.replace('my_app', 'MyApp'),
    expect: 'deploy.yml:1: app: expected the mix app name: lowercase letters, digits and "_", starting with a letter, at most 30 characters, got "MyApp"',
  },
  { name: 'app with a shell metacharacter', yml: VALID.replace('my_app', '"a;rm -rf /"'), expect: 'app: expected the mix app name' },
  { name: 'app missing', yml: VALID.replace('app: my_app\n', ''), expect: 'app: expected an app name, it is missing' },
  {
    name: 'server missing',
    yml: 'app: my_app\n',
    expect: 'server: expected a mapping with host, user and port (or `servers:`, a list of them), it is missing',
  },
  { name: 'typo in a key', yml: VALID.replace('host:', 'hots:'), expect: 'deploy.yml:3: server.hots: unknown key (did you mean "host"?)' },
  {
    name: 'port out of range',
    yml: `${VALID.replace('server:\n', 'server:\n  port: 70000\n')}`,
    expect: 'deploy.yml:3: server.port: expected a port number (integer 1-65535), got 70000',
  },
  {
    name: 'port as a string',
    yml: `${VALID.replace('server:\n', 'server:\n  port: "22"\n')}`,
    expect: 'server.port: expected a port number (integer 1-65535), got "22"',
  },
  { name: 'host with a space', yml: VALID.replace('203.0.113.10', '"bad host"'), expect: 'server.host: expected a hostname or IP address, got "bad host"' },
  {
    name: 'FreeBSD 13',
    yml: `${VALID}app_jail:\n  freebsd_version: 13.2-RELEASE\n`,
    expect: 'deploy.yml:9: app_jail.freebsd_version: expected FreeBSD 14 or newer, such as "14.3-RELEASE", got "13.2-RELEASE"',
  },
  {
    name: 'relative base path',
    yml: `${VALID}app_jail:\n  base_path: jails\n`,
    expect: 'app_jail.base_path: expected an absolute path of letters, digits, ".", "_", "-" and "/", got "jails"',
  },
  {
    name: 'base path with ..',
    yml: `${VALID}app_jail:\n  base_path: /usr/../etc\n`,
    expect: 'app_jail.base_path: expected an absolute path of letters, digits, ".", "_", "-" and "/", without ".." segments, got "/usr/../etc"',
  },
  {
    name: 'subnet with host bits',
    yml: `${VALID}network:\n  subnet: 10.0.0.1/24\n`,
    expect:
      'network.subnet: expected an IPv4 network address in CIDR form with a prefix of /8 to /29, such as "10.0.0.0/24" (host bits zero), got "10.0.0.1/24"',
  },
  {
    name: 'bad env name',
    yml: VALID.replace('PHX_HOST:', '"PHX-HOST":'),
    expect: 'env.clear: "PHX-HOST" is not a valid name (expected letters, digits and "_", not starting with a digit)',
  },
  {
    name: 'env value is a list',
    yml: VALID.replace('PHX_HOST: example.com', 'PHX_HOST: [a, b]'),
    expect: 'env.clear.PHX_HOST: expected a string, number or boolean, got a list (2 items)',
  },
  {
    name: 'env value with a NUL byte',
    yml: VALID.replace('PHX_HOST: example.com', 'PHX_HOST: "exa\\0mple.com"'),
    expect: 'deploy.yml:6: env.clear.PHX_HOST: expected a value without a NUL byte (no environment variable can hold one), got "exa\\u0000mple.com"',
  },
  {
    name: 'secret name invalid',
    yml: VALID.replace('[SECRET_KEY_BASE]', '[SECRET_KEY_BASE, 1BAD]'),
    expect: 'env.secret[1]: expected a secret name (letters, digits, "_"; not starting with a digit), got "1BAD"',
  },
  {
    name: 'same name clear and secret',
    yml: VALID.replace('[SECRET_KEY_BASE]', '[PHX_HOST]'),
    expect: 'env.secret: expected each name in env.clear or env.secret, not both ("PHX_HOST" is in both)',
  },
  {
    name: 'duration without unit meaning',
    yml: `${VALID}drain_timeout: soon\n`,
    expect: 'deploy.yml:8: drain_timeout: expected a duration such as "500ms", "10s", "2m" or a number of seconds, got "soon"',
  },
  {
    name: 'a drain longer than one attempt of its activity',
    yml: `${VALID}drain_timeout: 2h\n`,
    expect: 'deploy.yml:8: drain_timeout: expected a duration up to 1h, got "2h"',
  },
  {
    name: 'health path not absolute',
    yml: `${VALID}health_check:\n  path: health\n`,
    expect: 'health_check.path: expected an HTTP path such as "/" or "/health", got "health"',
  },
  {
    name: 'migrate as a number',
    yml: `${VALID}release:\n  migrate: 3\n`,
    expect: 'release.migrate: expected an Elixir expression to eval, or false to skip migrations, got 3',
  },
  {
    name: 'postgres password in clear',
    yml: `${VALID}accessories:\n  postgresql:\n    volume: /var/db/pg:/var/db/postgres\n    user: app\n    password: hunter2\n    password_secret: PG\n    database: app\n`,
    expect:
      'accessories.postgresql.password: unknown key (passwords are secrets: store it with `alcaide secrets set POSTGRES_PASSWORD` and name it in accessories.postgresql.password_secret)',
  },
  {
    name: 'postgres volume not HOST:JAIL',
    yml: `${VALID}accessories:\n  postgresql:\n    volume: /var/db/pg\n    user: app\n    password_secret: PG\n    database: app\n`,
    expect: 'accessories.postgresql.volume: expected "HOST_PATH:JAIL_PATH", two absolute paths, got "/var/db/pg"',
  },
  { name: 'bad proxy_jump', yml: `${VALID}ssh:\n  proxy_jump: "a b"\n`, expect: 'ssh.proxy_jump: expected "[user@]host[:port]", got "a b"' },
  {
    name: 'tls cert without key',
    yml: `${VALID}temporal:\n  tls:\n    client_cert: /x.pem\n`,
    expect: 'temporal.tls: expected client_cert and client_key to be given together, got a mapping',
  },
  { name: 'unknown top-level key', yml: `${VALID}sever: {}\n`, expect: 'sever: unknown key (did you mean "server"?)' },
  ...fleetCases(),
  { name: 'YAML syntax error', yml: 'app: [unclosed\n', expect: /deploy\.yml:\d+:\d+: YAML syntax error: / },
  { name: 'duplicate key', yml: `${VALID}app: other\n`, expect: /deploy\.yml:\d+:\d+: YAML syntax error: Map keys must be unique/ },
  { name: 'top level is a list', yml: '- a\n- b\n', expect: 'deploy.yml: expected a mapping of settings (app, server, ...) at the top level, got a list' },
];

describe('alcaide config rejects bad input with the precise error and exit 2', () => {
  BAD.forEach((c, i) => {
    test(c.name, () => {
      const dir = writeProject(`bad-${i}`, { 'deploy.yml': c.yml });
      const r = runCli(['config'], { cwd: dir });
      assert.equal(r.code, 2, `exit code; stderr: ${r.stderr}`);
      assert.equal(r.stdout, '');
      if (typeof c.expect === 'string') assert.ok(r.stderr.includes(c.expect), `expected stderr to include:\n${c.expect}\ngot:\n${r.stderr}`);
      else assert.match(r.stderr, c.expect);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace for a user error');
    });
  });

  test('every problem is reported at once', () => {
    const dir = writeProject('many', { 'deploy.yml': 'app: Bad\nserver:\n  host: "x y"\n  port: 0\nextra: 1\n' });
    const r = runCli(['config'], { cwd: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /invalid configuration \(4 problems\)/);
    for (const key of ['app:', 'server.host:', 'server.port:', 'extra: unknown key']) assert.ok(r.stderr.includes(key), key);
  });

  test('setup --dry-run shows the plan, with the claim the destination would record and the NAT it would add', () => {
    const dir = writeProject('dry', { 'deploy.yml': `${VALID}network:\n  subnet: 10.7.0.0/24\n`, 'deploy.staging.yml': 'app: my_app_staging\n' });
    const r = runCli(['-d', 'staging', 'setup', '--dry-run'], { cwd: dir, env: { NO_COLOR: '1' } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Plan for my_app_staging on 203\.0\.113\.10 \(nothing is changed by --dry-run\):/);
    assert.match(
      r.stdout,
      /\/var\/db\/alcaide\/claims\.d\/my_app_staging\.staging\.claim: this app's jails, subnet, ports and site, refused if another app holds them/,
    );
    assert.match(r.stdout, /NAT for 10\.7\.0\.0\/24 \(and every other app's claimed subnet\)/);
  });

  test('a missing deploy.yml says how to create one', () => {
    const dir = writeProject('none', {});
    const r = runCli(['config'], { cwd: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /deploy\.yml: file not found \(run `alcaide init` to create one, or pass -c PATH\)/);
  });

  test('an invalid destination name is refused', () => {
    const dir = writeProject('badddest', { 'deploy.yml': VALID });
    const r = runCli(['-d', '../etc', 'config'], { cwd: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /destination: expected a name of lowercase letters/);
  });

  test('an error in the destination file points at that file', () => {
    const dir = writeProject('desterr', { 'deploy.yml': VALID, 'deploy.prod.yml': 'server:\n  port: -1\n' });
    const r = runCli(['-d', 'prod', 'config'], { cwd: dir });
    assert.equal(r.code, 2);
    assert.ok(r.stderr.includes('deploy.prod.yml:2: server.port: expected a port number (integer 1-65535), got -1'), r.stderr);
  });

  test('an unknown flag or command is a usage error, exit 2', () => {
    const dir = writeProject('flags', { 'deploy.yml': VALID });
    assert.equal(runCli(['config', '--nope'], { cwd: dir }).code, 2);
    assert.equal(runCli(['deplyo'], { cwd: dir }).code, 2);
  });
});

describe('alcaide config and init', () => {
  test('prints the merged config with secret values redacted, as YAML or JSON', () => {
    const dir = writeProject('show', { 'deploy.yml': VALID });
    const env = { ALCAIDE_MASTER_KEY: Buffer.alloc(32, 7).toString('base64') };
    assert.equal(runCli(['secrets', 'init'], { cwd: dir, env }).code, 0);
    assert.equal(runCli(['secrets', 'set', 'SECRET_KEY_BASE'], { cwd: dir, env, input: 'sup3r-s3cret' }).code, 0);
    const json = runCli(['config', '--json'], { cwd: dir, env });
    assert.equal(json.code, 0, json.stderr);
    const out = JSON.parse(json.stdout);
    assert.equal(out.app, 'my_app');
    assert.equal(out.drain_timeout, '10s');
    assert.deepEqual(out.secrets, { SECRET_KEY_BASE: '[redacted]' });
    assert.ok(!json.stdout.includes('sup3r-s3cret'));
    const yml = runCli(['config'], { cwd: dir, env });
    assert.match(yml.stdout, /^app: my_app$/m);
    assert.match(yml.stdout, /SECRET_KEY_BASE: "\[redacted\]"/);
    const noKey = runCli(['config', '--json'], { cwd: dir, env: { ALCAIDE_MASTER_KEY: Buffer.alloc(32, 8).toString('base64') } });
    assert.match(JSON.parse(noKey.stdout).secrets.SECRET_KEY_BASE, /^unknown \(cannot decrypt/);
  });

  test('init writes a deploy.yml that validates, reads the app from mix.exs, never overwrites', () => {
    const dir = writeProject('init', {
      'mix.exs': 'defmodule Shop.MixProject do\n  def project, do: [app: :shop, version: "0.1.0"]\nend\n',
      '.gitignore': '_build\n',
    });
    const r = runCli(['init', '--host', '198.51.100.7'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const cfg = runCli(['config', '--json'], { cwd: dir });
    assert.equal(cfg.code, 0, cfg.stderr);
    assert.equal(JSON.parse(cfg.stdout).app, 'shop');
    assert.equal(JSON.parse(cfg.stdout).server.host, '198.51.100.7');
    const again = runCli(['init'], { cwd: dir });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /deploy\.yml already exists; not overwriting it/);
    const gi = runCli(['init', '--app', 'x'], { cwd: writeProject('init2', {}) });
    assert.equal(gi.code, 0);
    assert.equal(
      readFileSync(path.join(dir, '.gitignore'), 'utf8')
        .split('\n')
        .filter((l) => l === '.alcaide/*').length,
      1,
    );
  });
});
