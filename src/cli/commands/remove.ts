// `alcaide remove`: the app taken off its host for good, after a confirmation. The PostgreSQL
// data stays; the nightly schedule goes with the app.
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { appWorkflowId, type AppTarget } from '../../model/target';
import { toAppTarget } from '../../config/target';
import { UserError } from '../../errors';
import { claimFile, claimOf } from '../../freebsd/claims';
import { layout, stateDir } from '../../freebsd/layout';
import { appSearchAttributes } from '../../model/searchAttributes';
import { configFor, oneHostConfigFor, temporalFor } from '../context';
import { onHost } from '../../model/fleet';
import { color, mark } from '../output';
import { progressMode } from '../progress';
import { startAndFollowWithWorker, startedBy } from './deploy';

/** What goes and what stays, said before anything is asked or done. */
function plan(t: AppTarget): string[] {
  const l = layout({ app: t.app, basePath: t.basePath, freebsdVersion: t.freebsdVersion });
  return [
    `Removes ${color.bold(t.app)}${t.destination ? ` (destination ${t.destination})` : ''} from ${t.server.host}:`,
    `  - its Caddy site${t.domain ? ` (${t.domain})` : ' (:80)'}: the app stops being served`,
    `  - the jails ${(['blue', 'green', 'build', 'db'] as const).map((r) => l.jailName(r)).join(', ')} (those that exist), with the releases and the build cache in them`,
    `  - its deploy state in ${stateDir(t.app)} and its claim ${claimFile(claimOf(t))}`,
    `  - its nightly rebuild schedule, if there is one`,
    `Stays: ${t.postgresql ? `the database's data in ${t.postgresql.volumeHost}, ` : ''}the base template, Caddy and other apps on the host.`,
  ];
}

async function confirm(t: AppTarget): Promise<void> {
  if (!process.stdin.isTTY) {
    throw new UserError(`remove takes ${t.app} off ${t.server.host} for good: pass --yes to confirm (nothing was changed)`, 2);
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await rl.question(`Type the app name (${t.app}) to remove it: `);
    if (answer.trim() !== t.app) throw new UserError(`not removed: "${answer.trim()}" is not ${t.app}`);
  } finally {
    rl.close();
  }
}

export function registerRemove(program: Command): void {
  program
    .command('remove')
    .description("take the app off its server: its site, jails and state (the database's data stays)")
    .option('--yes', 'do not ask for confirmation')
    .option('--dry-run', 'print what would be removed without touching the server')
    .option('--trust-new-host', 'record the server host key if it is not in known_hosts yet')
    .option('--json', 'print progress as JSON lines')
    .addHelpText(
      'after',
      `
It runs as a Temporal workflow under the app's lock (never beside a deploy); each step is
idempotent, so a removal that failed or was interrupted is finished by running it again.
It refuses, changing nothing, when the host's claims say the jails belong to another
destination of the app.

Examples:
  $ alcaide remove --dry-run
  $ alcaide -d staging remove --yes`,
    )
    .action(async (opts: { yes?: boolean; dryRun?: boolean; trustNewHost?: boolean; json?: boolean }, cmd: Command) => {
      // a fleet without -H/-R: every host; with them, the one host picked
      const whole = configFor(cmd);
      const config = whole.hosts.length > 1 && !whole.selected ? whole : oneHostConfigFor(cmd, 'remove');
      const target = toAppTarget(config, { trustNewHost: opts.trustNewHost });
      const mode = progressMode(opts.json);
      const hosts = target.fleet ? target.fleet.hosts.map((h) => onHost(target, h)) : [target];
      if (mode !== 'json' || opts.dryRun) for (const line of hosts.flatMap((h) => plan(h))) console.log(line);
      if (opts.dryRun) return;
      if (!opts.yes) await confirm(target);
      const { connectClient } = await import('../../temporal/connection');
      const { deleteNightly } = await import('../../temporal/schedules');
      const settings = temporalFor(config);
      const client = await connectClient(settings);
      try {
        const status = await startAndFollowWithWorker(
          client,
          settings,
          {
            workflowType: target.fleet ? 'fleetRemoveWorkflow' : 'removeWorkflow',
            workflowId: appWorkflowId(target),
            args: [{ target, startedBy: startedBy() }],
            searchAttributes: appSearchAttributes(target),
            what: `removal of ${target.app}`,
            startedBy: startedBy(),
          },
          mode,
        );
        const schedule = await deleteNightly(client, target);
        if (mode !== 'json') {
          const changed = status.steps.filter((s) => s.state === 'done').length;
          console.log(
            `${mark.ok()} ${target.app} removed from ${hosts.map((h) => h.server.host).join(', ')}${changed || target.fleet ? '' : ' (nothing of it was there)'}${schedule ? `; deleted the schedule ${schedule}` : ''}`,
          );
        }
      } finally {
        await client.connection.close();
      }
    });
}
