// Caddy's admin API, read (never written) by the drain: how many requests each upstream of the
// running configuration has in flight (GET /reverse_proxy/upstreams, `num_requests`: counted up
// when Caddy starts proxying a request and down when its response is done).

/**
 * Where the drain looks for the admin API, in order: the FreeBSD port's endpoint (rc.conf
 * `caddy_admin`, a unix socket since the port's 2.7.4_2) and Caddy's own default. Caddy checks
 * the Host header: on a unix socket it takes 127.0.0.1, on localhost:2019 that address.
 */
export const ADMIN_ENDPOINTS = [
  { socket: '/var/run/caddy/caddy.sock', hostHeader: '127.0.0.1' },
  { host: '127.0.0.1', port: 2019, hostHeader: '127.0.0.1:2019' },
] as const;

export const UPSTREAMS_PATH = '/reverse_proxy/upstreams';

/**
 * Requests in flight to each upstream Caddy lists, from the body of GET /reverse_proxy/upstreams
 * (every upstream of the running configuration is listed, busy or not). Throws on a body that is
 * not the list Caddy answers.
 */
export function upstreamsInFlight(body: string): Map<string, number> {
  const list: unknown = JSON.parse(body);
  if (!Array.isArray(list)) throw new Error(`expected a list of upstreams, got ${body.slice(0, 80)}`);
  const counts = new Map<string, number>();
  for (const u of list as Array<{ address?: unknown; num_requests?: unknown }>) {
    if (typeof u?.address !== 'string') continue;
    if (typeof u.num_requests !== 'number') throw new Error(`upstream ${u.address} without num_requests: ${JSON.stringify(u).slice(0, 120)}`);
    counts.set(u.address, (counts.get(u.address) ?? 0) + u.num_requests);
  }
  return counts;
}
