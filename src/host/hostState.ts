// The app's host as the CLI's `logs` and `run` see it: a connection of their own (not the
// worker's pool) and the live slot. Loaded only when a command talks SSH (scripts/bundle-cli.js).
import type { Slot } from '../freebsd/layout';
import type { AppTarget } from '../model/target';
import { SshConnection } from '../ssh/connection';
import { readActiveSlot } from './liveSlot';
import { CHECK_TIMEOUT_MS, RUN_TIMEOUT_MS, sshOptionsFor } from './ssh';

export interface HostState {
  readonly conn: SshConnection;
  /** the live slot, or nothing on a host where none is */
  liveSlot(): Promise<Slot | undefined>;
  close(): void;
}

export function openHostState(t: AppTarget): HostState {
  const conn = new SshConnection(t.server, sshOptionsFor(t));
  return {
    conn,
    liveSlot: () =>
      readActiveSlot(
        { run: (c, label) => conn.run(c, { label, timeoutMs: RUN_TIMEOUT_MS }), check: (c, label) => conn.exec(c, { label, timeoutMs: CHECK_TIMEOUT_MS }) },
        t,
      ),
    close: () => conn.close(),
  };
}
