// `alcaide pause` / `alcaide resume`: new requests wait at Caddy (held, not refused) for a quiet
// moment, under the app's lock; the pause runs in the foreground until it is resumed or ends.
import type { Command } from 'commander';
import { toAppTarget } from '../../config/target';
import { UserError } from '../../errors';
import { NO_SLOT_RETRY_AFTER_S, PAUSE_HOLD, PAUSE_HOLD_MS } from '../../caddy/caddyfile';
import { parseDuration } from '../../model/duration';
import { appSearchAttributes } from '../../model/searchAttributes';
import { appWorkflowId } from '../../model/target';
import { queryStatus } from '../../temporal/statusQuery';
import { fleetConfigFor } from '../context';
import { mark } from '../output';
import { progressMode } from '../progress';
import { followWithWorker, isRunning, startAndFollowWithWorker, startedBy, withTemporal } from './deploy';

const DEFAULT_MAX = PAUSE_HOLD;

/** --max as ms: at least 1 s, at most what Caddy holds a request for. Bad input: exit 2. */
export function pauseMaxMs(value: string | undefined): number {
  const ms = parseDuration(value ?? DEFAULT_MAX);
  if (ms === undefined || ms < 1000) throw new UserError(`--max ${value}: expected a duration of at least 1s, such as "10s" or "30s"`, 2);
  if (ms > PAUSE_HOLD_MS)
    throw new UserError(`--max ${value}: Caddy holds a request for at most ${PAUSE_HOLD}; a longer quiet moment is maintenance (alcaide maintenance on)`, 2);
  return ms;
}

export function registerPause(program: Command): void {
  program
    .command('pause')
    .description('hold new requests at Caddy (they wait, not fail) until `alcaide resume`, Ctrl-C or --max')
    .option('--max <DURATION>', `the longest the requests wait (default and at most ${PAUSE_HOLD})`)
    .option('--json', 'print progress as JSON lines')
    .addHelpText(
      'after',
      `
For a database failover or a migration that needs a quiet moment: Caddy closes the app's
gates and holds each new request until they open again; requests already at the app finish.
The pause runs in the foreground: it ends with \`alcaide resume\` (another terminal, or the
Web UI's \`resume\` signal), with Ctrl-C here, or by itself after --max — on the host too (a
timer there), should this machine go away. A request held for longer than ${PAUSE_HOLD} is
answered 503 with Retry-After: ${NO_SLOT_RETRY_AFTER_S}. A workflow under the app's lock: never beside a deploy.

Examples:
  $ alcaide pause --max 20s          # then, in another terminal: ./failover.sh && alcaide resume
  $ alcaide -d production pause`,
    )
    .action(async (o: { max?: string; json?: boolean }, cmd: Command) => {
      const maxMs = pauseMaxMs(o.max);
      const config = fleetConfigFor(cmd, 'pause', 'so every web host holds alike');
      const target = toAppTarget(config);
      const mode = progressMode(o.json);
      await withTemporal(target, cmd, async (client, s) => {
        const id = appWorkflowId(target);
        // Ctrl-C ends the pause (the requests go on) instead of leaving it to its end
        const onInt = () => {
          if (mode !== 'json') console.log(`\n${mark.ok()} resuming (Ctrl-C)`);
          void client.workflow
            .getHandle(id)
            .signal('resume', { by: `${startedBy()} (Ctrl-C)` })
            .catch(() => undefined);
        };
        process.on('SIGINT', onInt);
        try {
          const status = await startAndFollowWithWorker(
            client,
            s,
            {
              workflowType: 'pauseWorkflow',
              workflowId: id,
              args: [{ target, maxMs, startedBy: startedBy() }],
              searchAttributes: appSearchAttributes(target),
              what: `pause of ${target.app}`,
              startedBy: startedBy(),
            },
            mode,
          );
          if (mode !== 'json') console.log(`${mark.ok()} ${target.app} serves again: ${status.steps.find((x) => x.name === 'paused')?.note ?? 'resumed'}`);
        } finally {
          process.off('SIGINT', onInt);
        }
      });
    });

  program
    .command('resume')
    .description('end the running pause: the held requests go on')
    .option('--json', 'print progress as JSON lines')
    .addHelpText('after', `\nExamples:\n  $ alcaide resume\n  $ alcaide -d production resume`)
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const target = toAppTarget(fleetConfigFor(cmd, 'resume', 'so every web host holds alike'));
      const mode = progressMode(o.json);
      await withTemporal(target, cmd, async (client, s) => {
        const handle = client.workflow.getHandle(appWorkflowId(target));
        const status = (await isRunning(handle)) ? await queryStatus(handle).catch(() => undefined) : undefined;
        if (status?.kind !== 'pause') throw new UserError(`${target.app} is not paused${status ? ` (its running workflow is a ${status.kind})` : ''}`);
        await handle.signal('resume', { by: startedBy() });
        // a pause whose CLI went away has no worker: this one finishes it
        await followWithWorker(client, s, handle, mode, `pause of ${target.app}`);
        if (mode !== 'json') console.log(`${mark.ok()} ${target.app} resumed: the held requests go on`);
      });
    });
}
