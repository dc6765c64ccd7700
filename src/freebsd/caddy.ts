// Host commands around Caddy: validate its configuration, open and close the slots' gates
// (src/caddy/caddyfile.ts renders the files; switching slots never reloads Caddy).
import { putText } from './files';
import { CADDYFILE, gateDir, gateFile } from './layout';
import { sh } from './sh';

/** Validates the whole Caddy configuration as Caddy will load it. */
export const caddyValidate = () => sh`caddy validate --config ${CADDYFILE} --adapter caddyfile`;

/** Opens a slot's gate: Caddy's next health check sends traffic there (if listed first). */
export const openGate = (app: string, slot: string) => sh`mkdir -p ${gateDir(app)} && touch ${gateFile(app, slot)}`;
export const closeGate = (app: string, slot: string) => sh`rm -f ${gateFile(app, slot)}`;

/**
 * Script part (with `putFunction()`): `to`'s gate opened, `from`'s closed, `to` recorded as the
 * live slot in `stateFile`: Caddy's health checks move the traffic, no reload.
 */
export const switchGates = (app: string, to: string, from: string | undefined, stateFile: string) =>
  [`${openGate(app, to)}${from ? ` && ${closeGate(app, from)}` : ''}`, putText(stateFile, '0644', `${to}\n`)].join('\n');

/**
 * Prints each slot whose jail runs: the live slots of a host Caddy does not serve the app from
 * (no gates there), where both run only while a deploy prepares the next.
 */
export const runningSlots = (jails: { blue: string; green: string }) =>
  (['blue', 'green'] as const).map((s) => sh`if jls -j ${jails[s]} jid >/dev/null 2>&1; then echo ${s}; fi`).join('; ');

/** Prints each slot whose gate is open and whose jail runs (one round trip for both slots). */
export const liveSlots = (app: string, jails: { blue: string; green: string }) =>
  (['blue', 'green'] as const).map((s) => sh`if [ -f ${gateFile(app, s)} ] && jls -j ${jails[s]} jid >/dev/null 2>&1; then echo ${s}; fi`).join('; ');
