// How soon the CLI gets going, without a host (`node dist/bench/cli-startup.bench.js`, part of
// `npm run bench`): writes bench/results/cli-startup-DATE.json.
//   - deployToStartMs: `alcaide deploy` spawned → its workflow's first history event, with a
//     long-lived `alcaide worker` polling (as bench/deploy.bench.ts runs it). The server is an
//     address nothing answers on, so the run fails at its first step or is terminated: no host
//     is needed;
//   - helpMs, versionMs: `alcaide --help` and `alcaide version`, spawned → exited.
// The first run of each command fills the CLI's code cache (bin/alcaide) and is not counted.
// BENCH_ROUNDS (default 7) sets how many runs of each; BENCH_BASELINE=/other/checkout/bin/alcaide
// measures that CLI too, its runs interleaved with this one's (same load), as `baseline`
// (named BENCH_BASELINE_LABEL in the JSON, its path by default).
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { cliEnv, tempProject } from '../test/helpers/cli';
import { PersistentDevServer, freePort } from '../test/helpers/devServer';
import { WorkerProcess } from '../test/helpers/workerProcess';
import { MAKE_APP, MASTER_KEY, sleep } from '../test/helpers/faultRig';
import { CLI } from '../test/helpers/paths';
import { percentile } from '../test/helpers/load';
import { codecKey } from '../src/temporal/codec';
import { loadAverage, machine, writeResults } from './results';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const QUEUE = 'cli-startup-bench';
const median = (xs: number[]) => percentile(xs, 50);
const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;

interface Runs {
  deployToStartMs: number[];
  helpMs: number[];
  versionMs: number[];
}

const medians = (r: Runs) => ({ deployToStartMs: median(r.deployToStartMs), helpMs: median(r.helpMs), versionMs: median(r.versionMs) });

async function wallMs(cli: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<number> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [cli, ...args], { cwd, env, stdio: 'ignore' });
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0, `alcaide ${args.join(' ')} exited ${code}`);
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const loadAtStart = loadAverage();
  const project = tempProject('alcaide-cli-bench-');
  const app = path.join(project.dir, 'hello');
  const temporal = await PersistentDevServer.start(undefined, [codecKey(MASTER_KEY, 'bench master key')]);
  let worker: WorkerProcess | undefined;
  try {
    assert.equal(spawnSync('sh', [MAKE_APP, app, '1.0.0']).status, 0);
    writeFileSync(path.join(app, 'deploy.yml'), `app: hello\nserver:\n  host: 127.0.0.1\n  port: ${await freePort()}\n`);
    spawnSync('git', ['-C', app, 'add', 'deploy.yml']);
    assert.equal(spawnSync('git', ['-C', app, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'config']).status, 0);
    const env = cliEnv({ TEMPORAL_ADDRESS: temporal.address, ALCAIDE_TASK_QUEUE: QUEUE, SSH_AUTH_SOCK: '', ALCAIDE_MASTER_KEY: MASTER_KEY.toString('base64') });
    worker = await WorkerProcess.start({ cwd: app, env });
    const handle = (runId?: string) => temporal.client.workflow.getHandle('alcaide-hello', runId);

    /** spawn → first history event of the run it starts; the run is ended and the CLI awaited. */
    const deployOnce = async (cli: string): Promise<number> => {
      const before = await handle()
        .describe()
        .then((d) => d.runId)
        .catch(() => undefined);
      const startedAt = Date.now();
      const child = spawn(process.execPath, [cli, 'deploy'], { cwd: app, env, stdio: 'ignore' });
      const exited = once(child, 'exit');
      let runId: string | undefined;
      while (!runId) {
        const d = await handle()
          .describe()
          .catch(() => undefined);
        if (d && d.runId !== before) runId = d.runId;
        else if (child.exitCode !== null) throw new Error(`alcaide deploy exited ${child.exitCode} before starting its workflow`);
        else await sleep(10);
      }
      const first = (await handle(runId).fetchHistory()).events?.[0];
      await handle(runId)
        .terminate('cli-startup bench')
        .catch(() => undefined); // failed by itself already: no SSH key
      await exited;
      return ms(first?.eventTime) - startedAt;
    };

    const clis = [CLI, ...(process.env.BENCH_BASELINE ? [process.env.BENCH_BASELINE] : [])];
    const runs = clis.map((): Runs => ({ deployToStartMs: [], helpMs: [], versionMs: [] }));
    for (const cli of clis) {
      await deployOnce(cli);
      await wallMs(cli, ['--help'], app, env);
      await wallMs(cli, ['version'], app, env);
    }
    for (let i = 0; i < ROUNDS; i++) {
      for (const [j, cli] of clis.entries()) {
        runs[j]!.deployToStartMs.push(Math.round(await deployOnce(cli)));
        runs[j]!.helpMs.push(Math.round(await wallMs(cli, ['--help'], app, env)));
        runs[j]!.versionMs.push(Math.round(await wallMs(cli, ['version'], app, env)));
        await sleep(300); // the worker's last run winds down
      }
    }
    const figures = {
      machine: machine(),
      loadavgAtStart: loadAtStart,
      rounds: ROUNDS,
      ...runs[0]!,
      median: medians(runs[0]!),
      ...(runs[1] && { baseline: { cli: process.env.BENCH_BASELINE_LABEL ?? clis[1], ...runs[1], median: medians(runs[1]) } }),
      loadavgAtEnd: loadAverage(),
    };
    const file = writeResults('cli-startup', figures);
    const line = (what: string, r: Runs) =>
      `${what}: alcaide deploy → workflow start median ${median(r.deployToStartMs)} ms (${r.deployToStartMs.join(', ')}); ` +
      `--help ${median(r.helpMs)} ms; version ${median(r.versionMs)} ms`;
    console.log(
      [
        line('this checkout', runs[0]!),
        ...(runs[1] ? [line(`baseline ${clis[1]}`, runs[1])] : []),
        `load ${loadAtStart} → ${figures.loadavgAtEnd}; written to ${file}`,
      ].join('\n'),
    );
  } finally {
    await worker?.kill('SIGTERM');
    await temporal.close();
    project.cleanup();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
