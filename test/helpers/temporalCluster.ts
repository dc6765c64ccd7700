// A Temporal cluster as a team that outgrew the dev server runs it (docs/temporal-cluster.md):
// the server we pin (scripts/build-temporal-server.sh, built once per machine), TWO server
// processes on loopback — each with the frontend, history, matching and worker services, on
// addresses of their own (127.0.0.2, 127.0.0.3) and distinct ports, finding each other through
// the membership table — a private PostgreSQL (Debian's) for persistence and visibility, mutual
// TLS on the frontend and between the nodes (ringpop included) from a CA made here, and a TCP
// load balancer in front of the two frontends: the one address clients are given. The
// `default` namespace is registered with alcaide's search attributes.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import Long from 'long';
import { stringify } from 'yaml';
import { SEARCH_ATTRIBUTE_KEYS } from '../../src/model/searchAttributes';
import { REPO_ROOT } from './paths';
import { TcpLoadBalancer } from './tcpLoadBalancer';

export const BUILD_TEMPORAL_SERVER = path.join(REPO_ROOT, 'scripts', 'build-temporal-server.sh');
const PG_BIN = '/usr/lib/postgresql/15/bin';
/** The name on the frontends' certificate; clients verify it (TEMPORAL_TLS_SERVER_NAME). */
export const CLUSTER_SERVER_NAME = 'temporal.cluster.test';
const NAMESPACE = 'default';
const DB_USER = 'temporal';
const SERVICES = ['frontend', 'history', 'matching', 'worker'] as const;

/** The pinned server's build directory (built now if this machine has not built it yet: minutes). */
export function temporalServerBuild(): string {
  return execFileSync(BUILD_TEMPORAL_SERVER, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 30 * 60_000 }).trim();
}

export interface ClusterTls {
  caPath: string;
  clientCertPath: string;
  clientKeyPath: string;
  serverName: string;
}

export interface ClusterServer {
  name: string;
  ip: string;
  /** the frontend's own address (clients use the balancer's) */
  frontend: string;
  /** how the server names itself as a history host: a shard it owns names it in the shards table (as "IDENTITY-SHARD-uuid") */
  historyIdentity: string;
  log: string;
  pid: number;
  alive(): boolean;
}

