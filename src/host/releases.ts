// `alcaide releases` and `rollback --to`: what a host keeps of the app (src/freebsd/releases.ts)
// and which slot is live, read in one command on a connection of its own. Loaded only when the
// command runs (the SSH side stays out of the CLI bundle).
import { layout, type Slot } from '../freebsd/layout';
import { appsOverview, parseOverview } from '../freebsd/overview';
import { keptReleases, listReleases, parseReleases, type KeptRelease } from '../freebsd/releases';
import type { AppTarget } from '../model/target';
import { SshConnection } from '../ssh/connection';
import { CHECK_TIMEOUT_MS, sshOptionsFor } from './ssh';

export interface HostReleases {
  host: string;
  /** the slot that serves, if any */
  live?: Slot;
  /** the most recently used first */
  releases: KeptRelease[];
}

export async function readHostReleases(t: AppTarget): Promise<HostReleases> {
  const l = layout({ app: t.app, basePath: t.basePath, freebsdVersion: t.freebsdVersion });
  const conn = new SshConnection(t.server, sshOptionsFor(t));
  try {
    const command = [appsOverview([t.app]), listReleases(t.app, l.jailPath('build'), (s) => l.jailPath(s))].join('\n');
    const out = (await conn.run(command, { label: 'read the kept releases', timeoutMs: CHECK_TIMEOUT_MS })).stdout;
    const live = parseOverview(out)[0]?.live;
    return { host: t.server.host, ...(live && { live }), releases: keptReleases(parseReleases(out)) };
  } finally {
    conn.close();
  }
}
