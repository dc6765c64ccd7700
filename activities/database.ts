// The PostgreSQL accessory as setup and deploys see it: its spec from the target, its password
// from the secrets the worker decrypted (never in workflow history).
import type { PostgresSpec } from '../src/freebsd/postgres';
import type { AppTarget } from '../src/model/target';
import { precondition } from './remote';

export function postgresPassword(secrets: Record<string, string>, t: AppTarget): string {
  const pg = t.postgresql!;
  const password = secrets[pg.passwordSecret];
  if (!password)
    throw precondition(
      `accessories.postgresql.password_secret names ${pg.passwordSecret}, which is not in the secrets file (alcaide secrets set ${pg.passwordSecret})`,
    );
  return password;
}

export function postgresSpec(t: AppTarget): PostgresSpec {
  const pg = t.postgresql!;
  return { version: pg.version, ip: t.network.db, port: pg.port, user: pg.user, database: pg.database, subnet: t.network.subnet };
}
