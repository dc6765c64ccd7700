// `alcaide worker` as a process of its own, as an operator runs it: started, awaited until it
// polls, killed with -9 to test what a lost worker leaves behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { CLI } from './paths';
import { within } from './within';

export interface WorkerOptions {
  cwd: string;
  /** the whole environment of the process */
  env: NodeJS.ProcessEnv;
  /** the CLI to run (another checkout's, for upgrades); ours by default */
  cli?: string;
  /** what the errors call it */
  name?: string;
  /** every chunk it writes, stdout and stderr alike */
  onOutput?: (chunk: string) => void;
}

export class WorkerProcess {
  output = '';

  private constructor(
    readonly proc: ChildProcess,
    readonly name: string,
  ) {}

  /** Spawns the worker; resolves once it polls its task queue. */
  static async start(o: WorkerOptions): Promise<WorkerProcess> {
    const proc = spawn(process.execPath, [o.cli ?? CLI, 'worker'], { cwd: o.cwd, env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const w = new WorkerProcess(proc, o.name ?? 'the worker');
    await within(
      90_000,
      `${w.name} polls`,
      new Promise<void>((resolve, reject) => {
        const on = (d: Buffer) => {
          w.output += d;
          o.onOutput?.(String(d));
          if (/worker polling/.test(w.output)) resolve();
        };
        proc.stdout!.on('data', on);
        proc.stderr!.on('data', on);
        proc.on('exit', (c, s) => reject(new Error(`${w.name} exited (${c ?? s}) before polling: ${w.output}`)));
      }),
    );
    return w;
  }

  alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.alive()) return;
    const exited = once(this.proc, 'exit');
    this.proc.kill(signal);
    await exited;
  }
}
