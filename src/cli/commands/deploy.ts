import os from 'node:os';
import type { Command } from 'commander';
import type { Client, WorkflowHandle } from '@temporalio/client';
import logUpdate from 'log-update';
import { appWorkflowId, type AppTarget } from '../../model/target';
import { toAppTarget } from '../../config/target';
import { parseDuration } from '../../model/duration';
import { checkAppSecrets } from '../../config/secrets';
import { UserError } from '../../errors';
import type { DriveOptions } from '../../temporal/embedded';
import { appSearchAttributes } from '../../model/searchAttributes';
import { workflowUiUrl, type TemporalSettings } from '../../temporal/settings';
import { queryStatus } from '../../temporal/statusQuery';
import { describeIfAny } from '../../temporal/describe';
import { STOPPABLE_STATES, type WorkflowStatus } from '../../../workflows/status';
import type { StartSpec } from '../follow';
import { configFor, fleetConfigFor, oneHostConfigFor, onHost, pickedHosts, temporalFor } from '../context';
import type { Config } from '../../config/load';
import { commitOf, resolveVersion } from '../git';
import { hookPlan, hooksFor, type FoundHooks } from '../hooks';
import { gatePlan } from '../gates';
import { chooseKept, type KeptChoice } from '../releasesView';
import { ROLLBACK_HOOKS } from '../../../workflows/hookSteps';
import { color, mark } from '../output';
import { progressMode, type ProgressMode } from '../progress';
import { canaryPlanFor } from '../canary';

export { appWorkflowId };

export const startedBy = () => `${os.userInfo().username}@${os.hostname()}`;

export function withTemporal<T>(t: AppTarget, cmd: Command, fn: (client: Client, s: TemporalSettings) => Promise<T>): Promise<T> {
  return withTemporalAfter(undefined, t, cmd, fn);
}

/**
 * withTemporal once `checks` end (git's processes, started before): they go on while Temporal's
 * client loads, and their refusal comes before anything is asked of the server (a connection
 * being made could hold the process until its timeout).
 */
async function withTemporalAfter<T>(
  checks: Promise<unknown> | undefined,
  t: AppTarget,
  cmd: Command,
  fn: (client: Client, s: TemporalSettings) => Promise<T>,
): Promise<T> {
  checks?.catch(() => undefined); // awaited below, once the client has loaded
  const { connectClient } = await import('../../temporal/connection');
  await checks;
  const settings = temporalFor(configFor(cmd));
  const client = await connectClient(settings);
  try {
    return await fn(client, settings);
  } finally {
    await client.connection.close();
  }
}

export async function isRunning(handle: WorkflowHandle): Promise<boolean> {
  return (await describeIfAny(handle))?.status.name === 'RUNNING';
}

export function summary(s: WorkflowStatus): string {
  // a post-* hook that failed: reported, and the run stands (docs/hooks.md)
  const warned = s.steps
    .filter((x) => x.state === 'warned')
    .map((x) => `\n${mark.warn()} ${x.title} failed (the ${s.kind.replace(/^fleet-/, '')} stands): ${x.error ?? ''}`);
  return outcome(s) + warned.join('');
}

function outcome(s: WorkflowStatus): string {
  const took = s.endedAt ? ` in ${((s.endedAt - s.startedAt) / 1000).toFixed(1)}s` : '';
  if (s.kind === 'fleet-rollback')
    return `${mark.ok()} ${s.app} rolled back to ${s.version?.slice(0, 12) ?? ''} on ${s.hosts?.length} hosts (${s.hosts?.map((h) => `${h.host} ${h.slot ?? '?'}`).join(', ')})${took}`;
  if (s.kind === 'fleet-deploy')
    return `${mark.ok()} ${s.app} ${s.version?.slice(0, 12) ?? ''} live on ${s.hosts?.length} hosts (${s.hosts?.map((h) => `${h.host} ${h.slot ?? '?'}`).join(', ')}; the previous slots stopped, kept for rollback)${took}`;
  if (s.kind === 'rebuild') return `${mark.ok()} ${s.app}'s build jail rebuilt${s.version ? ` and proven with ${s.version.slice(0, 12)}` : ''}${took}`;
  if (s.kind === 'remove') return `${mark.ok()} ${s.app} removed from ${s.host}${took}`;
  const what = s.kind === 'rollback' ? 'rolled back to' : 'live on';
  return `${mark.ok()} ${s.app} ${s.version?.slice(0, 12) ?? ''} ${what} ${s.slot}${s.previousSlot ? ` (${s.previousSlot} stopped, kept for rollback)` : ''}${took}`;
}

