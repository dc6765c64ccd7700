// What the fault matrix and the benchmarks share: one simulated host, a SQLite-backed dev
// server that can be restarted, a project with the fixture app, long-lived `alcaide worker`
// processes that can be SIGKILLed, and the host's state as a few facts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { readCommandLog, readInvocations, sshRun, startSimHosts, type InvocationEntry, type SimHost, type SimHosts } from '../simhost/index';
import { runCliAsync, tempProject, type CliResult } from './cli';
import { PersistentDevServer } from './devServer';
import { WorkerProcess } from './workerProcess';
import { CLI, REPO_ROOT } from './paths';
import { queryStatus } from '../../src/temporal/statusQuery';
import { codecKey } from '../../src/temporal/codec';
import type { WorkflowStatus } from '../../workflows/status';

export const MAKE_APP = path.join(REPO_ROOT, 'test', 'fixtures', 'make-app.sh');
export const MASTER_KEY = Buffer.alloc(32, 9);

export interface HostState {
  body: string;
  running: string[];
  jailList: string[];
  confs: string[];
  appRunning: Record<string, boolean>;
}

export class Rig {
  sim!: SimHosts;
  host!: SimHost;
  temporal!: PersistentDevServer;
  readonly project = tempProject('alcaide-rig-');
  readonly app = path.join(this.project.dir, 'hello');
  worker?: WorkerProcess;
  workerLog = '';
  private n = 0;

  constructor(
    readonly queue: string,
    private readonly extraConfig = '',
  ) {}

  env(): NodeJS.ProcessEnv {
    return {
      TEMPORAL_ADDRESS: this.temporal.address,
      ALCAIDE_TASK_QUEUE: this.queue,
      SSH_AUTH_SOCK: '',
      ALCAIDE_MASTER_KEY: MASTER_KEY.toString('base64'),
      NO_COLOR: '1',
    };
  }

  async start(): Promise<void> {
    [this.sim, this.temporal] = await Promise.all([
      startSimHosts({ hosts: 1 }),
      PersistentDevServer.start(path.join(this.project.dir, 'temporal.db'), [codecKey(MASTER_KEY, 'rig master key')]),
    ]);
    this.host = this.sim.hosts[0]!;
    assert.equal(spawnSync('sh', [MAKE_APP, this.app, '1.0.0']).status, 0);
    writeFileSync(
      path.join(this.app, 'deploy.yml'),
      `app: hello
server:
  host: ${this.host.host}
ssh:
  keys: [${this.host.privateKey}]
  known_hosts: ${this.host.knownHostsFile}
health_check:
  path: /health
  interval: 200ms
  timeout: 20s
${this.extraConfig}`,
    );
    this.git('add', '-A');
    this.git('commit', '-qm', 'config');
  }

  async stop(): Promise<void> {
    await this.killWorker();
    await this.sim?.down();
    await this.temporal?.close();
    this.project.cleanup();
  }

  git(...a: string[]) {
    return spawnSync('git', ['-C', this.app, '-c', 'user.name=t', '-c', 'user.email=t@t', ...a], { encoding: 'utf8' });
  }

  /** Commits a new version of the fixture app; returns [version string, commit]. */
  commitVersion(v = `2.${++this.n}.0`, flags: string[] = []): [string, string] {
    const tmp = path.join(this.project.dir, `v-${v}`);
    assert.equal(spawnSync('sh', [MAKE_APP, tmp, v, ...flags]).status, 0);
    spawnSync('sh', [
      '-c',
      `rm -rf "${this.app}/lib" "${this.app}/priv" "${this.app}/VERSION" && cp -R "${tmp}/lib" "${tmp}/priv" "${tmp}/VERSION" "${this.app}/" && rm -rf "${tmp}"`,
    ]);
    this.git('add', '-A');
    assert.equal(this.git('commit', '-qm', `v${v}`).status, 0);
    return [v, this.git('rev-parse', 'HEAD').stdout.trim()];
  }

