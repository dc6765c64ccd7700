// Live progress of a workflow from its status query: redrawn lines with spinners on a TTY,
// one line per finished step otherwise, JSON lines with --json.
import spinners from 'cli-spinners';
import logUpdate from 'log-update';
import { describeFigures } from '../model/canary';
import { formatDuration } from '../model/duration';
import { heldMessage, type FleetHostStatus, type StepStatus, type WorkflowStatus } from '../../workflows/status';
import { color } from './output';

export type ProgressMode = 'tty' | 'plain' | 'json';

export function progressMode(json?: boolean): ProgressMode {
  if (json) return 'json';
  return process.stdout.isTTY ? 'tty' : 'plain';
}

const frames = spinners.dots.frames;

function stepLine(s: StepStatus, now: number, frame: number): string {
  const took = s.startedAt ? formatDuration((s.endedAt ?? now) - s.startedAt) : '';
  const dim = (t: string) => color.dim(t);
  switch (s.state) {
    case 'running':
      return `${color.cyan(frames[frame % frames.length]!)} ${s.title} ${dim(took)}${s.attempt && s.attempt > 1 ? color.yellow(` (attempt ${s.attempt})`) : ''}`;
    case 'done':
      return `${color.green('✓')} ${s.title} ${dim(took)}${s.note ? dim(` — ${s.note}`) : ''}`;
    case 'unchanged':
      return `${color.green('✓')} ${s.title} ${dim(`${took} — ${s.note ?? 'already done'}`)}`;
    case 'failed':
      return `${color.red('✗')} ${s.title} ${dim(took)}\n    ${color.red(s.error ?? '')}`;
    case 'warned':
      // a post-* hook that failed: reported, the run went on (docs/hooks.md)
      return `${color.yellow('!')} ${s.title} ${dim(took)} ${color.yellow('failed; the run went on')}\n    ${color.yellow(s.error ?? '')}`;
    case 'skipped':
      return `${dim('-')} ${dim(`${s.title} (skipped${s.note ? `: ${s.note}` : ''})`)}`;
    default:
      return `${dim('·')} ${dim(s.title)}`;
  }
}

/**
 * Steps in the order they ended, as the deploy printed them (steps side by side end in either
 * order); a skipped step stays after the steps that ended before it was reached; steps still
 * to end follow in their own order.
 */
export function inOrder(steps: readonly StepStatus[]): StepStatus[] {
  let reached = -Infinity;
  const keyed = steps.map((s, i) => {
    const ended = s.state !== 'skipped' && s.state !== 'pending' && s.state !== 'running' ? s.endedAt : undefined;
    if (ended !== undefined) reached = Math.max(reached, ended);
    return { s, i, key: ended ?? (s.state === 'skipped' ? reached : Infinity) };
  });
  return keyed.sort((a, b) => a.key - b.key || a.i - b.i).map((k) => k.s);
}

const clock = (ms: number) => new Date(ms).toISOString().slice(11, 19) + 'Z';
/** A gate may wait for hours, past midnight: the date too. */
const instant = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + 'Z';

/** A deploy waiting at a gate before its switch (docs/approvals.md), and how to let it go on. */
export function gateLine(status: WorkflowStatus): string | undefined {
  const g = status.gate;
  if (!g) return undefined;
  const slots = status.slot ? `${status.slot} is healthy, ${status.previousSlot ?? 'nothing'} serves` : 'the new slots are healthy, the old ones serve';
  if (g.step === 'awaitApproval')
    return `${color.yellow(`⏸ waiting for approval since ${instant(g.since)}, until ${instant(g.until)}: ${slots}`)}
  ${color.dim(`\`alcaide approve [--note TEXT]\` switches traffic, \`alcaide abort\` undoes the deploy; without an approval it is undone at ${instant(g.until)}`)}`;
  return `${color.cyan(`◷ waiting for the cut-over time ${g.cutover ?? ''} (${instant(g.until)}) since ${instant(g.since)}: ${slots}`)}
  ${color.dim(`\`alcaide approve --now\` switches now, \`alcaide abort\` undoes the deploy`)}`;
}

/** What the deploy waits for, if anything: an operator's decision or the end of the bake. */
export function waitingLine(status: WorkflowStatus): string | undefined {
  if (status.state === 'held' && status.held) {
    return `${color.yellow(`⏸ ${heldMessage(status.held)}`)}
  ${color.dim(`fix the cause, then \`alcaide retry\` (or \`alcaide abort\`); without a decision it is undone at ${clock(status.held.until)}`)}`;
  }
  const gate = gateLine(status);
  if (gate) return gate;
  if (status.currentStep === 'canary' && status.canary && status.state === 'running') {
    const c = status.canary;
    const slots = [status.slot ?? 'new', status.previousSlot ?? 'old'];
    return `${color.cyan(`◷ canary: ${c.share}% of clients on ${slots[0]}${c.stepUntil ? ` until ${clock(c.stepUntil)}` : ''} (steps ${c.steps.join('%, ')}%, then all)`)}
  ${color.dim(`${describeFigures(c.figures, slots[0]!, slots[1]!)}; \`alcaide promote\` gives ${slots[0]} every client now, \`alcaide rollback\` none`)}`;
  }
  if (status.state === 'baking' && status.bakeUntil)
    return color.cyan(`◷ baking until ${clock(status.bakeUntil)}: health through Caddy; a failed check rolls back (alcaide rollback ends it now)`);
  return undefined;
}

/** A fleet host held on a failed undo step, and what the operator does about it. */
export const heldHostMessage = (h: FleetHostStatus): string =>
  `held: ${h.held ? `undo of ${h.held.undoOf ?? h.held.step} (${h.held.title}) failed: ${h.held.error}` : 'an undo step failed'} — fix it, then \`alcaide retry -H ${h.host}\``;