/** The workflow this command drives, watched for tasks no worker picks up (see withWorkerIfNone). */
export function driving(workflowId: string, what: string, mode: ProgressMode): DriveOptions {
  return {
    workflowId,
    what,
    // a line of its own above the live progress; never inside the JSON lines
    say: (line) => {
      if (mode === 'tty') logUpdate.clear();
      (mode === 'json' ? console.error : console.log)(`${mark.warn()} ${line}`);
    },
  };
}

/** Starts a workflow and follows it to its end, with a worker of this process when no other picks it up. */
export async function startAndFollowWithWorker(client: Client, s: TemporalSettings, spec: StartSpec, mode: ProgressMode): Promise<WorkflowStatus> {
  const { withWorkerIfNone } = await import('../../temporal/embedded');
  const { startAndFollow } = await import('../follow');
  return withWorkerIfNone(client, s, () => startAndFollow(client, s, spec, mode), driving(spec.workflowId, spec.what, mode));
}

export async function followWithWorker(client: Client, s: TemporalSettings, handle: WorkflowHandle, mode: ProgressMode, what: string): Promise<WorkflowStatus> {
  const { withWorkerIfNone } = await import('../../temporal/embedded');
  const { follow } = await import('../follow');
  return withWorkerIfNone(client, s, () => follow(handle, mode), driving(handle.workflowId, what, mode));
}

/** `rollback --to`: the kept release VERSION names on the host, read before anything changes (exit 2 when it keeps none such). */
async function keptRelease(config: Config, target: AppTarget, to: string): Promise<KeptChoice> {
  if (target.fleet)
    throw new UserError(
      'rollback --to acts on one server: a fleet rolls back to its kept slots (alcaide rollback), or deploys the version again (alcaide deploy --ref)',
      2,
    );
  const { readReleases } = await import('./releases');
  const { read, failed } = await readReleases(config, config.hosts);
  if (failed.length) throw new UserError(`cannot read the kept releases: ${failed.join('; ')}`);
  return chooseKept(to, read, commitOf(config.root, to));
}

/** `status --all`: every app on each host picked (all of them by default), read from the hosts. */
async function hostsOverview(cmd: Command, opts: { watch?: boolean; json?: boolean }): Promise<void> {
  if (opts.watch) throw new UserError('status --all reads the hosts once: --watch does not apply', 2);
  const config = configFor(cmd);
  const hosts = pickedHosts(config);
  // loaded only now: the SSH side stays out of the CLI bundle (scripts/bundle-cli.js)
  const { readHostOverview } = await import('../../host/overview');
  const read = await Promise.allSettled(hosts.map((h) => readHostOverview(toAppTarget(onHost(config, h)))));
  const failed = read.flatMap((r, i) => (r.status === 'rejected' ? [`${hosts[i]!.host}: ${(r.reason as Error).message}`] : []));
  const views = read.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  if (opts.json) console.log(JSON.stringify(views, null, 2));
  else {
    const { renderHostOverview } = await import('../hostView');
    console.log(views.map(renderHostOverview).join('\n\n'));
  }
  for (const f of failed) console.error(color.red(f));
  if (failed.length) process.exitCode = 1;
}

