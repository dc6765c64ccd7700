// Which slot is live on the host, read from its real state: the slot whose gate is open and
// whose jail runs (on a host in no web role, which has no gates: whose jail runs). Deploys,
// rollbacks and rebuilds (through their activities) and the CLI's logs and run (through
// src/host/hostState.ts) ask this one question the same way.
import { liveSlots, runningSlots } from '../freebsd/caddy';
import { readFile } from '../freebsd/files';
import { activeFile, layout, type Slot } from '../freebsd/layout';
import { activeOf, parseLiveSlots } from '../freebsd/slotChoice';
import { isWebHost } from '../model/fleet';
import type { AppTarget } from '../model/target';

/** What reading the host needs: `run` must exit 0, `check` returns whatever exit code came. */
export interface HostCommands {
  run(command: string, label: string): Promise<{ stdout: string }>;
  check(command: string, label: string): Promise<{ stdout: string }>;
}

export async function readActiveSlot(h: HostCommands, t: AppTarget): Promise<Slot | undefined> {
  const l = layout({ app: t.app, basePath: t.basePath, freebsdVersion: t.freebsdVersion });
  const jails = { blue: l.jailName('blue'), green: l.jailName('green') };
  // a host in no web role has no gates: its running slot is the live one
  const live = parseLiveSlots((await h.run(isWebHost(t) ? liveSlots(t.app, jails) : runningSlots(jails), 'find the live slot')).stdout);
  // the recorded state is read only when it decides: both slots open
  const recorded = live.length === 2 ? (await h.check(readFile(activeFile(t.app)), 'read deploy state')).stdout : undefined;
  return activeOf(live, recorded);
}
