import { hostKeyName } from './knownHosts';
import { SshConnection, type SshOptions, type SshTarget } from './connection';

/**
 * One connection per host per process, shared by every activity the worker runs. A
 * dropped connection is re-established by the next call on it.
 */
export class SshPool {
  private readonly connections = new Map<string, SshConnection>();

  constructor(private readonly defaults: Omit<SshOptions, 'knownHostsFile'> & { knownHostsFile: string }) {}

  get(target: SshTarget, overrides: Partial<SshOptions> = {}): SshConnection {
    const key = `${target.user}@${hostKeyName(target.host, target.port)}`;
    let c = this.connections.get(key);
    if (!c) {
      c = new SshConnection(target, { ...this.defaults, ...overrides });
      this.connections.set(key, c);
    }
    return c;
  }

  /** Total handshakes made, per host (benchmarks: connections per deploy). */
  connectCounts(): Record<string, number> {
    return Object.fromEntries([...this.connections].map(([k, c]) => [k, c.connectCount]));
  }

  closeAll(): void {
    for (const c of this.connections.values()) c.close();
    this.connections.clear();
  }
}
