import type { AppTarget } from '../../src/model/target';

/** A complete target for workflow tests whose activities are fakes (nothing is contacted). */
export const TEST_TARGET: AppTarget = {
  app: 'my_app',
  projectRoot: '/nonexistent',
  server: { host: '192.0.2.1', port: 22, user: 'root' },
  ssh: { keys: [], trustNewHost: false },
  freebsdVersion: '14.3-RELEASE',
  basePath: '/usr/local/jails',
  appPort: 4000,
  proxyPorts: { blue: 24000, green: 24001 },
  network: {
    iface: 'lo1',
    subnet: '10.0.0.0/24',
    host: '10.0.0.1',
    blue: '10.0.0.2',
    green: '10.0.0.3',
    db: '10.0.0.4',
    build: '10.0.0.5',
    buildNext: '10.0.0.6',
    blue6: 'fd00:a1ca:1de::a00:2',
    green6: 'fd00:a1ca:1de::a00:3',
  },
  healthCheck: { path: '/health', intervalMs: 100, timeoutMs: 1000 },
  drainTimeoutMs: 300,
  onFailure: 'compensate',
  holdTimeoutMs: 3_600_000,
  bakeMs: 0,
  release: { name: 'my_app', migrate: 'MyApp.Release.migrate()', migrateBeforeStart: false },
  envClear: {},
  envSecretNames: [],
};

/** TEST_TARGET with the PostgreSQL accessory, so every setup step runs. */
export const TEST_TARGET_WITH_DB: AppTarget = {
  ...TEST_TARGET,
  postgresql: {
    version: 16,
    volumeHost: '/var/db/my_app_postgres',
    volumeJail: '/var/db/postgres',
    port: 5432,
    user: 'my_app',
    database: 'my_app_prod',
    passwordSecret: 'POSTGRES_PASSWORD',
  },
};
