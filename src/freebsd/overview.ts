// One view of a host: for each app that claims a place on it (claims.d), its live slot (gate
// open and jail running; on a host in no web role, without gates: jail running), the app's
// state in each slot jail, and its last recorded deploy — read in one command, parsed here.
import { liveSlots, runningSlots } from './caddy';
import { activeFile, deployLog, gateDir, jailNameOf, type Slot } from './layout';
import { maintenanceState, parseMaintenanceState, type MaintenanceInfo } from './maintenance';
import { activeOf, parseLiveSlots } from './slotChoice';
import { serviceRunning } from './system';
import { raw, sh } from './sh';

const MARK = '--- alcaide app';
const SLOTS: readonly Slot[] = ['blue', 'green'];

export interface AppOnHost {
  app: string;
  /** the slot that serves, if any */
  live?: Slot;
  /** each slot jail: its app up or down, or no running jail */
  slots: Record<Slot, 'up' | 'down' | 'no jail'>;
  /** the last deploy or rollback recorded on the host */
  last?: { at: string; slot: Slot; version: string };
  /** maintenance mode is on: since when, by whom */
  maintenance?: MaintenanceInfo;
}

/** The script: a section per app (names checked by the caller: they come from the host's claims). */
export function appsOverview(apps: readonly string[]): string {
  return apps
    .map((app) => {
      const jails = { blue: jailNameOf(app, 'blue'), green: jailNameOf(app, 'green') };
      return [
        sh`echo ${`${MARK} ${app}`}`,
        // an app's host in no web role has no gates: its running slot is the live one
        sh`if [ -d ${gateDir(app)} ]; then ${raw(liveSlots(app, jails))}; else ${raw(runningSlots(jails))}; fi`,
        ...SLOTS.map(
          (s) =>
            sh`if jls -j ${jails[s]} jid >/dev/null 2>&1; then if ${raw(serviceRunning(app, jails[s]))} >/dev/null 2>&1; then echo ${`up ${s}`}; else echo ${`down ${s}`}; fi; fi`,
        ),
        sh`if [ -f ${activeFile(app)} ]; then echo "recorded $(cat ${activeFile(app)})"; fi`,
        sh`if [ -f ${deployLog(app)} ]; then echo "last $(tail -n 1 ${deployLog(app)})"; fi`,
        sh`echo "maintenance $(${raw(maintenanceState(app))})"`,
      ].join('; ');
    })
    .join('\n');
}

export function parseOverview(out: string): AppOnHost[] {
  return out
    .split(`${MARK} `)
    .slice(1)
    .map((section) => {
      const [app = '', ...lines] = section.split('\n');
      const slots: AppOnHost['slots'] = { blue: 'no jail', green: 'no jail' };
      let recorded: string | undefined;
      let last: AppOnHost['last'];
      let maintenance: AppOnHost['maintenance'];
      for (const line of lines) {
        const [word, rest = ''] = line.split(/ (.*)/s);
        if ((word === 'up' || word === 'down') && SLOTS.includes(rest as Slot)) slots[rest as Slot] = word;
        else if (word === 'recorded') recorded = rest;
        else if (word === 'last') last = lastDeploy(rest);
        else if (word === 'maintenance') maintenance = parseMaintenanceState(rest);
      }
      return { app: app.trim(), live: activeOf(parseLiveSlots(section), recorded), slots, ...(last ? { last } : {}), ...(maintenance ? { maintenance } : {}) };
    });
}

/** A deploy log line (recordDeploy's JSON); nothing when it is not one. */
function lastDeploy(line: string): AppOnHost['last'] {
  try {
    const j = JSON.parse(line) as { at?: unknown; slot?: unknown; version?: unknown };
    if (typeof j.at === 'string' && SLOTS.includes(j.slot as Slot) && typeof j.version === 'string')
      return { at: j.at, slot: j.slot as Slot, version: j.version };
  } catch {
    /* a line of something else */
  }
  return undefined;
}
