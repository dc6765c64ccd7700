// The canary a deploy carries (docs/canary.md), from deploy.yml's `rollout:` and `deploy --canary`.
import type { Config } from '../config/load';
import { DEFAULT_ROLLOUT, parsePercent, type CanaryPlan } from '../model/canary';
import { UserError } from '../errors';

/**
 * The canary a deploy runs, if any: `--canary P` one share of P % (then all), `--canary` alone or
 * a `rollout:` in deploy.yml its steps, `--no-canary` none. Bad input is exit 2 before anything starts.
 */
export function canaryPlanFor(config: Pick<Config, 'rollout'>, flag: string | boolean | undefined): CanaryPlan | undefined {
  if (flag === false || (flag === undefined && !config.rollout)) return undefined;
  const r = config.rollout;
  const plan: CanaryPlan = r
    ? { steps: r.steps, intervalMs: r.interval, checkIntervalMs: r.check_interval, maxErrorPoints: r.max_error_rate, minRequests: r.min_requests }
    : { ...DEFAULT_ROLLOUT };
  if (typeof flag === 'string') {
    const share = parsePercent(flag);
    if (share === undefined) throw new UserError(`--canary ${flag}: expected a share of clients above 0 and below 100, such as "10%"`, 2);
    plan.steps = [share];
  }
  return plan;
}
