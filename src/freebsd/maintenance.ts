// Maintenance mode on the host: three files in the app's gate directory that Caddy reads on each
// request (src/caddy/caddyfile.ts). The page goes last when turning on and first when turning
// off, so the site is never in maintenance without its Retry-After.
import { GATES_MARKER } from '../caddy/caddyfile';
import { putFunction, putStdin, putText } from './files';
import { maintenanceInfo, maintenancePage, maintenanceRetryAfter, siteFile } from './layout';
import { script, sh } from './sh';

/** Exit code of maintenanceOn when the site predates maintenance mode (setup rewrites it). */
export const SITE_WITHOUT_MAINTENANCE = 4;

export interface MaintenanceInfo {
  since: string;
  by: string;
  message?: string;
  retryAfterSeconds: number;
  /** the page is the app's own (from the project), not the built-in one */
  ownPage: boolean;
}

/** What `alcaide maintenance` asks of every web host. */
export interface MaintenanceRequest {
  on: boolean;
  /** the page's HTML (on) */
  page?: string;
  info?: MaintenanceInfo;
}

/** Turns maintenance on (or updates its page): the page comes on stdin. */
export function maintenanceOn(app: string, info: MaintenanceInfo): string {
  return script(
    putFunction(),
    sh`grep -qxF ${`\t${GATES_MARKER}`} ${siteFile(app)} || exit ${SITE_WITHOUT_MAINTENANCE}`,
    putText(maintenanceRetryAfter(app), '0644', `${info.retryAfterSeconds}\n`),
    putText(maintenanceInfo(app), '0644', `${JSON.stringify(info)}\n`),
    putStdin(maintenancePage(app), '0644'),
  );
}

/** Turns maintenance off: the page first (clients reach the app again at once). */
export const maintenanceOff = (app: string) => sh`rm -f ${maintenancePage(app)} ${maintenanceRetryAfter(app)} ${maintenanceInfo(app)}`;

/** Prints the info line when maintenance is on, nothing when it is off. */
export const maintenanceState = (app: string) => sh`if [ -f ${maintenancePage(app)} ]; then cat ${maintenanceInfo(app)} 2>/dev/null || echo '{}'; fi`;

export function parseMaintenanceState(stdout: string): MaintenanceInfo | undefined {
  const line = stdout.trim();
  if (!line) return undefined;
  try {
    return JSON.parse(line) as MaintenanceInfo;
  } catch {
    return { since: '?', by: '?', retryAfterSeconds: 0, ownPage: false };
  }
}
