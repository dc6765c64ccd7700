// Accessories: the PostgreSQL jail. Same discipline as every setup step: check the host's
// real state, change only what differs, so a second run changes nothing.
import { createHmac } from 'node:crypto';
import type { AppTarget } from '../src/model/target';
import {
  addConfInclude,
  confIncludes,
  POSTGRES_CONF,
  postgresDataDir,
  postgresInitialized,
  postgresPackage,
  prepareVolume,
  psqlAsSuperuser,
  renderPgHba,
  renderPostgresConf,
  roleAndDatabaseSql,
  volumeReady,
} from '../src/freebsd/postgres';
import { fileHasSha256 } from '../src/freebsd/files';
import { pkgAllInstalled, pkgInstall } from '../src/freebsd/pkg';
import { serviceAction, serviceRunning, serviceStart } from '../src/freebsd/system';
import { ensureFile, ensureJail, ensureSysrc, layoutOf, sha256 } from './jails';
import { withHeartbeat } from './remote';
import type { ActivityDeps } from './deps';
import { postgresPassword, postgresSpec } from './database';
import { stepResult, type StepResult } from '../src/model/step';

/** Where the role marker lives: next to the data on the volume, so it travels with it. */
const ROLE_MARKER = '.alcaide-role';

const setupPostgres =
  (d: ActivityDeps) =>
  async (t: AppTarget): Promise<StepResult> => {
    const pg = t.postgresql;
    if (!pg) return { changed: false, note: 'no accessory configured' };
    const password = postgresPassword(d.secrets(t), t);
    const r = d.remote(t);
    const l = layoutOf(t);
    const name = l.jailName('db');
    const root = l.jailPath('db');
    const spec = postgresSpec(t);
    const dataInJail = postgresDataDir(pg.volumeJail, pg.version);
    const data = `${root}${dataInJail}`;
    const changes: string[] = [];

    if (!(await r.ok(volumeReady(pg.volumeHost), 'check the database volume'))) {
      await r.run(prepareVolume(pg.volumeHost), 'prepare the database volume');
      changes.push(`volume ${pg.volumeHost}`);
    }
    changes.push(
      ...(await ensureJail(
        r,
        l,
        {
          name,
          path: root,
          hostname: name,
          iface: t.network.iface,
          ip: t.network.db,
          // PostgreSQL's shared memory and semaphores, private to this jail
          params: { sysvshm: 'new', sysvsem: 'new' },
          mounts: [`${pg.volumeHost} ${root}${pg.volumeJail} nullfs rw 0 0`],
        },
        l.jailConf('db'),
      )),
    );
    const pkg = postgresPackage(pg.version);
    if (!(await r.ok(pkgAllInstalled([pkg], name), 'check the PostgreSQL package'))) {
      await withHeartbeat(() => r.run(pkgInstall([pkg], name), `install ${pkg}`, { timeoutMs: 20 * 60_000 }));
      changes.push(`installed ${pkg}`);
    }
    const rcConf = `${root}/etc/rc.conf`;
    if (await ensureSysrc(r, 'postgresql_enable', 'YES', rcConf)) changes.push('postgresql_enable=YES');
    if (await ensureSysrc(r, 'postgresql_data', dataInJail, rcConf)) changes.push(`postgresql_data=${dataInJail}`);
    // pg_ctl's -l: the server's output goes to a file on the volume, not to the SSH session
    // (a daemon holding the session's stdout would keep `service … start` from returning)
    const flags = `-w -s -m fast -l ${pg.volumeJail}/postgresql.log`;
    if (await ensureSysrc(r, 'postgresql_flags', flags, rcConf)) changes.push(`server log ${pg.volumeHost}/postgresql.log`);
    if (!(await r.ok(postgresInitialized(data), 'check the data directory'))) {
      await withHeartbeat(() => r.run(serviceAction('postgresql', 'initdb', name), 'initialise the database cluster', { timeoutMs: 10 * 60_000 }));
      changes.push(`initdb ${dataInJail}`);
    }

    let reconfigured = false;
    if (!(await r.ok(confIncludes(`${data}/postgresql.conf`), 'check postgresql.conf'))) {
      await r.run(addConfInclude(`${data}/postgresql.conf`), 'include alcaide.conf in postgresql.conf');
      reconfigured = true;
    }
    // no secrets in either file; the server (user postgres) must be able to read them
    if (await ensureFile(r, `${data}/${POSTGRES_CONF}`, renderPostgresConf(spec), '0644', `write ${POSTGRES_CONF}`)) reconfigured = true;
    if (await ensureFile(r, `${data}/pg_hba.conf`, renderPgHba(spec), '0644', 'write pg_hba.conf')) reconfigured = true;

    if (!(await r.ok(serviceRunning('postgresql', name), 'check PostgreSQL'))) {
      await withHeartbeat(() => r.run(serviceStart('postgresql', name), 'start PostgreSQL', { timeoutMs: 5 * 60_000 }));
      changes.push('started PostgreSQL');
    } else if (reconfigured) {
      // listen_addresses and port only change with a restart
      await withHeartbeat(() => r.run(serviceAction('postgresql', 'restart', name), 'restart PostgreSQL', { timeoutMs: 5 * 60_000 }));
      changes.push('restarted PostgreSQL with the new configuration');
    }
    if (reconfigured) changes.push(`listens on ${spec.ip}:${spec.port} only`);

    // The role's password is set again only when user, database or password changed: the marker
    // holds an HMAC keyed by the password, so it reveals nothing about it.
    const marker = createHmac('sha256', password).update(`${pg.user}\n${pg.database}\n${pg.version}`).digest('hex') + '\n';
    const markerPath = `${pg.volumeHost}/${ROLE_MARKER}`;
    if (!(await r.ok(fileHasSha256(markerPath, sha256(marker)), 'check the role and database'))) {
      await r.run(psqlAsSuperuser(name), `create role ${pg.user} and database ${pg.database}`, { stdin: roleAndDatabaseSql(pg.user, pg.database, password) });
      await ensureFile(r, markerPath, marker, '0600', 'record the role');
      changes.push(`role ${pg.user}, database ${pg.database}`);
    }
    return stepResult(changes, `${name} serves ${pg.database} on ${spec.ip}:${spec.port}`);
  };

export function createAccessoryActivities(d: ActivityDeps) {
  return {
    setupPostgres: setupPostgres(d),
  };
}