  cli(args: string[], timeoutMs = 300_000): Promise<CliResult> {
    return runCliAsync(args, { cwd: this.app, env: this.env(), timeoutMs });
  }

  /** The host started, a worker polling, `alcaide setup` and a first `alcaide deploy` done: where most e2e files begin. */
  async startDeployed(): Promise<void> {
    await this.start();
    await this.startWorker();
    for (const args of [['setup'], ['deploy']]) {
      const r = await this.cli(args);
      assert.equal(r.code, 0, `alcaide ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    }
  }

  /** Starts `alcaide worker` (of another checkout: `cli`); resolves when it polls. Returns when it was spawned (ms epoch). */
  async startWorker(cli = CLI): Promise<number> {
    const t0 = Date.now();
    this.worker = await WorkerProcess.start({ cwd: this.app, env: { ...process.env, ...this.env() }, cli, onOutput: (d) => (this.workerLog += d) });
    return t0;
  }

  workerAlive(): boolean {
    return !!this.worker?.alive();
  }

  async killWorker(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.worker?.kill(signal);
  }

  handle(runId?: string): WorkflowHandle {
    return this.temporal.client.workflow.getHandle('alcaide-hello', runId);
  }

  /** `alcaide deploy --detach`, then the handle of the run it started. */
  async deployDetached(): Promise<WorkflowHandle> {
    const before = await this.handle()
      .describe()
      .then((d) => d.runId)
      .catch(() => undefined);
    const r = await this.cli(['deploy', '--detach']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const d = await this.handle().describe();
    assert.notEqual(d.runId, before, 'a new run');
    return this.handle(d.runId);
  }

  async status(h: WorkflowHandle): Promise<WorkflowStatus | undefined> {
    return queryStatus(h).catch(() => undefined);
  }

  through(): Promise<string> {
    return servedBy(this.host);
  }

  hostState(): Promise<HostState> {
    return hostStateOf(this.host);
  }

  commandsSince(n: number): Array<{ t: number; cmd: string }> {
    return readCommandLog(this.host)
      .slice(n)
      .map((e) => ({ t: e.t * 1000, cmd: e.cmd ?? '' }));
  }

  /** FreeBSD stand-ins run on the host since entry `n` of its invocation log: what really ran. */
  invocationsSince(n: number): InvocationEntry[] {
    return readInvocations(this.host).slice(n);
  }

  logLength(): number {
    return readCommandLog(this.host).length;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a host's Caddy serves on :80 (`STATUS BODY`, or `error ...`). */
export async function servedBy(h: SimHost): Promise<string> {
  try {
    const r = await fetch(`http://${h.host}/`, { signal: AbortSignal.timeout(5_000) });
    return `${r.status} ${await r.text()}`;
  } catch (e) {
    return `error ${(e as Error).message}`;
  }
}

/** The app `hello` on a host: what its Caddy serves, its slot jails (running, in jail_list, configured) and where the app runs. */
export async function hostStateOf(h: SimHost): Promise<HostState> {
  const out = (
    await sshRun(
      h,
      'jls -N name; echo --; sysrc -n jail_list; echo --; ls /etc/jail.conf.d; echo --; for s in blue green; do if service -j hello_$s hello status >/dev/null 2>&1; then echo $s; fi; done',
    )
  ).stdout;
  const [running = '', list = '', confs = '', apps = ''] = out.split('--\n');
  const words = (s: string) => s.split(/\s+/).filter(Boolean);
  const app = words(apps);
  return {
    body: await servedBy(h),
    running: words(running)
      .filter((j) => /^hello_(blue|green)$/.test(j))
      .sort(),
    jailList: words(list)
      .filter((j) => /^hello_(blue|green)$/.test(j))
      .sort(),
    confs: words(confs)
      .filter((f) => /^hello_(blue|green)\.conf$/.test(f))
      .sort(),
    appRunning: { blue: app.includes('blue'), green: app.includes('green') },
  };
}
