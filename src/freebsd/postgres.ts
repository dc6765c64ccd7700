// The PostgreSQL accessory: databases/postgresqlNN-server in its own jail, its data on a
// nullfs volume from the host, listening on the jail's IP only. Pure command and file builders.
import { sh } from './sh';

/** FreeBSD's package creates this user; the volume on the host is owned by its uid. */
export const POSTGRES_UID = 770;

export interface PostgresSpec {
  version: number;
  /** the jail's IP, the only address it listens on */
  ip: string;
  port: number;
  user: string;
  database: string;
  /** the jail subnet the app slots connect from */
  subnet: string;
}

export const postgresPackage = (version: number) => `postgresql${version}-server`;

/** The data directory inside the jail (the port's default layout, below the volume). */
export const postgresDataDir = (volumeJail: string, version: number) => `${volumeJail}/data${version}`;

/** Our settings live in their own file; postgresql.conf only gains one include line. */
export const POSTGRES_CONF = 'alcaide.conf';
export const POSTGRES_INCLUDE = `include_if_exists = '${POSTGRES_CONF}'`;

export function renderPostgresConf(p: PostgresSpec): string {
  return [
    '# Managed by alcaide: rewritten by `alcaide setup`.',
    `listen_addresses = '${p.ip}'`,
    `port = ${p.port}`,
    "password_encryption = 'scram-sha-256'",
    '',
  ].join('\n');
}

/** Only the app's role, only its database, only from the jail subnet, only with a password. */
export function renderPgHba(p: PostgresSpec): string {
  return [
    '# Managed by alcaide: rewritten by `alcaide setup`.',
    '# TYPE  DATABASE  USER  ADDRESS  METHOD',
    'local   all       postgres       peer',
    `host    ${p.database}  ${p.user}  ${p.subnet}  scram-sha-256`,
    '',
  ].join('\n');
}

/** The host directory behind the volume: owned by the jail's postgres user, private. */
export const volumeReady = (dir: string) => sh`[ -d ${dir} ] && [ "$(stat -f %u:%g:%Lp ${dir})" = ${`${POSTGRES_UID}:${POSTGRES_UID}:700`} ]`;
export const prepareVolume = (dir: string) => sh`mkdir -p ${dir} && chown ${`${POSTGRES_UID}:${POSTGRES_UID}`} ${dir} && chmod 0700 ${dir}`;

/** Exit 0 once initdb has run on the data directory (seen from the host). */
export const postgresInitialized = (hostDataDir: string) => sh`test -f ${`${hostDataDir}/PG_VERSION`}`;

/** Exit 0 when postgresql.conf already includes our file. */
export const confIncludes = (conf: string) => sh`grep -qxF ${POSTGRES_INCLUDE} ${conf}`;
export const addConfInclude = (conf: string) => sh`printf '%s\\n' ${POSTGRES_INCLUDE} >> ${conf}`;

/** psql as the jail's postgres superuser over the local socket (peer auth), SQL on stdin. */
// VERBOSITY=terse: an error shows no statement context, so the password in the SQL never reaches an error
export const psqlAsSuperuser = (jail: string) => sh`jexec -U postgres ${jail} /usr/local/bin/psql -X -q -v ON_ERROR_STOP=1 -v VERBOSITY=terse -d postgres -f -`;

const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;
const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

/**
 * Creates the role and database when missing and sets the role's password. Sent on stdin,
 * never as an argument: the password must not appear in a process list or a command log.
 * (standard_conforming_strings is on: backslashes in the literal are plain characters.)
 */
export function roleAndDatabaseSql(user: string, database: string, password: string): string {
  if (password.includes('\0')) throw new Error('a PostgreSQL password cannot contain a NUL byte');
  return [
    `SELECT format('CREATE ROLE %I LOGIN', ${literal(user)}) WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(user)})\\gexec`,
    `ALTER ROLE ${ident(user)} WITH LOGIN PASSWORD ${literal(password)};`,
    `SELECT format('CREATE DATABASE %I OWNER %I', ${literal(database)}, ${literal(user)}) WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = ${literal(database)})\\gexec`,
    `ALTER DATABASE ${ident(database)} OWNER TO ${ident(user)};`,
    '',
  ].join('\n');
}

/** ecto://USER:PASSWORD@HOST:PORT/DATABASE for the app (Phoenix's runtime.exs reads DATABASE_URL). */
export function databaseUrl(p: Pick<PostgresSpec, 'ip' | 'port' | 'user' | 'database'>, password: string): string {
  return `ecto://${encodeURIComponent(p.user)}:${encodeURIComponent(password)}@${p.ip}:${p.port}/${encodeURIComponent(p.database)}`;
}
