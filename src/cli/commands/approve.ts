// `alcaide approve [--note TEXT] [--now]`: the decision a deploy's gate waits for (docs/approvals.md).
// It sends the `approve` signal the Web UI sends too, then follows the deploy to its end.
import type { Command } from 'commander';
import { toAppTarget } from '../../config/target';
import { UserError } from '../../errors';
import { appWorkflowId } from '../../model/target';
import { queryStatus } from '../../temporal/statusQuery';
import type { WorkflowStatus } from '../../../workflows/status';
import { fleetConfigFor } from '../context';
import { color, mark } from '../output';
import { progressMode } from '../progress';
import { followWithWorker, isRunning, startedBy, summary, withTemporal } from './deploy';

/** Why `approve` cannot go to this run, if it cannot: the signal would change nothing (exit 1). */
export function approveProblem(app: string, s: WorkflowStatus, now: boolean): string | undefined {
  const where = s.currentStep ? ` at "${s.steps.find((x) => x.name === s.currentStep)?.title ?? s.currentStep}"` : '';
  if (s.kind !== 'deploy' && s.kind !== 'fleet-deploy') return `${app} runs a ${s.kind}, not a deploy: nothing to approve`;
  if (!s.gate) return `the deploy of ${app} is not waiting for approval (it is ${s.state}${where})`;
  if (s.gate.step === 'awaitCutover' && !now)
    return `the deploy of ${app}${s.approval ? `, approved by ${s.approval.by},` : ''} waits for its cut-over time (${s.gate.cutover}): \`alcaide approve --now\` switches now`;
  if (s.gate.step === 'awaitApproval' && now && s.steps.some((x) => x.name === 'awaitCutover'))
    return `the deploy of ${app} waits for approval first: \`alcaide approve\`, then \`alcaide approve --now\` to switch before its cut-over time`;
  return undefined;
}

export function registerApprove(program: Command): void {
  program
    .command('approve')
    .description('let a deploy waiting for approval (deploy --approve) switch traffic; with --now, one waiting for its cut-over time (deploy --at)')
    .option('--note <TEXT>', 'why, or what you checked: kept in the status and in `alcaide history`')
    .option('--now', 'a deploy waiting for its cut-over time (deploy --at) switches now')
    .option('--detach', 'send the approval and return, without following the deploy')
    .option('--json', 'print progress as JSON lines')
    .addHelpText(
      'after',
      `
A deploy started with --approve (or approval: before_switch in deploy.yml) builds, starts and
checks its new slot, then waits with the old slot serving. \`alcaide status\` shows since when
and until when; \`alcaide approve\` lets it switch, and who approved and the note go into its
status and \`alcaide history\`. No approval within approval_timeout: the deploy is undone.
\`alcaide abort\` instead undoes it now. In the Web UI: "Send Signal" \`approve\`, input optional
({"by": "...", "note": "..."}). With nothing waiting this is an error (exit 1).

Examples:
  $ alcaide status                              # waiting for approval since ...
  $ alcaide approve --note "smoke test on green passed"
  $ alcaide -d production approve --detach
  $ alcaide approve --now                       # a deploy --at 02:00 switches now`,
    )
    .action(async (o: { note?: string; now?: boolean; detach?: boolean; json?: boolean }, cmd: Command) => {
      const target = toAppTarget(fleetConfigFor(cmd, 'approve'));
      const mode = progressMode(o.json);
      await withTemporal(target, cmd, async (client, s) => {
        const handle = client.workflow.getHandle(appWorkflowId(target));
        if (!(await isRunning(handle))) throw new UserError(`no deploy of ${target.app} is running: nothing to approve`);
        const status = await queryStatus(handle).catch(() => undefined);
        if (!status)
          throw new UserError(
            `the deploy of ${target.app} does not answer: no worker is running it`,
            1,
            'start one with `alcaide worker` or `alcaide deploy --attach`, then approve',
          );
        const problem = approveProblem(target.app, status, Boolean(o.now));
        if (problem) throw new UserError(problem);
        await handle.signal('approve', { by: startedBy(), ...(o.note && { note: o.note }) });
        const what = status.gate!.step === 'awaitApproval' ? 'approved' : `switching now, before ${status.gate!.cutover}`;
        if (mode !== 'json') console.log(`${mark.ok()} ${what}: the deploy of ${target.app} goes on`);
        if (o.detach) {
          if (mode !== 'json') console.log(color.dim('alcaide status --watch to follow'));
          return;
        }
        // a deploy whose CLI went away has no worker: this one finishes it
        const done = await followWithWorker(client, s, handle, mode, `deploy of ${target.app}`);
        if (mode !== 'json') console.log(summary(done));
      });
    });
}
