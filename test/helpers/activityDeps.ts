import type { ActivityDeps } from '../../activities/deps';
import { Remote } from '../../activities/remote';
import type { SshConnection } from '../../src/ssh/connection';

/** A connection for activities that must not reach a host: any command fails the test. */
export const NO_HOST = new Proxy({} as SshConnection, {
  get: (_t, prop) => () => Promise.reject(new Error(`this test reaches no host (SshConnection.${String(prop)} called)`)),
});

/** Activity dependencies for tests: no host, no secrets, a clock that does not wait; override what the test needs. */
export function testDeps(o: Partial<ActivityDeps> = {}): ActivityDeps {
  return {
    remote: () => new Remote(NO_HOST),
    secrets: () => ({}),
    clock: { now: () => Date.now(), sleep: async () => {} },
    log: { debug: () => {} },
    ...o,
  };
}