export interface TemporalCluster {
  /** what clients connect to: the load balancer in front of both frontends */
  address: string;
  namespace: string;
  tls: ClusterTls;
  servers: ClusterServer[];
  balancer: TcpLoadBalancer;
  /** alcaide's settings for this cluster (src/temporal/settings.ts reads them) */
  env(): NodeJS.ProcessEnv;
  /** SQL against the cluster's default store (its `temporal` database); rows of |-separated columns */
  sql(query: string): string[];
  /** The server whose history service owns the shard of `workflowId` now. */
  shardOwner(workflowId: string): ClusterServer | undefined;
  /** kill -9 of a server process; resolves when it has exited */
  kill(server: ClusterServer): Promise<void>;
  /** everything stopped and removed: the servers, PostgreSQL, the balancer, the temp directory */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isRoot = () => process.getuid?.() === 0;

/** A free port on `ip`: the kernel's choice, or one below `below`. */
async function freePort(ip: string, below?: number): Promise<number> {
  for (;;) {
    const want = below ? 10_000 + Math.floor(Math.random() * (below - 10_000)) : 0;
    const s = net.createServer();
    const bound = await new Promise<boolean>((resolve) => {
      s.once('error', () => resolve(false));
      s.listen(want, ip, () => resolve(true));
    });
    if (!bound) continue;
    const port = (s.address() as net.AddressInfo).port;
    s.close();
    await once(s, 'close');
    return port;
  }
}

async function until(
  what: string,
  timeoutMs: number,
  ok: () => Promise<boolean> | boolean,
  detail: () => string = () => '',
  gone: () => boolean = () => false,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (gone()) throw new Error(`${what}: its process exited\n${detail()}`);
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs / 1000} s${detail() ? `\n${detail()}` : ''}`);
    await sleep(200);
  }
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${path.basename(cmd)} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

const tail = (file: string, lines = 15) => {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
};

/** The members of `service` the server writing `log` reached last ("Current reachable members"). */
function lastReachable(log: string, service: string): string[] {
  let last: string[] = [];
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    if (!line.includes('"Current reachable members"') || !line.includes(`"service":"${service}"`)) continue;
    try {
      last = (JSON.parse(line) as { addresses?: string[] }).addresses ?? [];
    } catch {
      /* a line being written */
    }
  }
  return last;
}

const sameMembers = (a: string[], b: string[]) => a.length === b.length && b.every((x) => a.includes(x));

/** A CA, one certificate for every server (server and internode client) and one for clients. */
function makeCertificates(dir: string, serverIps: string[]): ClusterTls {
  const p = (f: string) => path.join(dir, f);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('openssl', ['req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2', '-subj', '/CN=Alcaide test Temporal CA']);
  const sign = (name: string, subject: string, ext: string) => {
    writeFileSync(p(`${name}.ext`), ext);
    run('openssl', ['req', ...ec, '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`), '-subj', subject]);
    run('openssl', [
      'x509',
      '-req',
      '-in',
      p(`${name}.csr`),
      '-CA',
      p('ca.pem'),
      '-CAkey',
      p('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      p(`${name}.pem`),
      '-extfile',
      p(`${name}.ext`),
    ]);
  };
  sign(
    'server',
    `/CN=${CLUSTER_SERVER_NAME}`,
    [
      'basicConstraints = CA:FALSE',
      'keyUsage = digitalSignature, keyEncipherment',
      // the nodes present it to each other too (internode mutual TLS)
      'extendedKeyUsage = serverAuth, clientAuth',
      `subjectAltName = DNS:${CLUSTER_SERVER_NAME}, ${serverIps.map((ip) => `IP:${ip}`).join(', ')}`,
      '',
    ].join('\n'),
  );
  sign('client', '/CN=alcaide', ['basicConstraints = CA:FALSE', 'keyUsage = digitalSignature', 'extendedKeyUsage = clientAuth', ''].join('\n'));
  return { caPath: p('ca.pem'), clientCertPath: p('client.pem'), clientKeyPath: p('client.key'), serverName: CLUSTER_SERVER_NAME };
}

interface Postgres {
  port: number;
  password: string;
  proc: ChildProcess;
  dataDir: string;
  /** kill -9 at once, synchronously (the test process is exiting) */
  kill(): void;
  stop(): Promise<void>;
}

