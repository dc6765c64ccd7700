// `alcaide promote`: a running canary deploy gives the new slot every client now (docs/canary.md).
import type { Command } from 'commander';
import { toAppTarget } from '../../config/target';
import { queryStatus } from '../../temporal/statusQuery';
import { UserError } from '../../errors';
import { fleetConfigFor } from '../context';
import { mark } from '../output';
import { appWorkflowId, isRunning, startedBy, withTemporal } from './deploy';

export function registerPromote(program: Command): void {
  program
    .command('promote')
    .description('give the new slot of a running canary deploy every client now, without its remaining steps')
    .addHelpText(
      'after',
      `
A canary deploy (\`deploy --canary 10%\`, or \`rollout:\` in deploy.yml) moves a share of clients
at a time to the new slot and watches both slots' 5xx answers. \`alcaide promote\` ends the wait:
every client goes to the new slot and the deploy goes on (verify, drain, stop the old slot).
\`alcaide rollback\` instead puts every client back on the old slot. In the Temporal Web UI the same
is "Send Signal" with the name \`promote\` (no input needed).

Examples:
  $ alcaide status        # canary 10% of clients on green until 14:05:00Z ...
  $ alcaide promote
  $ alcaide -d production promote`,
    )
    .action(async (_o: unknown, cmd: Command) => {
      const target = toAppTarget(fleetConfigFor(cmd, 'promote'));
      await withTemporal(target, cmd, async (client) => {
        const handle = client.workflow.getHandle(appWorkflowId(target));
        const status = (await isRunning(handle)) ? await queryStatus(handle).catch(() => undefined) : undefined;
        if (!status?.canary || status.currentStep !== 'canary')
          throw new UserError(
            `no canary of ${target.app} is running${status ? ` (its running ${status.kind} is at ${status.currentStep ?? status.state})` : ''}`,
            1,
            'a canary deploy is `alcaide deploy --canary 10%` (docs/canary.md)',
          );
        await handle.signal('promote', { by: startedBy() });
        console.log(`${mark.ok()} promote sent: every client goes to ${status.slot ?? 'the new slot'} (alcaide status --watch to follow)`);
      });
    });
}
