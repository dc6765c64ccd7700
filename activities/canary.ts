// PLACEHOLDER until the canary branch merges: the signatures only.
import type { AppTarget } from '../src/model/target';
import type { Slot } from '../src/freebsd/layout';
import type { StepResult } from '../src/model/step';
import type { SlotFigures } from '../src/model/canary';
import type { ActivityDeps } from './deps';

export function createCanaryActivities(_d: ActivityDeps) {
  return {
    setCanaryShare: async (_t: AppTarget, _to: Slot, _from: Slot, percent: number): Promise<StepResult> => ({ changed: true, note: `${percent}%` }),
    canaryFigures: async (
      _t: AppTarget,
      _to: Slot,
      _from: Slot,
      _sinceMs: number,
    ): Promise<StepResult & { canary: SlotFigures; stable: SlotFigures; until: number }> => ({
      changed: false,
      note: '',
      canary: { requests: 0, errors: 0 },
      stable: { requests: 0, errors: 0 },
      until: 0,
    }),
  };
}