/** Debian's PostgreSQL 15 in `dir`, as the postgres user when run as root (it refuses root), on a free loopback port, TCP only. */
async function startPostgres(dir: string): Promise<Postgres> {
  const pgDir = path.join(dir, 'pg');
  const dataDir = path.join(pgDir, 'data');
  mkdirSync(pgDir, { mode: 0o700 });
  const password = Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);
  const pwFile = path.join(pgDir, 'pw');
  writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
  const ids = isRoot() ? run('id', ['-u', 'postgres']).trim() + ':' + run('id', ['-g', 'postgres']).trim() : undefined;
  if (ids) {
    const [uid, gid] = ids.split(':').map(Number) as [number, number];
    chownSync(pgDir, uid, gid);
    chownSync(pwFile, uid, gid);
  }
  const asPg = (args: string[]): [string, string[]] => (isRoot() ? ['runuser', ['-u', 'postgres', '--', ...args]] : [args[0]!, args.slice(1)]);
  run(
    ...asPg([
      `${PG_BIN}/initdb`,
      '-D',
      dataDir,
      '-U',
      DB_USER,
      `--pwfile=${pwFile}`,
      '--auth=scram-sha-256',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
      '--no-instructions',
    ]),
  );
  const port = await freePort('127.0.0.1');
  const log = openSync(path.join(dir, 'postgres.log'), 'a');
  // durability is not what this cluster tests: no fsync, so the schema setup takes seconds
  const [cmd, args] = asPg([
    `${PG_BIN}/postgres`,
    '-D',
    dataDir,
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    '-k',
    '',
    '-c',
    'fsync=off',
    '-c',
    'synchronous_commit=off',
    '-c',
    'full_page_writes=off',
    '-c',
    'max_connections=200',
  ]);
  const proc = spawn(cmd, args, { stdio: ['ignore', log, log] });
  closeSync(log);
  const postmasterPid = () => Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  await until(
    'PostgreSQL accepts connections',
    60_000,
    () => spawnSync(`${PG_BIN}/pg_isready`, ['-q', '-h', '127.0.0.1', '-p', String(port)]).status === 0,
    () => tail(path.join(dir, 'postgres.log')),
    () => proc.exitCode !== null,
  );
  return {
    port,
    password,
    proc,
    dataDir,
    kill() {
      try {
        process.kill(postmasterPid(), 'SIGKILL');
      } catch {
        /* gone */
      }
      proc.kill('SIGKILL');
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, 'exit');
      // runuser forwards signals to postgres; the postmaster's own pid makes sure it is told
      try {
        process.kill(postmasterPid(), 'SIGQUIT'); // immediate shutdown: nothing to keep
      } catch {
        proc.kill('SIGTERM');
      }
      const t = setTimeout(() => {
        try {
          process.kill(postmasterPid(), 'SIGKILL');
        } catch {
          /* gone */
        }
        proc.kill('SIGKILL');
      }, 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

interface ServerPorts {
  ip: string;
  ports: Record<(typeof SERVICES)[number], { grpcPort: number; membershipPort: number }>;
}

/** One server process's configuration (the module's config/development-postgres12.yaml is the reference). */
function serverConfig(o: {
  server: ServerPorts;
  pg: Postgres;
  tls: { ca: string; cert: string; key: string };
  address: string;
  dynamicConfig: string;
  shards: number;
}) {
  const store = (database: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName: database,
      connectAddr: `127.0.0.1:${o.pg.port}`,
      connectProtocol: 'tcp',
      user: DB_USER,
      password: o.pg.password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const mutual = {
    server: { certFile: o.tls.cert, keyFile: o.tls.key, requireClientAuth: true, clientCaFiles: [o.tls.ca] },
    client: { serverName: CLUSTER_SERVER_NAME, rootCaFiles: [o.tls.ca] },
  };
  return {
    log: { stdout: true, level: 'info' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: o.shards,
      datastores: { 'postgres-default': store('temporal', 20), 'postgres-visibility': store('temporal_visibility', 4) },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: o.server.ip },
      tls: {
        internode: mutual,
        frontend: mutual,
        // the server's own system workers (schedules, …) reach the frontends with the server certificate
        systemWorker: { certFile: o.tls.cert, keyFile: o.tls.key, client: { serverName: CLUSTER_SERVER_NAME, rootCaFiles: [o.tls.ca] } },
      },
    },
    services: Object.fromEntries(SERVICES.map((s) => [s, { rpc: { ...o.server.ports[s], bindOnIP: o.server.ip } }])),
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: { active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: o.address } },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: o.dynamicConfig, pollInterval: '10s' },
  };
}

/** A client connection with the cluster's client certificate, to the balancer or one frontend. */
export async function connectTls(address: string, tls: ClusterTls): Promise<Connection> {
  return Connection.connect({
    address,
    connectTimeout: '5s',
    tls: {
      serverRootCACertificate: readFileSync(tls.caPath),
      clientCertPair: { crt: readFileSync(tls.clientCertPath), key: readFileSync(tls.clientKeyPath) },
      serverNameOverride: tls.serverName,
    },
  });
}