/** The status of a running workflow, or why it does not answer. */
async function runningStatus(handle: WorkflowHandle, app: string): Promise<WorkflowStatus> {
  const status = await queryStatus(handle).catch(() => undefined);
  if (!status)
    throw new UserError(
      `the deploy of ${app} does not answer: no worker is running it`,
      1,
      'start one with `alcaide worker` or `alcaide deploy --attach`, then retry',
    );
  return status;
}

/**
 * `retry` on a fleet: the hosts held on a failed undo step (all of them, or those -H/-R pick)
 * run it again; each host's own workflow takes the signal, as the Web UI sends it.
 */
async function retryHeldHosts(cmd: Command, config: Config & { selected?: string[] }): Promise<void> {
  const target = toAppTarget(config);
  await withTemporal(target, cmd, async (client) => {
    const handle = client.workflow.getHandle(appWorkflowId(target));
    if (!(await isRunning(handle))) throw new UserError(`no deploy or rollback of ${target.app} is running`);
    const hosts = (await runningStatus(handle, target.app)).hosts ?? [];
    const picked = config.selected ? hosts.filter((h) => config.selected!.includes(h.host)) : hosts;
    const held = picked.filter((h) => h.state === 'held');
    if (!held.length) {
      throw new UserError(
        `no host${config.selected ? ` of ${config.selected.join(', ')}` : ''} of ${target.app} is waiting for an operator (${picked.map((h) => `${h.host}: ${h.state}`).join(', ') || 'no host has started'})`,
      );
    }
    for (const h of held) {
      await client.workflow.getHandle(h.workflowId).signal('retry', { by: startedBy() });
      console.log(`${mark.ok()} retry sent to ${h.host}: ${h.held ? `${h.held.title} runs again` : 'its undo step runs again'}`);
    }
    const rest = picked.filter((h) => h.state !== 'held');
    if (config.selected && rest.length) console.log(`${mark.warn()} not waiting for an operator: ${rest.map((h) => `${h.host} (${h.state})`).join(', ')}`);
    console.log(color.dim('alcaide status --watch to follow'));
  });
}

