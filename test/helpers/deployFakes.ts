// Deploy workflows on the real dev server with recording fake activities: shared by the
// workflow tests of deploy, hold/retry, bake and resume.
import { Context } from '@temporalio/activity';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { AppTarget } from '../../src/model/target';
import type { HookPlan } from '../../src/model/hooks';
import type { Slot } from '../../src/freebsd/layout';
import { activeOf, parseLiveSlots, slotChoice } from '../../src/freebsd/slotChoice';
import { createWorker } from '../../src/temporal/worker';
import type { DeployInput } from '../../workflows/deploy';
import { DEPLOY_STEPS } from '../../workflows/deploySteps';
import { activitiesOf, type StepTable } from '../../workflows/stepTable';
import { STEP_TABLES } from '../../workflows/stepTables';
import type { WorkflowStatus } from '../../workflows/status';
import { TEST_TARGET } from './target';
import { FAKE_HEARTBEAT_THROTTLE, testSettings } from './temporal';
import { queryStatus } from '../../src/temporal/statusQuery';

export const VERSION = 'a'.repeat(40);
export const TARGET: AppTarget = TEST_TARGET;

const TABLE: StepTable = DEPLOY_STEPS;
/** Step → its activity, from the deploy's step table. */
export const ACTIVITY_OF: Record<string, string> = Object.fromEntries(TABLE.filter((s) => s.activity).map((s) => [s.name, s.activity!]));
/**
 * Steps outside the failure and abort sweeps: only a kept release's deploy checks it, only a
 * canary's runs the canary; the prune's failure fails nothing (their own tests).
 */
export const OWN_TESTS = ['checkKeptRelease', 'canary', 'pruneReleases'];
/** Activities of the steps, in order, as a deploy without a bake schedules them once each. */
export const STEP_ACTIVITIES: string[] = TABLE.filter((s) => s.activity && s.name !== 'bake' && !OWN_TESTS.includes(s.name)).map((s) => s.activity!);
export const UNDO = TABLE.flatMap((s) => (s.undo ? [s.undo.activity] : []));

export type Mode = { fail?: string; block?: string };
/** The slots the host reports live (gate open, jail running) and its recorded active slot; one slot: that one alone is live. */
export type HostSlots = Slot | { live: Slot[]; recorded?: Slot };

/**
 * Fake activities: record `name(args)`, fail or block (until cancelled) where told.
 * chooseSlot answers with the product's choice on `host`, as liveSlots would print it.
 * A hook records `hook:NAME(slot)`; `fail: 'hook:NAME'` fails that hook alone.
 */
export function fakes(mode: Mode, host?: HostSlots) {
  const { live, recorded } = typeof host === 'string' ? { live: [host], recorded: host } : (host ?? { live: [] });
  const calls: string[] = [];
  /** destroySlot's third argument, per call: did the slot take traffic (drain it) or not (kill it)? */
  const tookTraffic: unknown[] = [];
  const blocked: { resolve?: () => void } = {};
  const reached = new Promise<void>((r) => (blocked.resolve = r));
  const acts: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  // every activity the deploy's step table names: its steps', the bake's checks, its undos, its hooks'
  for (const name of activitiesOf(STEP_TABLES.deploy.steps)) {
    acts[name] = async (...args: unknown[]) => {
      const hook = name === 'runHook' ? (args[1] as { hook: string; slot?: string }) : undefined;
      const slots = hook ? (hook.slot ? [hook.slot] : []) : args.slice(1).filter((a) => a === 'blue' || a === 'green' || a === undefined);
      const label = hook ? `hook:${hook.hook}` : name;
      calls.push(`${label}${slots.length ? `(${slots.map(String).join(',')})` : ''}`);
      if (name === 'destroySlot') tookTraffic.push(args[2]);
      if (mode.fail === label)
        throw ApplicationFailure.create({ message: `injected failure in ${label}`, type: hook ? 'HookFailed' : 'BuildFailed', nonRetryable: true });
      // the drain of a slot with a request in flight all along: drain_timeout, or until cancelled
      if (name === 'drainSlot' && mode.block !== label) await heartbeatFor((args[0] as AppTarget).drainTimeoutMs, () => calls.push(`${name}:cancelled`));
      if (mode.block === label) {
        blocked.resolve?.();
        const ctx = Context.current();
        for (;;) {
          ctx.heartbeat();
          await Promise.race([ctx.cancelled, new Promise((r) => setTimeout(r, 50))]).catch((e) => {
            calls.push(`${name}:cancelled`);
            throw e;
          });
        }
      }
      if (name === 'chooseSlot') return slotChoice(activeOf(parseLiveSlots(live.map((s) => `${s}\n`).join('')), recorded && `${recorded}\n`));
      return { changed: true, note: `did ${name}` };
    };
  }
  return { calls, acts, reached, tookTraffic };
}