/** Whether `address` answers a TLS gRPC call (the frontend is up and serving). */
async function answers(address: string, tls: ClusterTls): Promise<boolean> {
  let c: Connection | undefined;
  try {
    c = await connectTls(address, tls);
    await c.workflowService.getSystemInfo({});
    return true;
  } catch {
    return false;
  } finally {
    await c?.close().catch(() => undefined);
  }
}

export async function startTemporalCluster(o: { shards?: number } = {}): Promise<TemporalCluster> {
  const build = temporalServerBuild();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'alcaide-cluster-'));
  // the postgres user must reach its data directory below this one
  execFileSync('chmod', ['0711', dir]);
  const procs: ChildProcess[] = [];
  let pg: Postgres | undefined;
  let balancer: TcpLoadBalancer | undefined;
  // a test that dies without stop() must not leave a server running
  const onExit = () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    if (pg && pg.proc.exitCode === null) pg.kill();
  };
  process.once('exit', onExit);
  const stop = async () => {
    process.removeListener('exit', onExit);
    await Promise.all(
      procs.map(async (p) => {
        if (p.exitCode !== null || p.signalCode !== null) return;
        const exited = once(p, 'exit');
        p.kill('SIGKILL');
        await exited;
      }),
    );
    await balancer?.close();
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ips = ['127.0.0.2', '127.0.0.3'];
    const tls = makeCertificates(dir, ips);
    pg = await startPostgres(dir);
    const sqlTool = path.join(build, 'temporal-sql-tool');
    const sqlEnv = { SQL_PASSWORD: pg.password };
    for (const [db, schema] of [
      ['temporal', 'temporal'],
      ['temporal_visibility', 'visibility'],
    ] as const) {
      const base = ['--plugin', 'postgres12', '--ep', '127.0.0.1', '--port', String(pg.port), '--user', DB_USER, '--db', db];
      run(sqlTool, [...base, 'create-database'], sqlEnv);
      run(sqlTool, [...base, 'setup-schema', '-v', '0.0'], sqlEnv);
      run(sqlTool, [...base, 'update-schema', '-d', path.join(build, 'schema', 'postgresql', 'v12', schema, 'versioned')], sqlEnv);
    }

    const servers: ServerPorts[] = [];
    for (const ip of ips) {
      const ports = {} as ServerPorts['ports'];
      // the membership table keeps a port in a smallint (PostgreSQL schema): below 32768
      for (const s of SERVICES) ports[s] = { grpcPort: await freePort(ip), membershipPort: await freePort(ip, 32_768) };
      servers.push({ ip, ports });
    }
    balancer = await TcpLoadBalancer.start(servers.map((s) => ({ host: s.ip, port: s.ports.frontend.grpcPort })));
    const dynamicConfig = path.join(dir, 'dynamicconfig.yaml');
    // membership gossip under the same mutual TLS as the rest of internode traffic
    writeFileSync(dynamicConfig, stringify({ 'system.enableRingpopTLS': [{ value: true }] }));

    const started: ClusterServer[] = [];
    // one after the other: the second joins the ring the first formed (both at once may each form its own)
    for (const [i, s] of servers.entries()) {
      const name = `temporal-${i + 1}`;
      const configFile = path.join(dir, `${name}.yaml`);
      writeFileSync(
        configFile,
        stringify(
          serverConfig({
            server: s,
            pg,
            tls: { ca: tls.caPath, cert: path.join(dir, 'server.pem'), key: path.join(dir, 'server.key') },
            address: balancer.address,
            dynamicConfig,
            shards: o.shards ?? 4,
          }),
        ),
      );
      const log = path.join(dir, `${name}.log`);
      const fd = openSync(log, 'a');
      const p = spawn(path.join(build, 'temporal-server'), ['--config-file', configFile, '--allow-no-auth', 'start'], { stdio: ['ignore', fd, fd] });
      closeSync(fd);
      procs.push(p);
      const frontend = `${s.ip}:${s.ports.frontend.grpcPort}`;
      await until(
        `Temporal server ${name} serves on ${frontend}`,
        90_000,
        () => answers(frontend, tls),
        () => tail(log, 5),
        () => p.exitCode !== null,
      );
      started.push({
        name,
        ip: s.ip,
        frontend,
        historyIdentity: `${s.ip}:${s.ports.history.grpcPort}`,
        log,
        pid: p.pid!,
        alive: () => p.exitCode === null && p.signalCode === null,
      });
    }

    const sql = (query: string) =>
      run(`${PG_BIN}/psql`, ['-X', '-q', '-tA', '-h', '127.0.0.1', '-p', String(pg!.port), '-U', DB_USER, '-d', 'temporal', '-c', query], {
        PGPASSWORD: pg!.password,
      })
        .split('\n')
        .filter(Boolean);
    // the ring holds both servers: each sees every service of both (its service resolvers log who they reach)
    await until(
      'every server reaches every service of both',
      60_000,
      () =>
        started.every((s) =>
          SERVICES.every((svc) =>
            sameMembers(
              lastReachable(s.log, svc),
              servers.map((x) => `${x.ip}:${x.ports[svc].grpcPort}`),
            ),
          ),
        ),
      () => started.map((s) => `${s.name}: ${SERVICES.map((svc) => `${svc} ${lastReachable(s.log, svc).join(' ')}`).join('; ')}`).join('\n'),
    );

    const c = await connectTls(balancer.address, tls);
    try {
      await c.workflowService.registerNamespace({ namespace: NAMESPACE, workflowExecutionRetentionPeriod: { seconds: Long.fromNumber(24 * 3600) } });
      await c.operatorService.addSearchAttributes({
        namespace: NAMESPACE,
        searchAttributes: Object.fromEntries(SEARCH_ATTRIBUTE_KEYS.map((k) => [k.name, 2 /* INDEXED_VALUE_TYPE_KEYWORD */])),
      });
    } finally {
      await c.close();
    }
    // every frontend knows the namespace and its search attributes before a client uses them
    for (const s of started) {
      const f = await connectTls(s.frontend, tls);
      try {
        await until(`${s.name} knows namespace ${NAMESPACE} and alcaide's search attributes`, 60_000, async () => {
          try {
            await f.workflowService.describeNamespace({ namespace: NAMESPACE });
            const sa = await f.operatorService.listSearchAttributes({ namespace: NAMESPACE });
            return SEARCH_ATTRIBUTE_KEYS.every((k) => k.name in (sa.customAttributes ?? {}));
          } catch {
            return false;
          }
        });
      } finally {
        await f.close();
      }
    }

    const cluster: TemporalCluster = {
      address: balancer.address,
      namespace: NAMESPACE,
      tls,
      servers: started,
      balancer,
      env: () => ({
        TEMPORAL_ADDRESS: balancer!.address,
        TEMPORAL_NAMESPACE: NAMESPACE,
        TEMPORAL_TLS_CA_PATH: tls.caPath,
        TEMPORAL_TLS_CLIENT_CERT_PATH: tls.clientCertPath,
        TEMPORAL_TLS_CLIENT_KEY_PATH: tls.clientKeyPath,
        TEMPORAL_TLS_SERVER_NAME: tls.serverName,
      }),
      sql,
      shardOwner(workflowId) {
        const [shard] = sql(`SELECT DISTINCT shard_id FROM current_executions WHERE workflow_id = '${workflowId.replace(/'/g, "''")}'`);
        if (!shard) return undefined;
        return started.find(
          (s) =>
            sql(`SELECT count(*) FROM shards WHERE shard_id = ${Number(shard)} AND position(convert_to('${s.historyIdentity}-', 'UTF8') in data) > 0`)[0] ===
            '1',
        );
      },
      async kill(server) {
        const p = procs[started.indexOf(server)]!;
        if (p.exitCode !== null || p.signalCode !== null) return;
        const exited = once(p, 'exit');
        p.kill('SIGKILL');
        await exited;
      },
      stop,
    };
    return cluster;
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
}
