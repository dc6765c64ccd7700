// The project an end-to-end file starts from: a simulated FreeBSD host and a Temporal dev
// server (started side by side), the fixture app `hello` committed in a git repository with
// its deploy.yml pointed at the host, the real CLI run in it, and — when the file uses secrets —
// the master key, `secrets init` and the values set as an operator would.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parse, stringify } from 'yaml';
import type { CodecKey } from '../../src/temporal/codec';
import { simServerYaml, startSimHosts, type SimHost, type SimHosts } from '../simhost/index';
import { runCliAsync, tempProject, type CliResult } from './cli';
import { REPO_ROOT } from './paths';
import { startTestEnv } from './temporal';

export const MAKE_APP = path.join(REPO_ROOT, 'test', 'fixtures', 'make-app.sh');

/** deploy.yml of `hello` on `host` with the health check every end-to-end file uses; `extra`'s top-level keys replace or add to it. */
export function deployYml(host: SimHost, extra: Record<string, unknown> = {}): string {
  return stringify({ app: 'hello', ...parse(simServerYaml(host)), health_check: { path: '/health', interval: '200ms', timeout: '20s' }, ...extra });
}

export const ok = (r: CliResult) => assert.equal(r.code, 0, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);

export interface E2eOptions {
  /** temp directory prefix */
  prefix: string;
  /** ALCAIDE_TASK_QUEUE of the CLI */
  queue: string;
  /** deploy.yml's keys beyond the app, the host and the health check (see deployYml) */
  config?: Record<string, unknown>;
  /** ALCAIDE_MASTER_KEY of the CLI */
  masterKey?: Buffer;
  /** what `env.client` encrypts and decrypts with (startTestEnv's codecKeys) */
  codecKeys?: CodecKey[];
  /** simulated hosts: more than one makes deploy.yml list them all under `servers:` (see fleetYml) */
  hosts?: number;
}

/** deploy.yml of `hello` on several hosts (`servers:`), one known_hosts file for them all (written to `knownHosts`). */
export function fleetYml(hosts: SimHost[], knownHosts: string, extra: Record<string, unknown> = {}): string {
  writeFileSync(knownHosts, hosts.map((h) => readFileSync(h.knownHostsFile, 'utf8').trim()).join('\n') + '\n');
  return stringify({
    app: 'hello',
    servers: hosts.map((h) => ({ host: h.host })),
    ssh: { keys: hosts.map((h) => h.privateKey), known_hosts: knownHosts },
    health_check: { path: '/health', interval: '200ms', timeout: '20s' },
    ...extra,
  });
}

export class E2eProject {
  sim!: SimHosts;
  host!: SimHost;
  /** every simulated host (host is the first) */
  hosts!: SimHost[];
  env!: TestWorkflowEnvironment;
  readonly project: { dir: string; cleanup: () => void };
  /** the app's repository, where the CLI runs */
  readonly app: string;

  private constructor(private readonly o: E2eOptions) {
    this.project = tempProject(o.prefix);
    this.app = path.join(this.project.dir, 'hello');
  }

  /** Host and server up, the fixture app 1.0.0 and its deploy.yml committed. */
  static async start(o: E2eOptions): Promise<E2eProject> {
    const p = new E2eProject(o);
    [p.sim, p.env] = await Promise.all([startSimHosts({ hosts: o.hosts ?? 1 }), startTestEnv({ codecKeys: o.codecKeys })]);
    p.hosts = p.sim.hosts;
    p.host = p.hosts[0]!;
    assert.equal(spawnSync('sh', [MAKE_APP, p.app, '1.0.0']).status, 0);
    const yml = p.hosts.length > 1 ? fleetYml(p.hosts, path.join(p.project.dir, 'known_hosts'), o.config) : deployYml(p.host, o.config);
    writeFileSync(path.join(p.app, 'deploy.yml'), yml);
    p.commit('config');
    return p;
  }

  cliEnv(): NodeJS.ProcessEnv {
    return {
      TEMPORAL_ADDRESS: this.env.address,
      ALCAIDE_TASK_QUEUE: this.o.queue,
      SSH_AUTH_SOCK: '',
      NO_COLOR: '1',
      ...(this.o.masterKey ? { ALCAIDE_MASTER_KEY: this.o.masterKey.toString('base64') } : {}),
    };
  }

  /** The real CLI in the app's repository. */
  cli(args: string[], o: { input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
    return runCliAsync(args, { cwd: this.app, env: this.cliEnv(), input: o.input, timeoutMs: o.timeoutMs ?? 300_000 });
  }

  git(...a: string[]) {
    return spawnSync('git', ['-C', this.app, '-c', 'user.name=t', '-c', 'user.email=t@t', ...a], { encoding: 'utf8' });
  }

  /** Commits everything; the git status (0: committed). */
  commit(message: string): number | null {
    this.git('add', '-A');
    return this.git('commit', '-qm', message).status;
  }

  head(): string {
    return this.git('rev-parse', 'HEAD').stdout.trim();
  }

  /** Commits version `v` of the fixture app (make-app.sh's `flags` break it on purpose); the commit. */
  commitVersion(v: string, flags: string[] = []): string {
    const tmp = path.join(this.project.dir, `v-${v}-${flags.join('')}`);
    assert.equal(spawnSync('sh', [MAKE_APP, tmp, v, ...flags]).status, 0);
    spawnSync('sh', [
      '-c',
      `rm -rf "${this.app}/lib" "${this.app}/priv" "${this.app}/VERSION" && cp -R "${tmp}/lib" "${tmp}/priv" "${tmp}/VERSION" "${this.app}/"`,
    ]);
    assert.equal(this.commit(`v${v}${flags.join('')}`), 0);
    return this.head();
  }

  /** `secrets init` (the .gitignore lines it adds committed before any deploy, as a user would), then each value set through stdin. */
  async secrets(values: Record<string, string>): Promise<void> {
    ok(await this.cli(['secrets', 'init']));
    this.git('add', '.gitignore');
    this.git('commit', '-qm', 'ignore the master key');
    for (const [name, value] of Object.entries(values)) ok(await this.cli(['secrets', 'set', name], { input: value }));
  }

  async stop(): Promise<void> {
    await this.sim?.down();
    await this.env?.teardown();
    this.project.cleanup();
  }
}
