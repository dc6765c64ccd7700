// `alcaide status --all`: every app on a host, from the host's own records (claims, gates,
// jails, deploy log), on a connection of its own. Loaded only when the command runs (the SSH
// side stays out of the CLI bundle).
import { APP_NAME_RE } from '../config/schema';
import { parseClaims, readClaims, type Claim } from '../freebsd/claims';
import { appsOverview, parseOverview, type AppOnHost } from '../freebsd/overview';
import type { AppTarget } from '../model/target';
import { SshConnection } from '../ssh/connection';
import { CHECK_TIMEOUT_MS, sshOptionsFor } from './ssh';

export interface HostOverview {
  host: string;
  apps: Array<AppOnHost & Pick<Claim, 'destination' | 'site' | 'subnet'>>;
}

export async function readHostOverview(t: AppTarget): Promise<HostOverview> {
  const conn = new SshConnection(t.server, sshOptionsFor(t));
  try {
    const run = async (command: string, label: string) => (await conn.run(command, { label, timeoutMs: CHECK_TIMEOUT_MS })).stdout;
    // a claim whose app name is not one alcaide writes claims nothing we can look at
    const claims = parseClaims(await run(readClaims(), 'read the claims')).filter((c) => APP_NAME_RE.test(c.app));
    const apps = claims.length ? parseOverview(await run(appsOverview(claims.map((c) => c.app)), 'read the apps')) : [];
    return {
      host: t.server.host,
      apps: claims.map((c) => ({
        ...(apps.find((a) => a.app === c.app) ?? { app: c.app, slots: { blue: 'no jail', green: 'no jail' } }),
        ...(c.destination ? { destination: c.destination } : {}),
        site: c.site,
        subnet: c.subnet,
      })),
    };
  } finally {
    conn.close();
  }
}
