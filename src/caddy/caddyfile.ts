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
// operator's curl there) still reach the app. A pause is one more: while `paused` exists and
// both slot gates are closed, requests wait in a proxy that tries for PAUSE_HOLD, and go on to
// the slot whose gate opens again.
//
// A canary is one more file: while `canary-SLOT` exists, the site's canary routes send a share of
// clients to SLOT's server and the rest to the other slot's, by a threshold read from the file on
// each request (no reload). A client is placed by a random value, kept in a cookie so it stays on
// its slot while the share does not fall; the slots' gates are left to the lb path beneath.
import { accessLog, canaryShareFile, gateDir, maintenancePage, maintenanceRetryAfter, pauseFile, SITES_DIR, type Slot } from '../freebsd/layout';

export const IMPORT_LINE = `import ${SITES_DIR}/*.caddy`;
export const READY_PATH = '/__alcaide/ready';
export const SLOT_HEADER = 'Alcaide-Slot';
export const HEALTH_INTERVAL = '200ms';
/** A site that has this line can be put in maintenance or paused (sites written before it need `alcaide setup`). */
export const GATES_MARKER = '# alcaide: maintenance and pause gates';
/** A site that has this line has the canary routes and the slots' access logs (older sites need `alcaide setup`). */
export const CANARY_MARKER = '# alcaide: canary routes and slot access logs';
/** Holds the client's random value (a UUID) that places it on the canary or the stable slot. */
export const CANARY_COOKIE = 'alcaide_canary';
/**
 * A request from the host itself with this header and value skips the canary routes and takes
 * the gates' path: how a switch sees Caddy's health checks route to the new slot before the
 * share file goes.
 */
export const ROUTE_HEADER = 'Alcaide-Route';
export const ROUTE_BY_GATES = 'gates';
/** How large a slot's access log grows before Caddy rolls it, and how many rolled files it keeps. */
export const ACCESS_LOG_ROLL = { sizeMiB: 20, keep: 5 } as const;
/** How long a paused site holds a request (Caddy's lb_try_duration): the most `alcaide pause --max` may ask. */
export const PAUSE_HOLD = '30s';
export const PAUSE_HOLD_MS = 30_000;
/** Retry-After (seconds) of a 503 that no slot took: held past the pause's limit, or no slot open. */
export const NO_SLOT_RETRY_AFTER_S = 5;

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
  /** how long a paused request is held (default PAUSE_HOLD) */
  pauseHold?: string;
}

/** How long a slot server retries dialling its app (restarting, or booting after a reboot). */
export const SLOT_DIAL_RETRY = '5s';

export function siteAddress(domain?: string): string {
  return domain ?? ':80';
}

/**
 * The slot server's upstream for ordinary requests, as Caddy names it (its admin API counts
 * requests in flight per name: what the drain reads, src/caddy/admin.ts).
 */
export const slotAppUpstream = (slotHostName: string, port: number) => `${slotHostName}:${port}`;
/** The same app for upgraded connections, under another name: Caddy's network prefix, dialled alike. */
export const slotUpgradeUpstream = (upstream: string) => `tcp/${upstream}`;

