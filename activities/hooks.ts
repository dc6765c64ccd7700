// A hook (docs/hooks.md): the project's executable .alcaide/hooks/HOOK, run on this worker with
// the project root as its directory and an environment that describes the run, then the
// command deploy.yml configures for it in the slot jail. A non-zero exit, a timeout or a hook
// missing on this worker is final (HookFailed): running it again would not help.
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CancelledFailure } from '@temporalio/common';
import { failure } from '../src/failures';
import { appCommand, asAppUser } from '../src/freebsd/app';
import { flightKey, singleFlight } from '../src/freebsd/flight';
import { redactSecrets } from '../src/model/redact';
import { formatDuration } from '../src/model/duration';
import { hookPath, type HookRun } from '../src/model/hooks';
import type { StepResult } from '../src/model/step';
import type { AppTarget } from '../src/model/target';
import { jailNotRunning } from './build';
import type { ActivityDeps } from './deps';
import { layoutOf } from './jails';
import { activityCancellation, outputTail, precondition, withHeartbeat } from './remote';

/** A killed hook's processes get this long after SIGTERM before SIGKILL. */
const KILL_GRACE_MS = 5_000;
/** How much of a hook's output is kept for its error and note. */
const OUTPUT_KEPT = 16 * 1024;

/**
 * The executable's environment: the worker's PATH and HOME, the secrets the config names for
 * this hook (none else), the ALCAIDE_* variables of the run, and when it runs.
 */
export function hookEnvironment(run: HookRun, secrets: Record<string, string>, worker: NodeJS.ProcessEnv, recordedAt: string): Record<string, string> {
  const named = run.secrets ?? [];
  const missing = named.filter((n) => !(n in secrets));
  if (missing.length) throw precondition(`${run.hook} hook: secrets missing from the secrets file: ${missing.join(', ')} (alcaide secrets set NAME)`);
  return {
    ...(worker.PATH !== undefined && { PATH: worker.PATH }),
    ...(worker.HOME !== undefined && { HOME: worker.HOME }),
    ...Object.fromEntries(named.map((n) => [n, secrets[n]!])),
    ...run.vars,
    ALCAIDE_RECORDED_AT: recordedAt,
  };
}

/** The last lines of a hook's output, for its error. */
const tailOf = (out: string) => outputTail({ stdout: out, stderr: '' });
/** The last line of a hook's output, for its note. */
const lastLine = (out: string) => out.trim().split('\n').pop()?.slice(0, 160) ?? '';

/** Runs the executable; resolves with its output, fails with its exit code and output's tail. */
async function runLocal(d: ActivityDeps, t: AppTarget, run: HookRun): Promise<string> {
  const rel = hookPath(run.hook);
  const file = path.join(t.projectRoot, rel);
  try {
    await access(file, constants.X_OK);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'is not there' : 'is not executable';
    throw failure('HookFailed', `${rel} ${why} on the worker ${os.hostname()} (${t.projectRoot}): a worker runs hooks from its own checkout`);
  }
  const secrets = run.secrets?.length ? d.secrets(t) : {};
  const env = hookEnvironment(run, secrets, process.env, new Date(d.clock.now()).toISOString());
  // a secret the hook was given and printed stays out of its error, note and the worker's log
  const given = Object.fromEntries((run.secrets ?? []).flatMap((n) => (n in secrets ? [[n, secrets[n]!]] : [])));
  const started = d.clock.now();
  // its own process group: a timeout or a cancellation ends every process it started
  const child = spawn(file, [], { cwd: t.projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  const keep = (chunk: Buffer) => {
    out = (out + chunk.toString('utf8')).slice(-OUTPUT_KEPT);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let ended: string | undefined;
  const kill = (why: string) => {
    if (ended || child.exitCode !== null) return;
    ended = why;
    const group = (sig: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, sig);
      } catch {
        /* already gone */
      }
    };
    group('SIGTERM');
    setTimeout(() => group('SIGKILL'), KILL_GRACE_MS).unref();
  };
  const timer = setTimeout(() => kill(`did not finish within ${formatDuration(run.timeoutMs)}: stopped`), run.timeoutMs);
  const cancel = activityCancellation();
  const onCancel = () => kill('cancelled');
  cancel?.addEventListener('abort', onCancel);
  try {
    const [code, signal] = await withHeartbeat(
      () =>
        new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
          child.once('error', reject);
          child.once('close', (c, s) => resolve([c, s]));
          // a process it left running in the background may keep its output open: not waited for
          child.once('exit', (c, s) => setTimeout(() => resolve([c, s]), 2_000).unref());
        }),
      () => ({ hook: run.hook }),
    );
    out = redactSecrets(out, given);
    d.log.debug(`${run.hook} hook ended`, { code, signal, ms: d.clock.now() - started, output: tailOf(out) });
    if (ended === 'cancelled') throw new CancelledFailure(`${run.hook} hook cancelled`);
    if (ended || code !== 0) {
      const how = ended ?? (code === null ? `was killed (${signal})` : `exited ${code}`);
      throw failure('HookFailed', `${rel} ${how}${out.trim() ? `:\n${tailOf(out)}` : ' (no output)'}`);
    }
    return `${rel} ok${lastLine(out) ? `: ${lastLine(out)}` : ''}`;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code) throw failure('HookFailed', `${rel} could not start: ${(e as Error).message}`);
    throw e;
  } finally {
    clearTimeout(timer);
    cancel?.removeEventListener('abort', onCancel);
    child.stdout.destroy();
    child.stderr.destroy();
  }
}

/** Runs the configured command in the slot jail as the app user with the app's environment, one attempt at a time. */
async function runRemote(d: ActivityDeps, t: AppTarget, run: HookRun): Promise<string> {
  if (!run.slot) throw precondition(`${run.hook} hook: no slot to run its remote command in`);
  const name = layoutOf(t).jailName(run.slot);
  const command = singleFlight(flightKey(name, `hook-${run.hook}`), asAppUser(name, t.app, appCommand(t.app, ['/bin/sh', '-c', run.remote!])));
  const label = `${run.hook} hook in ${name}`;
  const res = await d
    .remote(t)
    .check(command, label, { timeoutMs: run.timeoutMs })
    .catch((e: unknown) => {
      // its own limit is the hook's failure, not a link to retry
      if ((e as { type?: string }).type === 'SshTimeoutError')
        throw failure('HookFailed', `${label} did not finish within ${formatDuration(run.timeoutMs)}: stopped`);
      throw e;
    });
  // the command runs with the app's environment: a secret of it it printed stays out of its error and note
  const secrets = t.envSecretNames.length ? d.secrets(t) : {};
  const shown = { ...res, stdout: redactSecrets(res.stdout, secrets), stderr: redactSecrets(res.stderr, secrets) };
  if (res.code !== 0) {
    const down = jailNotRunning(res, name, t.server.host);
    if (down) throw down;
    throw failure('HookFailed', `${label} on ${t.server.host} exited ${res.code}:\n${outputTail(shown)}`);
  }
  return `ran in ${name}${lastLine(shown.stdout) ? `: ${lastLine(shown.stdout)}` : ''}`;
}

/** One hook: the executable, then the remote command, as the run's input says. */
const runHook =
  (d: ActivityDeps) =>
  async (t: AppTarget, run: HookRun): Promise<StepResult> => {
    const notes: string[] = [];
    if (run.local) notes.push(await runLocal(d, t, run));
    if (run.remote) notes.push(await runRemote(d, t, run));
    return { changed: true, note: notes.join('; ') || 'nothing to run' };
  };

export function createHookActivities(d: ActivityDeps) {
  return { runHook: runHook(d) };
}
