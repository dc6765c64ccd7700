// Caddy on the host: a main Caddyfile that imports one site file per app.
//
// Switching slots never reloads Caddy (a reload closes idle client keep-alive connections,
// which clients without retries see as failed requests). The app's site is static: it
// proxies to both slots with `lb_policy first`, and each slot sits behind a small server on
// a loopback port whose readiness answer is a gate the deploy opens and closes with a file.
// Opening the new slot's gate and closing the old one moves traffic within one health
// interval; requests already in flight finish on the old slot. The readiness answer is the
// gate alone, served by Caddy: the deploy proved the slot healthy before it opened the gate,
// and five checks a second never reach the app (or flood its log, two lines per request in
// Phoenix). A slot server retries its dial for a while, so an app that restarts (or boots
// after a reboot) delays requests instead of failing them.
//
// Maintenance mode is a gate too: while maintenance.html exists in the gate directory, the site
// answers the app's clients 503 with that page and a Retry-After read from a file beside it,
// without a reload; requests from the host itself (the deploy's checks through Caddy, an
// operator's curl there) still reach the app.
import { gateDir, maintenancePage, maintenanceRetryAfter, SITES_DIR } from '../freebsd/layout';

export const IMPORT_LINE = `import ${SITES_DIR}/*.caddy`;
export const READY_PATH = '/__alcaide/ready';
export const SLOT_HEADER = 'Alcaide-Slot';
export const HEALTH_INTERVAL = '200ms';
/** A site that has this line can be put in maintenance (sites written before it need `alcaide setup`). */
export const MAINTENANCE_MARKER = '# alcaide: maintenance gate';

/** The main Caddyfile when none exists yet. */
export function renderMainCaddyfile(): string {
  return `# Caddy on this host. Apps deployed by alcaide have their site in ${SITES_DIR}/.\n${IMPORT_LINE}\n`;
}

/** The main Caddyfile with the import line added if it is missing (the operator's content kept). */
export function withImportLine(existing: string): string {
  if (existing.split('\n').some((l) => l.trim() === IMPORT_LINE)) return existing;
  if (!existing.trim()) return renderMainCaddyfile();
  return `${existing.replace(/\n*$/, '\n')}\n# added by alcaide\n${IMPORT_LINE}\n`;
}

export interface SiteSpec {
  app: string;
  /** with a domain Caddy gets a certificate automatically; without, plain HTTP on :80 */
  domain?: string;
  /** the slots' names on the host (each with its IPv6 and IPv4 address) and the app's port */
  slots: { blue: string; green: string };
  port: number;
  /** loopback ports of the slot servers (not unix sockets: Caddy keeps one health state
   * for all unix-socket upstreams of a proxy, which mixes the two slots up; still so in 2.11.9) */
  proxyPorts: { blue: number; green: number };
}

/** How long a slot server retries dialling its app (restarting, or booting after a reboot). */
export const SLOT_DIAL_RETRY = '5s';

export function siteAddress(domain?: string): string {
  return domain ?? ':80';
}

function slotServer(s: SiteSpec, slot: 'blue' | 'green'): string {
  const upstream = `${s.slots[slot]}:${s.port}`;
  return `# ${s.app} ${slot}: ${upstream}
http://:${s.proxyPorts[slot]} {
	bind 127.0.0.1
	header ${SLOT_HEADER} ${slot}
	@ready path ${READY_PATH}
	handle @ready {
		@open file {
			root ${gateDir(s.app)}
			try_files /${slot}.open
		}
		respond @open "gate open" 200
		respond "gate closed" 503
	}
	handle {
		reverse_proxy ${upstream} {
			lb_try_duration ${SLOT_DIAL_RETRY}
			lb_try_interval 100ms
		}
	}
}
`;
}

const basename = (p: string) => p.slice(p.lastIndexOf('/') + 1);

export function renderSite(s: SiteSpec): string {
  return `# Managed by alcaide for ${s.app}. Static between deploys: the deploy moves traffic by
# opening and closing the gates in ${gateDir(s.app)}, never by reloading Caddy.
${siteAddress(s.domain)} {
	${MAINTENANCE_MARKER}
	@maintenance {
		file {
			root ${gateDir(s.app)}
			try_files /${basename(maintenancePage(s.app))}
		}
		not remote_ip 127.0.0.1/32 ::1/128
	}
	handle @maintenance {
		header Retry-After "{file.${maintenanceRetryAfter(s.app)}}"
		header Cache-Control no-store
		root * ${gateDir(s.app)}
		rewrite * /${basename(maintenancePage(s.app))}
		file_server {
			status 503
		}
	}
	handle {
		reverse_proxy 127.0.0.1:${s.proxyPorts.blue} 127.0.0.1:${s.proxyPorts.green} {
			lb_policy first
			lb_try_duration 5s
			lb_try_interval 50ms
			health_uri ${READY_PATH}
			health_interval ${HEALTH_INTERVAL}
			health_timeout 2s
		}
	}
}

${slotServer(s, 'blue')}
${slotServer(s, 'green')}`;
}
