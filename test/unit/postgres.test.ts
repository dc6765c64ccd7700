// The PostgreSQL accessory's builders: exact strings, and the SQL proven against a real
// PostgreSQL server (Debian's, as the user postgres) with every hostile password.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  addConfInclude,
  confIncludes,
  databaseUrl,
  postgresDataDir,
  postgresInitialized,
  postgresPackage,
  prepareVolume,
  psqlAsSuperuser,
  renderPgHba,
  renderPostgresConf,
  roleAndDatabaseSql,
  volumeReady,
} from '../../src/freebsd/postgres';
import { HOSTILE } from '../helpers/hostile';

const SPEC = { version: 16, ip: '10.0.0.4', port: 5432, user: 'my_app', database: 'my_app_prod', subnet: '10.0.0.0/24' };

describe('PostgreSQL accessory commands', () => {
  test('package, data directory, volume and config commands are exact', () => {
    assert.equal(postgresPackage(16), 'postgresql16-server');
    assert.equal(postgresDataDir('/var/db/postgres', 16), '/var/db/postgres/data16');
    assert.equal(volumeReady('/var/db/my_app_postgres'), `[ -d /var/db/my_app_postgres ] && [ "$(stat -f %u:%g:%Lp /var/db/my_app_postgres)" = 770:770:700 ]`);
    assert.equal(
      prepareVolume('/var/db/my_app_postgres'),
      'mkdir -p /var/db/my_app_postgres && chown 770:770 /var/db/my_app_postgres && chmod 0700 /var/db/my_app_postgres',
    );
    assert.equal(postgresInitialized('/j/db/var/db/postgres/data16'), 'test -f /j/db/var/db/postgres/data16/PG_VERSION');
    assert.equal(confIncludes('/d/postgresql.conf'), `grep -qxF 'include_if_exists = '\\''alcaide.conf'\\''' /d/postgresql.conf`);
    assert.equal(addConfInclude('/d/postgresql.conf'), `printf '%s\\n' 'include_if_exists = '\\''alcaide.conf'\\''' >> /d/postgresql.conf`);
    assert.equal(psqlAsSuperuser('my_app_db'), 'jexec -U postgres my_app_db /usr/local/bin/psql -X -q -v ON_ERROR_STOP=1 -v VERBOSITY=terse -d postgres -f -');
  });

  test('it listens on the jail IP only; only the app role, from the jail subnet, with a password', () => {
    assert.equal(
      renderPostgresConf(SPEC),
      "# Managed by alcaide: rewritten by `alcaide setup`.\nlisten_addresses = '10.0.0.4'\nport = 5432\npassword_encryption = 'scram-sha-256'\n",
    );
    assert.equal(
      renderPgHba(SPEC),
      '# Managed by alcaide: rewritten by `alcaide setup`.\n# TYPE  DATABASE  USER  ADDRESS  METHOD\nlocal   all       postgres       peer\nhost    my_app_prod  my_app  10.0.0.0/24  scram-sha-256\n',
    );
  });

  test('the include line check matches the line the include adds (through /bin/sh)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'alcaide-pgconf-'));
    try {
      const conf = path.join(dir, 'postgresql.conf');
      execFileSync('/bin/sh', ['-c', `printf '%s\\n' "port = 5432" > ${conf}`]);
      assert.notEqual(spawnSync('/bin/sh', ['-c', confIncludes(conf)]).status, 0);
      assert.equal(spawnSync('/bin/sh', ['-c', addConfInclude(conf)]).status, 0);
      assert.equal(spawnSync('/bin/sh', ['-c', confIncludes(conf)]).status, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the role and database SQL is exact; the password is one SQL literal', () => {
    assert.equal(
      roleAndDatabaseSql('my_app', 'my_app_prod', "it's"),
      [
        "SELECT format('CREATE ROLE %I LOGIN', 'my_app') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'my_app')\\gexec",
        `ALTER ROLE "my_app" WITH LOGIN PASSWORD 'it''s';`,
        "SELECT format('CREATE DATABASE %I OWNER %I', 'my_app_prod', 'my_app') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'my_app_prod')\\gexec",
        'ALTER DATABASE "my_app_prod" OWNER TO "my_app";',
        '',
      ].join('\n'),
    );
    assert.throws(() => roleAndDatabaseSql('a', 'b', 'x\0y'), /NUL/);
  });

  test('DATABASE_URL percent-encodes the password', () => {
    assert.equal(databaseUrl(SPEC, 'p@ss:w/rd?#%'), 'ecto://my_app:p%40ss%3Aw%2Frd%3F%23%25@10.0.0.4:5432/my_app_prod');
    for (const pw of HOSTILE) assert.equal(decodeURIComponent(new URL(databaseUrl(SPEC, pw).replace(/^ecto:/, 'http:')).password), pw);
  });
});

// A throwaway cluster of Debian's PostgreSQL, run as its `postgres` user on a unix socket.
function pgBin(): string {
  const base = '/usr/lib/postgresql';
  const majors = readdirSync(base)
    .filter((d) => /^\d+$/.test(d))
    .sort((a, b) => Number(a) - Number(b));
  if (!majors.length) throw new Error('PostgreSQL binaries missing: apt-get install postgresql-15 (scripts/install-deps.sh does)');
  return path.join(base, majors.at(-1)!, 'bin');
}

describe('the role and database SQL against a real PostgreSQL', () => {
  let dir: string;
  let bin: string;
  const port = 40000 + (process.pid % 20000);
  const asPostgres = (cmd: string, args: string[], input?: string) =>
    spawnSync('runuser', ['-u', 'postgres', '--', path.join(bin, cmd), ...args], { input, encoding: 'utf8', cwd: '/' });

  before(() => {
    bin = pgBin();
    dir = mkdtempSync(path.join(os.tmpdir(), 'alcaide-pg-'));
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, uid, gid);
    const init = asPostgres('initdb', ['-D', `${dir}/data`, '-U', 'postgres', '--auth-local=peer', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C']);
    assert.equal(init.status, 0, init.stderr);
    const start = asPostgres('pg_ctl', [
      '-D',
      `${dir}/data`,
      '-w',
      '-l',
      `${dir}/log`,
      '-o',
      `-c listen_addresses='127.0.0.1' -c port=${port} -c unix_socket_directories='${dir}'`,
      'start',
    ]);
    assert.equal(start.status, 0, start.stderr);
  });

  after(() => {
    if (bin && dir) asPostgres('pg_ctl', ['-D', `${dir}/data`, '-w', '-m', 'immediate', 'stop']);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('with VERBOSITY=terse (as psqlAsSuperuser runs it) a failing statement does not echo its password', () => {
    const sql = "SELECT 1;\nALTER ROLE no_such_role WITH LOGIN PASSWORD 'pw-canary-42';\n";
    const r = asPostgres(
      'psql',
      ['-h', dir, '-p', String(port), '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-v', 'VERBOSITY=terse', '-d', 'postgres', '-f', '-'],
      sql,
    );
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /no_such_role/);
    assert.ok(!r.stderr.includes('pw-canary-42'), r.stderr);
  });

  test('every hostile password is set exactly (login works with it, not with a near miss); a rerun converges', () => {
    const passwords = HOSTILE.filter((p) => p !== '');
    for (const [i, pw] of passwords.entries()) {
      const user = `app_${i}`;
      for (let run = 0; run < 2; run++) {
        const r = asPostgres(
          'psql',
          ['-h', dir, '-p', String(port), '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'postgres', '-f', '-'],
          roleAndDatabaseSql(user, `${user}_db`, pw),
        );
        assert.equal(r.status, 0, `${JSON.stringify(pw)}: ${r.stderr}`);
      }
      const login = (password: string) =>
        spawnSync(
          path.join(bin, 'psql'),
          ['-h', '127.0.0.1', '-p', String(port), '-U', user, '-d', `${user}_db`, '-X', '-tA', '-c', 'select current_user || current_database()'],
          {
            env: { PATH: process.env.PATH, PGPASSWORD: password, PGCONNECT_TIMEOUT: '5' },
            encoding: 'utf8',
          },
        );
      const good = login(pw);
      assert.equal(good.status, 0, `${JSON.stringify(pw)}: ${good.stderr}`);
      assert.equal(good.stdout.trim(), `${user}${user}_db`);
      assert.match(login(`${pw}x`).stderr, /password authentication failed/);
      const check = asPostgres('psql', [
        '-h',
        dir,
        '-p',
        String(port),
        '-X',
        '-tA',
        '-d',
        `${user}_db`,
        '-c',
        `select rolname from pg_roles r join pg_database d on d.datdba = r.oid where d.datname = current_database()`,
      ]);
      assert.equal(check.stdout.trim(), user, 'the database belongs to the role');
    }
  });
});
