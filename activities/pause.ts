// `alcaide pause`: every web host of the app holds new requests at Caddy until the resume (or
// the pause's end, by the host's own timer). Each step is idempotent under the pause's token.
import { PAUSE_EXIT, pauseTraffic as pauseCommand, resumeScript } from '../src/freebsd/pause';
import { failure } from '../src/failures';
import { webHostsOf } from '../src/model/fleet';
import { stepResult, type StepResult } from '../src/model/step';
import type { AppTarget } from '../src/model/target';
import type { ActivityDeps } from './deps';
import { precondition } from './remote';

export interface PauseRequest {
  /** names this pause on the hosts (the workflow's run id) */
  token: string;
  maxSeconds: number;
}

const pauseTraffic =
  (d: ActivityDeps) =>
  async (t: AppTarget, req: PauseRequest): Promise<StepResult> => {
    const held = await Promise.all(
      webHostsOf(t).map(async (ht) => {
        const res = await d.remote(ht).check(pauseCommand(ht.app, req.token, req.maxSeconds), 'hold new requests');
        const where = `${ht.app} on ${ht.server.host}`;
        if (res.code === PAUSE_EXIT.siteWithoutGates)
          throw precondition(`the Caddy site of ${where} was written before pauses: run \`alcaide setup\` once (it rewrites the site; Caddy reloads)`);
        if (res.code === PAUSE_EXIT.noOpenGate) throw precondition(`no slot of ${where} takes traffic (no open gate): nothing to pause`);
        if (res.code === PAUSE_EXIT.pausedByAnother) throw precondition(`${where} is already paused by another run`);
        if (res.code !== 0)
          throw failure('RemoteCommandError', `holding requests on ${ht.server.host} failed (exit ${res.code}): ${res.stderr.trim().slice(-300)}`);
        return `${ht.server.host}: held`;
      }),
    );
    return stepResult(held, 'no web host');
  };

const resumeTraffic =
  (d: ActivityDeps) =>
  async (t: AppTarget, token: string): Promise<StepResult> => {
    await Promise.all(webHostsOf(t).map((ht) => d.remote(ht).run(resumeScript(ht.app, token), 'let the held requests go on')));
    return { changed: true, note: 'gates open again' };
  };

export function createPauseActivities(d: ActivityDeps) {
  return { pauseTraffic: pauseTraffic(d), resumeTraffic: resumeTraffic(d) };
}
