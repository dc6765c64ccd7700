// `alcaide maintenance on|off`: the app's site answers 503 with a page and Retry-After while its
// jails keep running, under the app's lock (a workflow, never beside a deploy).
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../../config/load';
import { toAppTarget } from '../../config/target';
import { UserError } from '../../errors';
import type { MaintenanceRequest } from '../../freebsd/maintenance';
import { DEFAULT_MAINTENANCE_MESSAGE, renderMaintenancePage } from '../../caddy/maintenancePage';
import { parseDuration } from '../../model/duration';
import { appSearchAttributes } from '../../model/searchAttributes';
import { appWorkflowId } from '../../model/target';
import { fleetConfigFor, temporalFor } from '../context';
import { mark } from '../output';
import { progressMode } from '../progress';
import { startAndFollowWithWorker, startedBy } from './deploy';

/** The app's own page, if it ships one where Phoenix serves static files from. */
export const APP_MAINTENANCE_PAGE = 'priv/static/maintenance.html';
const MAX_PAGE_BYTES = 512 * 1024;
const DEFAULT_RETRY_AFTER = '5m';

interface OnOptions {
  message?: string;
  retryAfter?: string;
  page?: string;
  json?: boolean;
}

/** The request for `on`, read and checked before anything remote (bad input: exit 2). */
export function maintenanceOnRequest(root: string, o: OnOptions, by: string, now: Date): MaintenanceRequest {
  const retryMs = parseDuration(o.retryAfter ?? DEFAULT_RETRY_AFTER);
  if (retryMs === undefined || retryMs < 1000)
    throw new UserError(`--retry-after ${o.retryAfter}: expected a duration of at least 1s, such as "90s", "5m" or "1h"`, 2);
  const own = o.page ?? (existsSync(path.join(root, APP_MAINTENANCE_PAGE)) ? APP_MAINTENANCE_PAGE : undefined);
  let page: string;
  if (own !== undefined) {
    const file = path.resolve(root, own);
    if (!existsSync(file) || !statSync(file).isFile()) throw new UserError(`--page ${own}: no such file`, 2);
    if (statSync(file).size > MAX_PAGE_BYTES)
      throw new UserError(`${own} is larger than ${MAX_PAGE_BYTES / 1024} KiB: a maintenance page is served from one file, keep it small`, 2);
    page = readFileSync(file, 'utf8');
    if (o.message !== undefined)
      throw new UserError(`--message goes with the built-in page; ${own} is the app's own page (edit it, or pass --page with another file)`, 2);
  } else {
    page = renderMaintenancePage(o.message ?? DEFAULT_MAINTENANCE_MESSAGE);
  }
  return {
    on: true,
    page,
    info: {
      since: now.toISOString(),
      by,
      ...(o.message !== undefined && { message: o.message }),
      retryAfterSeconds: Math.round(retryMs / 1000),
      ownPage: own !== undefined,
    },
  };
}

const configOf = (cmd: Command) => fleetConfigFor(cmd, 'maintenance', 'so every web host answers alike');

async function run(config: Config, request: MaintenanceRequest, json?: boolean): Promise<void> {
  const target = toAppTarget(config);
  const mode = progressMode(json);
  const { connectClient } = await import('../../temporal/connection');
  const settings = temporalFor(config);
  const client = await connectClient(settings);
  try {
    await startAndFollowWithWorker(
      client,
      settings,
      {
        workflowType: 'maintenanceWorkflow',
        workflowId: appWorkflowId(target),
        args: [{ target, request, startedBy: startedBy() }],
        searchAttributes: appSearchAttributes(target),
        what: `maintenance ${request.on ? 'on' : 'off'} for ${target.app}`,
        startedBy: startedBy(),
      },
      mode,
    );
    if (mode === 'json') return;
    const hosts = target.fleet ? `${target.fleet.hosts.length} hosts` : target.server.host;
    if (request.on)
      console.log(
        `${mark.ok()} ${target.app} is in maintenance on ${hosts}: its clients get 503 with ${request.info!.ownPage ? 'its own page' : 'the maintenance page'} (Retry-After: ${request.info!.retryAfterSeconds}); the app keeps running. alcaide maintenance off ends it`,
      );
    else console.log(`${mark.ok()} ${target.app} serves its clients again on ${hosts}`);
  } finally {
    await client.connection.close();
  }
}

export function registerMaintenance(program: Command): void {
  const m = program
    .command('maintenance')
    .description("answer the app's clients 503 with a maintenance page (the app keeps running), or serve them again")
    .addHelpText(
      'after',
      `
Caddy answers every request to the app's site with 503, a page and a Retry-After header,
without a reload; requests from the host itself (the deploy's checks through Caddy, curl there)
still reach the app. The page is the app's own ${APP_MAINTENANCE_PAGE} if the project has one,
else --page FILE, else a built-in page with --message. It runs as a workflow under the app's
lock (never beside a deploy); a deploy meanwhile keeps maintenance on. \`alcaide status --all\`
shows it. Turning it off loses no request: the next one reaches the app.

Examples:
  $ alcaide maintenance on --message "Back at 14:00 UTC" --retry-after 30m
  $ alcaide -d production maintenance on --page public/503.html
  $ alcaide maintenance off`,
    );
  m.command('on')
    .description('turn maintenance on (or change its page and Retry-After)')
    .option('--message <TEXT>', 'the text of the built-in page')
    .option('--retry-after <DURATION>', `the Retry-After header, e.g. 90s, 30m (default ${DEFAULT_RETRY_AFTER})`)
    .option('--page <FILE>', `an HTML file to answer with (default: ${APP_MAINTENANCE_PAGE} if it exists)`)
    .option('--json', 'print progress as JSON lines')
    .action(async (o: OnOptions, sub: Command) => {
      const config = configOf(sub);
      await run(config, maintenanceOnRequest(config.root, o, startedBy(), new Date()), o.json);
    });
  m.command('off')
    .description('turn maintenance off: clients reach the app again')
    .option('--json', 'print progress as JSON lines')
    .action(async (o: { json?: boolean }, sub: Command) => {
      await run(configOf(sub), { on: false }, o.json);
    });
}