/** Heartbeats for `ms` (a fake step that takes time), ending early when the activity is cancelled. */
async function heartbeatFor(ms: number, onCancel: () => void): Promise<void> {
  const ctx = Context.current();
  const end = Date.now() + ms;
  while (Date.now() < end) {
    ctx.heartbeat();
    await Promise.race([ctx.cancelled, new Promise((r) => setTimeout(r, Math.min(50, end - Date.now())))]).catch((e) => {
      onCancel();
      throw e;
    });
  }
}

let n = 0;

/** A worker with `acts` on a fresh task queue for as long as `fn` runs. */
export async function withFakeWorker<T>(env: TestWorkflowEnvironment, acts: object, fn: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `deploy-test-${process.pid}-${n++}`;
  const worker: Worker = await createWorker(env.nativeConnection, testSettings(env.address, taskQueue), 'worker', acts, FAKE_HEARTBEAT_THROTTLE);
  return worker.runUntil(() => fn(taskQueue));
}

export function startDeploy(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  workflowId: string,
  target: AppTarget = TARGET,
  input: Partial<DeployInput> = {},
): Promise<WorkflowHandle> {
  return env.client.workflow.start('deployWorkflow', {
    taskQueue,
    workflowId,
    args: [{ target, version: VERSION, ref: 'HEAD', startedBy: 'test@ci', ...input }],
  });
}

/** Runs deployWorkflow on its own task queue with `acts` until it ends; `during` runs beside it. */
export async function deploy(
  env: TestWorkflowEnvironment,
  acts: object,
  opts: { target?: AppTarget; input?: Partial<DeployInput>; hooks?: HookPlan; during?: (workflowId: string) => Promise<void> } = {},
): Promise<{ status?: WorkflowStatus; error?: WorkflowFailedError; workflowId: string }> {
  return withFakeWorker(env, acts, async (taskQueue) => {
    const workflowId = `deploy-${taskQueue}`;
    const handle = await startDeploy(env, taskQueue, workflowId, opts.target, { ...opts.input, ...(opts.hooks && { hooks: opts.hooks }) });
    const during = opts.during?.(workflowId);
    try {
      const status = (await handle.result()) as WorkflowStatus;
      await during;
      return { status, workflowId };
    } catch (e) {
      await during;
      if (e instanceof WorkflowFailedError) return { error: e, workflowId };
      throw e;
    }
  });
}

export const statusOf = (e?: WorkflowFailedError) => (e?.cause as ApplicationFailure | undefined)?.details?.[0] as WorkflowStatus;

/** Polls the status query until `pred` holds (the workflow's first task may not have run yet). */
export async function waitForStatus(handle: WorkflowHandle, pred: (s: WorkflowStatus) => boolean, timeoutMs = 20_000): Promise<WorkflowStatus> {
  const end = Date.now() + timeoutMs;
  let last: WorkflowStatus | undefined;
  while (Date.now() < end) {
    last = await queryStatus(handle).catch(() => undefined);
    if (last && pred(last)) return last;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`status never matched; last: ${JSON.stringify(last)}`);
}
