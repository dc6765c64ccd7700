// How the target's host is reached over SSH: its address, keys, known_hosts and jump host
// from the config. The worker's pool and the CLI's own connection both take them from here.
import type { AppTarget } from '../model/target';
import { expandHome, type SshOptions } from '../ssh/connection';

export const DEFAULT_KNOWN_HOSTS = '~/.ssh/known_hosts';

export function sshOptionsFor(t: AppTarget): SshOptions {
  return {
    knownHostsFile: expandHome(t.ssh.knownHosts ?? DEFAULT_KNOWN_HOSTS),
    keys: t.ssh.keys,
    proxyJump: t.ssh.proxyJump,
    trustNewHost: t.ssh.trustNewHost,
  };
}

/** How long a command may run unless its caller says otherwise: a check, and a command that must succeed. */
export const CHECK_TIMEOUT_MS = 60_000;
export const RUN_TIMEOUT_MS = 300_000;