function slotServer(s: SiteSpec, slot: 'blue' | 'green'): string {
  const upstream = slotAppUpstream(s.slots[slot], s.port);
  return `# ${s.app} ${slot}: ${upstream}
http://:${s.proxyPorts[slot]} {
	bind 127.0.0.1
	header ${SLOT_HEADER} ${slot}
	log {
		output file ${accessLog(s.app, slot)} {
			roll_size ${ACCESS_LOG_ROLL.sizeMiB}MiB
			roll_keep ${ACCESS_LOG_ROLL.keep}
			roll_compression none
		}
		format json
	}
	@ready path ${READY_PATH}
	handle @ready {
		log_skip
		@open file {
			root ${gateDir(s.app)}
			try_files /${slot}.open
		}
		respond @open "gate open" 200
		respond "gate closed" 503
	}
	# an upgraded connection (LiveView's websocket) lasts as long as the page: its own upstream
	# name, so the drain, which counts ${upstream}, does not wait for it
	@upgrade header Upgrade *
	handle @upgrade {
		reverse_proxy ${slotUpgradeUpstream(upstream)} {
			lb_try_duration ${SLOT_DIAL_RETRY}
			lb_try_interval 100ms
		}
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

/** The site's proxy to the slot servers: the first whose gate is open, waiting up to `tryFor` for one. */
function proxyToSlots(s: SiteSpec, tryFor: string): string {
  return `\t\treverse_proxy 127.0.0.1:${s.proxyPorts.blue} 127.0.0.1:${s.proxyPorts.green} {
\t\t\tlb_policy first
\t\t\tlb_try_duration ${tryFor}
\t\t\tlb_try_interval 50ms
\t\t\thealth_uri ${READY_PATH}
\t\t\thealth_interval ${HEALTH_INTERVAL}
\t\t\thealth_timeout 2s
\t\t}`;
}

/** The client's cookie holds a value of ours (a UUID): anything else counts as no cookie. */
const HAS_COOKIE = `{http.request.cookie.${CANARY_COOKIE}}.matches("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")`;
/** A client's value: its cookie's, else this request's own UUID (random, the same throughout the request). */
const CLIENT_VALUE = `(${HAS_COOKIE} ? {http.request.cookie.${CANARY_COOKIE}} : {http.request.uuid})`;

/**
 * While canary-CANARY exists: a client whose value sorts below the file's threshold goes to the
 * canary's server, any other to the stable one's (each server's address directly, whatever its
 * gate). CEL compares strings lexicographically, so a hex threshold splits UUIDs by their leading
 * digits (src/freebsd/canary.ts writes it). A client without our cookie gets one, so it keeps
 * its place. Caddy's {file.*} placeholder has a "/" CEL's placeholders do not take: `vars` reads it.
 */
function canaryRoutes(s: SiteSpec, canary: Slot): string {
  const stable: Slot = canary === 'blue' ? 'green' : 'blue';
  const file = canaryShareFile(s.app, canary);
  return `\t@canary_${canary} {
\t\tfile {
\t\t\troot ${gateDir(s.app)}
\t\t\ttry_files /${basename(file)}
\t\t}
\t\tnot {
\t\t\tremote_ip 127.0.0.1/32 ::1/128
\t\t\theader ${ROUTE_HEADER} ${ROUTE_BY_GATES}
\t\t}
\t}
\thandle @canary_${canary} {
\t\tvars alcaide_share "{file.${file}}"
\t\t@new_client expression \`!${HAS_COOKIE}\`
\t\theader @new_client Set-Cookie "${CANARY_COOKIE}={http.request.uuid}; Path=/; HttpOnly; SameSite=Lax"
\t\t@to_canary expression \`${CLIENT_VALUE} < {http.vars.alcaide_share}\`
\t\thandle @to_canary {
\t\t\treverse_proxy 127.0.0.1:${s.proxyPorts[canary]}
\t\t}
\t\thandle {
\t\t\treverse_proxy 127.0.0.1:${s.proxyPorts[stable]}
\t\t}
\t}`;
}

export function renderSite(s: SiteSpec): string {
  const hold = s.pauseHold ?? PAUSE_HOLD;
  return `# Managed by alcaide for ${s.app}. Static between deploys: the deploy moves traffic by
# opening and closing the gates in ${gateDir(s.app)}, never by reloading Caddy.
${siteAddress(s.domain)} {
	${GATES_MARKER}
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
	# paused: both gates closed, so a request waits here for a slot, up to ${hold}
	@paused file {
		root ${gateDir(s.app)}
		try_files /${basename(pauseFile(s.app))}
	}
	handle @paused {
${proxyToSlots(s, hold)}
	}
	${CANARY_MARKER}
${canaryRoutes(s, 'blue')}
${canaryRoutes(s, 'green')}
	handle {
${proxyToSlots(s, '5s')}
	}
	# a request no slot took in time (paused too long, or no slot open)
	handle_errors 503 {
		header Retry-After ${NO_SLOT_RETRY_AFTER_S}
		respond "Service Unavailable" 503
	}
}

${slotServer(s, 'blue')}
${slotServer(s, 'green')}`;
}
