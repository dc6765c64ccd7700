// The steps of `alcaide pause` (workflows/pause.ts).
import { undo, type StepDef } from './stepTable';

export const PAUSE_STEPS = [
  {
    name: 'pauseTraffic',
    title: 'hold new requests at Caddy',
    activity: 'pauseTraffic',
    retry: 'step',
    undo: undo('resumeTraffic', () => 'let the held requests go on'),
  },
  // a durable timer: until `alcaide resume` (the `resume` signal) or the pause's end
  { name: 'paused', title: 'paused: new requests wait' },
  { name: 'resumeTraffic', title: 'let the held requests go on', activity: 'resumeTraffic', retry: 'step' },
] as const satisfies readonly StepDef[];