/** Options a fleet's deploy does not take yet: exit 2 before anything remote. */
function refuseForFleets(opts: DeployOptions, names: Array<keyof DeployOptions>): void {
  const flag = (n: string) => `--${n.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  const given = names.filter((n) => opts[n] !== undefined && opts[n] !== false);
  if (given.length) throw new UserError(`${given.map(flag).join(', ')}: not available for a deploy to several servers`, 2);
}

interface DeployOptions {
  ref: string;
  allowDirty?: boolean;
  detach?: boolean;
  attach?: boolean;
  wait?: boolean;
  trustNewHost?: boolean;
  hold?: boolean;
  bake?: string;
  resumeFromFailure?: boolean;
  json?: boolean;
  skipHooks?: boolean;
  /** a share ("10%"), true (the rollout's steps) or false (--no-canary) */
  canary?: string | boolean;
  approve?: boolean;
  at?: string;
  tz?: string;
}

/** The hooks a command runs; files in .alcaide/hooks/ that are no hook are said, on stderr. */
/** A rollback's hooks: those of the hooks a rollback runs (a deploy's own, e.g. pre-build, do not). */
const rollbackHooks = (found: FoundHooks): FoundHooks => ({ ...found, hooks: found.hooks.filter((h) => h.hook in ROLLBACK_HOOKS) });

function hooksOf(config: Config, fleet: boolean, skip: boolean | undefined): FoundHooks {
  const found = hooksFor(config, { skip, fleet });
  for (const f of found.ignored)
    console.error(`${mark.warn()} .alcaide/hooks/${f} is not a hook name and never runs (docs/hooks.md; a sample ends in .sample)`);
  return found;
}

export function registerDeploy(program: Command): void {
  program
    .command('deploy')
    .description('build and deploy a commit blue/green with zero downtime (a durable workflow)')
    .option('--ref <ref>', 'commit, tag or branch to deploy', 'HEAD')
    .option('--allow-dirty', 'deploy HEAD even with uncommitted changes (they are not deployed)')
    .option('--detach', 'start the deploy and return; follow it with `alcaide status --watch`')
    .option('--attach', 'follow (and drive) the deploy already running')
    .option('--wait', 'if a deploy or rollback is running, wait for it, then deploy')
    .option('--trust-new-host', 'record the server host key if it is not in known_hosts yet')
    .option('--hold', 'on a failure before the switch, wait for `alcaide retry` or `alcaide abort` (on_failure: hold)')
    .option('--bake <duration>', 'after the switch, watch health through Caddy this long; a failed check rolls back (bake)')
    .option('--resume-from-failure', 'run the last failed deploy again from its failed step (Temporal reset), after fixing the cause')
    .option('--json', 'print progress as JSON lines')
    .option('--skip-hooks', 'run no hook: neither .alcaide/hooks/ nor the hooks of deploy.yml (docs/hooks.md)')
    .option(
      '--canary [share]',
      "a canary: that share of clients on the new slot (e.g. 10%), watched, then all; alone, the steps of deploy.yml's rollout (docs/canary.md)",
    )
    .option('--no-canary', 'every client at once, even with a rollout in deploy.yml')
    .option('--approve', 'once the new slot is healthy, wait for `alcaide approve` before traffic moves (approval: before_switch)')
    .option('--no-approve', 'no wait for approval this time, whatever deploy.yml says')
    .option('--at <TIME>', 'switch traffic not before TIME: HH:MM (its next occurrence) or "YYYY-MM-DD HH:MM", in --tz')
    .option('--tz <ZONE>', "the zone of --at, an IANA name such as Europe/Madrid (default: this machine's)")
    .addHelpText(
      'after',
      `
One deploy per app and destination runs at a time. If this command is interrupted, the
deploy waits where it was: \`alcaide deploy --attach\` (or a running \`alcaide worker\`)
finishes it. A failure, \`alcaide abort\` or \`alcaide rollback\` puts the previous slot back.

With several servers (\`servers:\` in deploy.yml) every host is checked first, the release is
built once on the build host and copied to the others, each host prepares its next slot,
migrations run once, and the web hosts switch in batches (\`boot.limit\`, \`boot.wait\`). Until the
last host has switched, a failure anywhere puts every host back on its previous slot.

Hooks: the executables .alcaide/hooks/pre-connect, pre-build, pre-deploy, pre-switch,
post-switch and post-deploy run on the worker, each as a step of its own; a failed pre-* hook
stops the deploy, a failed post-* hook is reported. \`alcaide docs hooks\`, docs/hooks.md.

Gates (docs/approvals.md): with --approve the deploy builds, starts and checks the new slot,
then waits (the old slot serving) for \`alcaide approve [--note TEXT]\` — or, after
approval_timeout (default 4h), undoes itself. With --at the switch waits for that time on a
durable timer (\`alcaide approve --now\` switches sooner). Both: the approval first, then the time.
\`alcaide abort\` during either wait undoes the deploy.

Examples:
  $ alcaide deploy
  $ alcaide deploy --ref v1.4.2
  $ alcaide -d staging deploy --detach && alcaide -d staging status --watch
  $ alcaide deploy --attach
  $ alcaide deploy --hold            # a failed build or migration waits for you:
  $ alcaide retry                    #   ...fix the cause, then run the failed step again
  $ alcaide deploy --bake 5m         # roll back by itself if health fails within 5 minutes
  $ alcaide deploy --canary 10%      # 10% of clients on the new version, watched, then all
  $ alcaide promote                  #   ...or all of them now (alcaide rollback: none)
  $ alcaide deploy --skip-hooks      # without .alcaide/hooks/ and the hooks of deploy.yml
  $ alcaide deploy --approve         # waits with the new slot healthy, then:
  $ alcaide approve --note "checked staging"
  $ alcaide deploy --at 02:00 --tz Europe/Madrid --detach
  $ alcaide deploy --at "2026-12-01 02:00" --tz UTC --approve
  $ alcaide deploy --no-approve      # approval: before_switch in deploy.yml, skipped this once
  $ alcaide deploy --resume-from-failure`,
    )
    .action(async (opts: DeployOptions, cmd: Command) => {
      const config = fleetConfigFor(cmd, 'deploy');
      const target = toAppTarget(config, { trustNewHost: opts.trustNewHost });
      const starts = !opts.attach && !opts.resumeFromFailure;
      if (!starts && opts.canary !== undefined) throw new UserError('--canary and --no-canary start a deploy: the running one keeps its own canary', 2);
      if (target.fleet) refuseForFleets(opts, ['hold', 'bake', 'resumeFromFailure', 'canary']);
      if (starts && target.fleet && config.rollout && opts.canary !== false)
        throw new UserError('rollout: a canary is not available for a deploy to several servers (deploy --no-canary, or remove rollout: from deploy.yml)', 2);
      const canary = starts ? canaryPlanFor(config, opts.canary) : undefined;
      // bad input fails here, before Temporal or the server is contacted
      checkAppSecrets(config);
      const found = opts.attach || opts.resumeFromFailure ? undefined : hooksOf(config, Boolean(target.fleet), opts.skipHooks);
      if ([opts.attach, opts.resumeFromFailure, opts.detach].filter(Boolean).length > 1)
        throw new UserError('--attach, --detach and --resume-from-failure do not go together', 2);
      if ((opts.attach || opts.resumeFromFailure) && (opts.approve !== undefined || opts.at !== undefined || opts.tz !== undefined))
        throw new UserError('--approve, --no-approve, --at and --tz start a deploy: the running one keeps its own gates', 2);
      const gates = opts.attach || opts.resumeFromFailure ? undefined : gatePlan(config, opts);
      if (opts.hold) target.onFailure = 'hold';
      if (opts.bake !== undefined) {
        const ms = parseDuration(opts.bake);
        if (ms === undefined) throw new UserError(`--bake ${opts.bake}: expected a duration such as "90s", "5m" or "1h"`, 2);
        target.bakeMs = ms;
      }
      const mode = progressMode(opts.json);
      const id = appWorkflowId(target);
      // git runs while Temporal's client loads; its refusals still come before anything is contacted
      const resolving = starts ? resolveVersion(config.root, opts.ref, opts.allowDirty) : undefined;
      await withTemporalAfter(resolving, target, cmd, async (client, s) => {
        const version = await resolving;
        const handle = client.workflow.getHandle(id);
        if (opts.resumeFromFailure) {
          const { resumeFromFailure } = await import('../../temporal/resume');
          const r = await resumeFromFailure(client, s.namespace, id, startedBy());
          if (mode !== 'json')
            console.log(`${mark.ok()} resuming the failed deploy from ${r.step} (${r.failedStep} had failed): ${workflowUiUrl(s, id, r.runId) ?? id}`);
          const status = await followWithWorker(client, s, client.workflow.getHandle(id, r.runId), mode, `deploy of ${target.app}`);
          if (mode !== 'json') console.log(summary(status));
          return;
        }
        if (!version) {
          if (!(await isRunning(handle))) throw new UserError(`no deploy of ${target.app} is running; nothing to attach to`);
          const status = await followWithWorker(client, s, handle, mode, `deploy of ${target.app}`);
          if (mode !== 'json') console.log(summary(status));
          return;
        }
        if (version.dirty && mode !== 'json') console.log(color.yellow(`! uncommitted changes are not deployed: deploying ${version.sha.slice(0, 12)}`));
        if (opts.wait && (await isRunning(handle))) {
          if (mode !== 'json') console.log(`waiting for the running ${target.app} workflow to finish (${workflowUiUrl(s, id) ?? id})`);
          // driven here too if no worker runs it, or the wait would have no end
          const { withWorkerIfNone } = await import('../../temporal/embedded');
          await withWorkerIfNone(client, s, () => handle.result().catch(() => undefined), driving(id, `running workflow of ${target.app}`, mode));
        }
        const start = {
          workflowType: target.fleet ? 'fleetDeployWorkflow' : 'deployWorkflow',
          workflowId: id,
          args: [
            {
              target,
              version: version.sha,
              ref: version.ref,
              startedBy: startedBy(),
              hooks: hookPlan(found!, workflowUiUrl(s, id)),
              ...(gates && { gates }),
              ...(canary && { canary }),
            },
          ],
          searchAttributes: appSearchAttributes(target, version.sha),
          what: `deploy of ${target.app} ${version.sha.slice(0, 12)}`,
          startedBy: startedBy(),
        };
        const { startOnly } = await import('../follow');
        if (opts.detach) {
          await startOnly(client, s, start);
          console.log(
            `${mark.ok()} started ${start.what}: ${workflowUiUrl(s, id) ?? id}\n  follow it with: alcaide${config.destination ? ` -d ${config.destination}` : ''} status --watch`,
          );
          return;
        }
        const status = await startAndFollowWithWorker(client, s, start, mode);
        if (mode !== 'json') console.log(summary(status));
      });
    });

  program
    .command('rollback')
    .description('put the previous release back (also stops a deploy that is running), or a kept one with --to')
    .option('--to <version>', 'a release the host keeps (`alcaide releases`): a sha prefix, or a tag or branch it was built from; installed without a build')
    .option('--json', 'print progress as JSON lines')
    .option('--trust-new-host', 'record the server host key if it is not in known_hosts yet')
    .option('--skip-hooks', 'run no hook: neither .alcaide/hooks/ nor the hooks of deploy.yml (docs/hooks.md)')
    .addHelpText(
      'after',
      `\nThe previous slot is kept stopped after every deploy; rollback starts it, checks its\nhealth, moves traffic back and stops the current one. On several servers every host goes\nback to the same previous release (or nothing changes), the web hosts switch back in\nbatches, and a failure before the last switch leaves every host on what it served.\n\n--to VERSION puts back a release the host keeps (\`retain\`, \`alcaide releases\`): the kept slot's\nis a plain rollback; an older one is installed into the idle slot from its kept artifact,\nwithout an upload or a build, and switched to like a deploy (its migrations run, which for\nan older release applies nothing). A VERSION the host does not keep is exit 2, nothing changed.\nOne server only: a fleet refuses --to.\n\nHooks: .alcaide/hooks/pre-connect, pre-switch, post-switch and post-rollback run as steps of\nthe rollback, with --to too (docs/hooks.md). Into a running deploy, the deploy's own undo\nsteps run: no hook.\n\nExamples:\n  $ alcaide rollback\n  $ alcaide -d production rollback\n  $ alcaide releases && alcaide rollback --to 3f2a9c1d\n  $ alcaide rollback --to v1.4.2\n  $ alcaide rollback --skip-hooks`,
    )
    .action(async (opts: { json?: boolean; trustNewHost?: boolean; to?: string; skipHooks?: boolean }, cmd: Command) => {
      const config = fleetConfigFor(cmd, 'rollback');
      const target = toAppTarget(config, { trustNewHost: opts.trustNewHost });
      const found = hooksOf(config, Boolean(target.fleet), opts.skipHooks);
      const mode = progressMode(opts.json);
      const id = appWorkflowId(target);
      // the deploy path writes the app's environment: its secrets must be there
      if (opts.to !== undefined) checkAppSecrets(config);
      const kept = opts.to === undefined ? undefined : await keptRelease(config, target, opts.to);
      if (kept?.how === 'live') {
        if (mode !== 'json') console.log(`${mark.ok()} ${target.app} ${kept.version.slice(0, 12)} is live already: nothing to do`);
        return;
      }
      await withTemporal(target, cmd, async (client, s) => {
        const handle = client.workflow.getHandle(id);
        if (kept && (await isRunning(handle)))
          throw new UserError(`a deploy or rollback of ${target.app} is running: wait for it (alcaide status --watch), then roll back --to`);
        if (kept?.how === 'artifact') {
          const start = {
            workflowType: 'deployWorkflow',
            workflowId: id,
            args: [
              {
                target,
                version: kept.version,
                ref: kept.ref,
                startedBy: startedBy(),
                keptRelease: true,
                hooks: hookPlan(rollbackHooks(found), workflowUiUrl(s, id)),
              },
            ],
            searchAttributes: appSearchAttributes(target, kept.version),
            what: `rollback of ${target.app} to ${kept.version.slice(0, 12)}`,
            startedBy: startedBy(),
          };
          const status = await startAndFollowWithWorker(client, s, start, mode);
          if (mode !== 'json') console.log(summary(status));
          return;
        }
        if (await isRunning(handle)) {
          await handle.signal('rollback', { by: startedBy() });
          if (mode !== 'json') console.log(`${mark.ok()} asked the running workflow to roll back; following it`);
          await followWithWorker(client, s, handle, mode, `rollback of ${target.app}`).catch((e) => {
            // the deploy ends "failed" by design when it is rolled back
            if (!(e instanceof UserError) || !/rolled back/.test(e.message)) throw e;
            if (mode !== 'json') console.log(`${mark.ok()} ${e.message}`);
          });
          return;
        }
        const spec = {
          workflowType: target.fleet ? 'fleetRollbackWorkflow' : 'rollbackWorkflow',
          workflowId: id,
          args: [{ target, startedBy: startedBy(), hooks: hookPlan(found, workflowUiUrl(s, id)) }],
          searchAttributes: appSearchAttributes(target),
          what: `rollback of ${target.app}`,
          startedBy: startedBy(),
        };
        const status = await startAndFollowWithWorker(client, s, spec, mode);
        if (mode !== 'json') console.log(summary(status));
      });
    });

  program
    .command('abort')
    .description('stop the running deploy, rollback or build jail rebuild (its undo steps put back what was there), or a removal before its next step')
    .action(async (_o: unknown, cmd: Command) => {
      const target = toAppTarget(fleetConfigFor(cmd, 'abort'));
      await withTemporal(target, cmd, async (client) => {
        const handle = client.workflow.getHandle(appWorkflowId(target));
        if (!(await isRunning(handle))) throw new UserError(`no deploy, rollback, build jail rebuild or removal of ${target.app} is running`);
        // a run already undoing its steps (or stopped once) ignores the signal: say so, not "sent"
        const status = await queryStatus(handle).catch(() => undefined);
        if (status && (status.stopped || !STOPPABLE_STATES.includes(status.state))) {
          const what = `the ${status.kind.replace(/^(fleet|host)-/, '')} of ${target.app}`;
          const why = status.stopped
            ? `was already ${status.stopped.how}${status.stopped.by ? ` by ${status.stopped.by}` : ''}`
            : status.state === 'compensating'
              ? 'is already undoing its steps'
              : `is ${status.state}`;
          console.log(`${mark.ok()} nothing to abort: ${what} ${why} (alcaide status --watch to follow)`);
          for (const h of status.hosts ?? []) {
            if (h.state === 'held') console.log(`  ${h.host} is held on "${h.held?.title ?? 'an undo step'}": fix its cause, then alcaide retry -H ${h.host}`);
          }
          return;
        }
        await handle.signal('abort', { by: startedBy() });
        console.log(`${mark.ok()} abort sent; the workflow undoes its steps (alcaide status --watch to follow)`);
      });
    });

  program
    .command('retry')
    .description('run the failed step of a held deploy again (on_failure: hold / deploy --hold), or the failed undo step of a held fleet host')
    .addHelpText(
      'after',
      `
A deploy held for an operator keeps traffic on the old slot and waits (up to hold_timeout)
for a decision: \`alcaide retry\` runs the failed step again, after you fixed its cause,
without repeating the finished steps; \`alcaide abort\` puts everything back. In the Temporal
Web UI the same is "Send Signal" with the name \`retry\` (no input needed) or \`abort\`.

A fleet whose host could not be taken back after a failure holds that host (up to hold_timeout)
on its failed undo step: \`alcaide retry -H HOST\` runs that step again on HOST, \`alcaide retry\`
on every held host (in the Web UI: \`retry\` on the host's own workflow, alcaide-APP@HOST).

Examples:
  $ alcaide status          # waiting for operator: run migrations failed: ...
  $ alcaide retry
  $ alcaide retry -H web2.example.com`,
    )
    .action(async (_o: unknown, cmd: Command) => {
      const config = configFor(cmd);
      if (config.hosts.length > 1) return retryHeldHosts(cmd, config);
      const target = toAppTarget(oneHostConfigFor(cmd, 'retry'));
      await withTemporal(target, cmd, async (client) => {
        const handle = client.workflow.getHandle(appWorkflowId(target));
        if (!(await isRunning(handle))) throw new UserError(`no deploy of ${target.app} is running`);
        const status = await runningStatus(handle, target.app);
        if (status.state !== 'held' || !status.held) {
          throw new UserError(
            `the deploy of ${target.app} is not waiting for an operator (it is ${status.state}${status.currentStep ? ` at ${status.currentStep}` : ''})`,
          );
        }
        await handle.signal('retry', { by: startedBy() });
        console.log(`${mark.ok()} retry sent: ${status.held.title} runs again (alcaide status --watch to follow)`);
      });
    });

  program
    .command('status')
    .description('where the current or last deploy, rollback or build jail rebuild is: step, durations, slot, version, host')
    .option('--watch', 'follow a running deploy until it ends')
    .option('--json', 'print the status as JSON')
    .option(
      '--all',
      "every app on the host (each host of a fleet, or those -H/-R pick), from the host's own records: live slot, version, slot jails, last deploy",
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ alcaide status\n  $ alcaide status --watch\n  $ alcaide status --json\n  $ alcaide status --all              # every app and destination on the server\n  $ alcaide -H 10.0.0.3 status --all',
    )
    .action(async (opts: { watch?: boolean; json?: boolean; all?: boolean }, cmd: Command) => {
      if (opts.all) return hostsOverview(cmd, opts);
      const target = toAppTarget(fleetConfigFor(cmd, 'status'));
      await withTemporal(target, cmd, async (client, s) => {
        const { latestRun, runJson, statusJson, statusOfRun } = await import('../runStatus');
        const what = `${target.app}${target.destination ? ` to ${target.destination}` : ''}`;
        // JSON in every case, also with no run yet or no worker to answer
        if (opts.json && !opts.watch) return console.log(JSON.stringify(await statusJson(client, s, appWorkflowId(target), what), null, 2));
        const latest = await latestRun(client, s, appWorkflowId(target), what);
        const { d, run, url } = latest;
        if (latest.running && opts.watch) {
          const { withWorkerIfNone } = await import('../../temporal/embedded');
          const { follow, kindOf } = await import('../follow');
          const mode = progressMode(opts.json);
          const status = await withWorkerIfNone(client, s, () => follow(run, mode), driving(d.workflowId, `${kindOf(String(d.type))} of ${target.app}`, mode));
          if (!opts.json) console.log(summary(status));
          return;
        }
        const status = await statusOfRun(client, latest, what);
        if (opts.json) {
          console.log(JSON.stringify(runJson(latest, status), null, 2));
          return;
        }
        const { renderStatus } = await import('../progress');
        console.log(
          `${String(d.type)} ${d.status.name.toLowerCase()} — started ${d.startTime.toISOString()}${status?.version ? `, version ${status.version.slice(0, 12)}` : ''}${status?.slot ? `, slot ${status.slot}` : ''}, ${target.fleet ? `hosts ${target.fleet.hosts.map((h) => h.host).join(', ')}` : `host ${target.server.host}`}`,
        );
        if (status) console.log(renderStatus(status));
        if (status?.error) console.log(color.red(status.error));
        if (url) console.log(color.dim(url));
      });
    });
}
