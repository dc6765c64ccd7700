// What `alcaide status --all` prints: a block per host, a line per app that claims a place on it.
import type { HostOverview } from '../host/overview';
import { color } from './output';

const when = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');

export function renderHostOverview(o: HostOverview): string {
  if (!o.apps.length) return `${o.host}\n  no app claims a place on this host`;
  const rows = o.apps.map((a) => [
    `${a.app}${a.destination ? ` (${a.destination})` : ''}`,
    a.live ?? '—',
    a.last && a.last.slot === a.live ? a.last.version.slice(0, 12) : '—',
    (['blue', 'green'] as const).map((s) => `${s} ${a.slots[s]}`).join(', '),
    a.last ? `${when(a.last.at)} (${a.last.slot})` : 'never',
    a.site,
  ]);
  const head = ['APP', 'LIVE', 'VERSION', 'SLOT JAILS', 'LAST DEPLOY', 'SITE'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `  ${r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i]!) : c)).join('  ')}`;
  // maintenance under its app's line: it changes what every client of the site gets
  const notes = o.apps.flatMap((a) =>
    a.maintenance
      ? [
          color.yellow(
            `  ${a.app}: maintenance on since ${when(a.maintenance.since)} by ${a.maintenance.by} (clients get 503, Retry-After ${a.maintenance.retryAfterSeconds})`,
          ),
        ]
      : [],
  );
  return [o.host, color.dim(line(head)), ...rows.map(line), ...notes].join('\n');
}
