// What a deploy waits for before its switch (docs/approvals.md), decided on the operator's
// machine from deploy.yml and the flags, before anything starts: bad input is exit 2.
import { UserError } from '../errors';
import type { GatePlan } from '../model/gates';
import { parseCutover } from './cutover';

export interface GateOptions {
  /** --approve (true), --no-approve (false), neither (undefined: deploy.yml's `approval`) */
  approve?: boolean;
  at?: string;
  tz?: string;
}

/** The gates of a deploy; undefined when it has none (its input and history stay as before gates). */
export function gatePlan(config: { approval: 'never' | 'before_switch'; approval_timeout: number }, o: GateOptions, now = Date.now()): GatePlan | undefined {
  if (o.tz !== undefined && o.at === undefined) throw new UserError('--tz goes with --at: the zone of the cut-over time', 2);
  const approve = o.approve ?? config.approval === 'before_switch';
  const plan: GatePlan = {
    ...(approve && { approval: { timeoutMs: config.approval_timeout } }),
    ...(o.at !== undefined && { cutover: parseCutover(o.at, o.tz, now) }),
  };
  return plan.approval || plan.cutover ? plan : undefined;
}