/** A fleet parent's hosts, one line each: its child workflow's state. */
export function hostLine(h: FleetHostStatus, frame = 0): string {
  const dim = (t: string) => color.dim(t);
  switch (h.state) {
    case 'completed':
      return `${color.green('✓')} ${h.host}${h.note ? dim(` — ${h.note}`) : ''}`;
    case 'failed':
      return `${color.red('✗')} ${h.host}${h.notTakenBack ? color.red(' not taken back') : ''}\n    ${color.red(h.error ?? '')}`;
    case 'held':
      return `${color.yellow(`⏸ ${h.host} ${heldHostMessage(h)}`)}${h.held ? `\n    ${dim(`without a retry by ${clock(h.held.until)} it is reported not taken back`)}` : ''}`;
    case 'undoing':
      return `${color.cyan(frames[frame % frames.length]!)} ${h.host} ${dim('undo step running again (retried)')}`;
    case 'running':
      return `${color.cyan(frames[frame % frames.length]!)} ${h.host} ${dim(h.workflowId)}`;
    default:
      return `${dim('·')} ${dim(h.host)}`;
  }
}

/** Every step (and undo step) of a status, one line each. */
export function renderStatus(status: WorkflowStatus): string {
  const lines = inOrder(status.steps).map((s) => stepLine(s, Date.now(), 0));
  lines.push(...(status.hosts ?? []).map((h) => `  ${hostLine(h)}`));
  const waiting = waitingLine(status);
  if (waiting) lines.push(waiting);
  if (status.compensations?.length) {
    lines.push(color.dim('undo:'));
    lines.push(...status.compensations.map((s) => `  ${stepLine(s, Date.now(), 0)}`));
  }
  return lines.join('\n');
}

export class ProgressView {
  private frame = 0;
  private printed = new Set<string>();
  private last?: WorkflowStatus;
  private lastJson = '';

  constructor(private readonly mode: ProgressMode) {}

  update(status: WorkflowStatus): void {
    this.last = status;
    this.frame++;
    if (this.mode === 'tty') {
      const lines = inOrder(status.steps).map((s) => stepLine(s, Date.now(), this.frame));
      for (const h of status.hosts ?? []) lines.push(`  ${hostLine(h, this.frame)}`);
      for (const c of status.compensations ?? []) lines.push(`  ${color.dim('undo')} ${stepLine(c, Date.now(), this.frame)}`);
      const waiting = waitingLine(status);
      if (waiting) lines.push(waiting);
      logUpdate(lines.join('\n'));
    } else if (this.mode === 'plain') {
      for (const s of [...inOrder(status.steps), ...(status.compensations ?? []).map((c) => ({ ...c, name: `undo:${c.name}`, title: `undo: ${c.title}` }))]) {
        const key = `${s.name}:${s.state}`;
        if (['done', 'unchanged', 'failed', 'warned', 'skipped'].includes(s.state) && !this.printed.has(key)) {
          this.printed.add(key);
          console.log(stepLine(s, Date.now(), 0));
        }
      }
      for (const h of status.hosts ?? []) {
        const key = `host:${h.host}:${h.state}${h.held ? `:${h.held.retries}` : ''}`;
        if ((h.state === 'completed' || h.state === 'failed' || h.state === 'held') && !this.printed.has(key)) {
          this.printed.add(key);
          console.log(`  ${hostLine(h)}`);
        }
      }
      const waiting = waitingLine(status);
      const key = status.held
        ? `held:${status.held.step}:${status.held.retries}`
        : status.gate
          ? `gate:${status.gate.step}:${status.gate.since}`
          : status.bakeUntil
            ? `bake:${status.bakeUntil}`
            : status.canary?.stepUntil
              ? `canary:${status.canary.share}`
              : '';
      if (waiting && !this.printed.has(key)) {
        this.printed.add(key);
        console.log(waiting);
      }
    } else {
      const json = JSON.stringify(status);
      if (json !== this.lastJson) console.log(json);
      this.lastJson = json;
    }
  }

  finish(status?: WorkflowStatus): void {
    if (status) this.update(status);
    if (this.mode === 'tty') logUpdate.done();
    void this.last;
  }
}
