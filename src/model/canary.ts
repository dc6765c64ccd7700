// A canary rollout (docs/canary.md): the new slot takes a growing share of clients through
// Caddy, a step at a time, while its 5xx share is compared with the old slot's. Pure: the CLI
// makes a plan from deploy.yml and --canary, the workflow carries it in its input and judges the
// figures the host's access logs give.

/** What a deploy's canary does, fixed when it starts (in the workflow input). */
export interface CanaryPlan {
  /** the shares of clients on the new slot, in percent, ascending, each below 100; then 100 % */
  steps: number[];
  /** how long each share lasts before the next (ms) */
  intervalMs: number;
  /** how often the figures are read (ms) */
  checkIntervalMs: number;
  /** how many percentage points the new slot's 5xx share may exceed the old slot's */
  maxErrorPoints: number;
  /** fewer requests than this on the new slot: no verdict yet */
  minRequests: number;
}

/** Requests a slot answered, and how many of them with a 5xx. */
export interface SlotFigures {
  requests: number;
  errors: number;
}

export interface CanaryFigures {
  canary: SlotFigures;
  stable: SlotFigures;
}

/** What `status` shows of a canary while it runs and after. */
export interface CanaryStatus {
  /** the share the new slot has now (percent) */
  share: number;
  steps: number[];
  /** when the current share ends (ms since epoch), while it runs */
  stepUntil?: number;
  /** counted since the canary began */
  figures: CanaryFigures;
  /** who sent all traffic to the new slot before the last step ended */
  promotedBy?: string;
  /** the breach that sent traffic back, as said in the failure */
  breach?: string;
}

export const DEFAULT_ROLLOUT = { steps: [5, 25, 50], intervalMs: 5 * 60_000, checkIntervalMs: 10_000, maxErrorPoints: 5, minRequests: 20 };

/** "10%", "10" or "12.5%" → 10 / 12.5; undefined unless strictly between 0 and 100. */
export function parsePercent(v: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n > 0 && n < 100 ? n : undefined;
}

/** A step list's problem, if any: ascending shares strictly between 0 and 100. */
export function stepsProblem(steps: readonly number[]): string | undefined {
  if (!steps.length) return 'at least one share';
  if (steps.some((s) => !(s > 0 && s < 100))) return 'shares above 0 and below 100 (100 % is the last step, always)';
  if (steps.some((s, i) => i > 0 && s <= steps[i - 1]!)) return 'shares in ascending order';
  return undefined;
}

const rate = (f: SlotFigures) => (f.requests ? (100 * f.errors) / f.requests : 0);
const pct = (n: number) => `${+n.toFixed(1)}%`;

/** The figures as people read them: "green 3 of 412 5xx (0.7%), blue 1 of 3,702 (0.03%)". */
export function describeFigures(f: CanaryFigures, canary: string, stable: string): string {
  const one = (slot: string, s: SlotFigures) => `${slot} ${s.errors} of ${s.requests} requests 5xx (${pct(rate(s))})`;
  return `${one(canary, f.canary)}, ${one(stable, f.stable)}`;
}

/**
 * Why the canary must go back, or undefined while it may go on: the new slot answered 5xx to a
 * share of its requests more than `maxErrorPoints` above the old slot's, once it had `minRequests`.
 */
export function canaryBreach(plan: CanaryPlan, f: CanaryFigures, canary: string, stable: string): string | undefined {
  if (f.canary.requests < plan.minRequests) return undefined;
  const over = rate(f.canary) - rate(f.stable);
  if (over <= plan.maxErrorPoints) return undefined;
  return `${canary} answered 5xx to ${pct(rate(f.canary))} of its requests, ${+over.toFixed(1)} points above ${stable}'s ${pct(rate(f.stable))} (the limit is ${plan.maxErrorPoints} points): ${describeFigures(f, canary, stable)}`;
}

export const addFigures = (a: CanaryFigures, b: CanaryFigures): CanaryFigures => ({
  canary: { requests: a.canary.requests + b.canary.requests, errors: a.canary.errors + b.canary.errors },
  stable: { requests: a.stable.requests + b.stable.requests, errors: a.stable.errors + b.stable.errors },
});

export const NO_FIGURES: CanaryFigures = { canary: { requests: 0, errors: 0 }, stable: { requests: 0, errors: 0 } };
