// A fleet parent's side of its children (workflows/hostLink.ts is theirs): it starts one child
// per host, follows what each reports, orders them to switch (web hosts in batches of
// boot.limit, boot.wait between) and to finish, and — after a failure anywhere, an abort or a
// rollback before the last switch — orders every host back and waits until each is, a host
// held on a failed undo step for as long as it is held.
import {
  CancellationScope,
  condition,
  ParentClosePolicy,
  setHandler,
  startChild,
  workflowInfo,
  type ChildWorkflowHandle,
  type Workflow,
} from '@temporalio/workflow';
import { failure } from '../src/failures';
import { batches, batchSize, hostsInRole, hostWorkflowId, WEB_ROLE, type FleetHost, type FleetSpec } from '../src/model/fleet';
import { hostReportSignal, proceedSignal, type HostOrder } from './signals';
import type { FleetHostStatus, WorkflowStatus } from './status';
import { rootMessage, undoFailedIn } from './tracker';

/** How far a host's child has come, in order. */
const PHASES: FleetHostStatus['state'][] = ['pending', 'running', 'prepared', 'switched', 'completed'];
const reached = (state: FleetHostStatus['state'], phase: FleetHostStatus['state']) => PHASES.includes(state) && PHASES.indexOf(state) >= PHASES.indexOf(phase);

export class HostFleet {
  readonly hosts: FleetHostStatus[];
  private readonly children = new Map<string, ChildWorkflowHandle<Workflow>>();
  private readonly ends: Array<Promise<void>> = [];
  /** the first host that failed (or the build, or a copy), and why: the whole fleet goes back */
  private broken?: string;
  /** the hosts the release is on: built there or copied */
  private readonly releaseOn = new Set<string>();
  private undoing = false;

  constructor(readonly fleet: FleetSpec) {
    this.hosts = fleet.hosts.map((h) => ({ host: h.host, roles: h.roles, workflowId: hostWorkflowId(workflowInfo().workflowId, h.host), state: 'pending' }));
    setHandler(hostReportSignal, (r) => {
      const e = this.entry(r.host);
      if (!e) return;
      if (r.phase === 'failed') {
        if (e.state !== 'failed') Object.assign(e, { state: 'failed', error: r.error });
        this.broken ??= `${r.host}: ${r.error}`;
      } else if (r.phase === 'held') Object.assign(e, { state: 'held', held: r.held });
      else if (r.phase === 'undoing') Object.assign(e, { state: 'undoing', held: undefined });
      else if (reached(r.phase, e.state)) Object.assign(e, { state: r.phase, slot: r.slot ?? e.slot, previousSlot: r.previousSlot ?? e.previousSlot });
    });
  }

  private entry(h: FleetHost | string): FleetHostStatus {
    return this.hosts.find((x) => x.host === (typeof h === 'string' ? h : h.host))!;
  }

  started(h: FleetHost): boolean {
    return this.children.has(h.host);
  }

  /** Starts `h`'s child. Outside the run's cancellation: a stopped run takes its hosts back by its own order, never cancels one mid-step. */
  async start<W extends Workflow>(h: FleetHost, workflow: W, args: Parameters<W>): Promise<void> {
    const e = this.entry(h);
    e.state = 'running';
    await CancellationScope.nonCancellable(async () => {
      // W's arguments are checked at the call; startChild's overloads cannot see through the generic
      const child = await (startChild as (w: Workflow, o: object) => Promise<ChildWorkflowHandle<Workflow>>)(workflow, {
        workflowId: e.workflowId,
        args,
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        typedSearchAttributes: workflowInfo().typedSearchAttributes,
      });
      this.children.set(h.host, child);
      this.ends.push(
        (child.result() as Promise<WorkflowStatus>).then(
          (s) => void Object.assign(e, { state: 'completed', note: `live on ${s.slot}` }),
          (err: unknown) => {
            const why = rootMessage(err);
            // the child's own word: its run ends UndoFailed when an undo step failed for good
            const notTakenBack = undoFailedIn(err);
            // a host that failed itself has reported its error; the others went back on the fleet's order
            if (this.undoing && e.error === undefined && !notTakenBack)
              return void Object.assign(e, { state: 'undone', held: undefined, note: 'back on its previous slot' });
            Object.assign(e, { state: 'failed', held: undefined, error: why, ...(notTakenBack && { notTakenBack, note: 'not taken back' }) });
            this.broken ??= `${h.host}: ${why}`;
          },
        ),
      );
    });
  }

  /** Whether `h`'s child has reached `phase`. */
  hasReached(h: FleetHost, phase: FleetHostStatus['state']): boolean {
    return reached(this.entry(h).state, phase);
  }

  /** The release is on `h` (built there, or copied): its child may install it. */
  arrived(h: FleetHost): void {
    this.releaseOn.add(h.host);
  }

  /** The fleet goes back for a failure outside its hosts (the build, a copy): every wait ends as a host's failure ends it. */
  abandon(why: string): void {
    this.broken ??= why;
  }

  /** Orders `h`'s child to install, once it has started, the release is on its host and `also()` holds; a failure ends the wait. */
  async orderInstall(h: FleetHost, also: () => boolean = () => true): Promise<void> {
    await condition(() => this.broken !== undefined || (this.started(h) && this.releaseOn.has(h.host) && also()));
    this.check();
    // a child that ended meanwhile is accounted for by its result
    await this.order([h], { to: 'install' }).catch(() => undefined);
  }

  /** Hosts started and not yet prepared. */
  preparing(): number {
    return this.hosts.filter((h) => h.state === 'running').length;
  }

  /** Waits until fewer than `n` hosts are preparing (boot.prepare); a failed host ends the wait. */
  async room(n: number): Promise<void> {
    await condition(() => this.broken !== undefined || this.preparing() < n);
    this.check();
  }

  /** Waits until every host of `of` has reached `phase`; a failed host ends the wait. */
  async until(of: FleetHost[], phase: FleetHostStatus['state']): Promise<void> {
    await condition(() => this.broken !== undefined || of.every((h) => reached(this.entry(h).state, phase)));
    this.check();
  }

  /** Throws the fleet's failure, if a host failed. */
  check(): void {
    if (this.broken !== undefined) throw failure('StepFailed', this.broken);
  }

  order(of: FleetHost[], o: HostOrder): Promise<unknown> {
    return Promise.all(of.map((h) => this.children.get(h.host)!.signal(proceedSignal, o)));
  }

  /** The web hosts switch in batches (boot.limit, boot.wait between), each verified by its child; then the other roles. */
  async switchAll() {
    const web = hostsInRole(this.fleet, WEB_ROLE);
    const rounds = batches(web, this.fleet.boot.limit);
    for (const [i, batch] of rounds.entries()) {
      // boot.wait between batches, ended early by a failure
      if (i > 0 && this.fleet.boot.waitMs > 0) await condition(() => this.broken !== undefined, this.fleet.boot.waitMs);
      this.check();
      await this.order(batch, { to: 'switch' });
      await this.until(batch, 'switched');
    }
    const rest = this.fleet.hosts.filter((h) => !web.includes(h));
    await this.order(rest, { to: 'switch' });
    await this.until(rest, 'switched');
    return { changed: true, note: `${rounds.length} batch${rounds.length > 1 ? 'es' : ''} of ${batchSize(this.fleet.boot.limit, web.length)}` };
  }

  /** Every host has switched: each drains and stops its old slot; waits for all. */
  async finishAll(what: string) {
    await this.order(this.fleet.hosts, { to: 'finish' });
    await Promise.all(this.ends);
    if (this.broken !== undefined) throw failure('StepFailed', `every host serves ${what}, but finishing failed on ${this.broken}`);
    return { changed: true, note: `${what} live on every host` };
  }

  /** Every host still in the run goes back (each child runs its own undo steps); waits for all. */
  async undoAll(stopped: string) {
    this.undoing = true;
    const why = this.broken ?? stopped;
    await Promise.all([...this.children.values()].map((c) => c.signal(proceedSignal, { to: 'undo', why }).catch(() => undefined)));
    await Promise.allSettled(this.ends);
    const failedUndo = this.hosts.filter((h) => h.notTakenBack);
    if (failedUndo.length) throw failure('UndoFailed', `not taken back: ${failedUndo.map((h) => h.host).join(', ')}`);
    return { changed: this.children.size > 0, note: this.hosts.map((h) => `${h.host}: ${h.state}`).join('; ') };
  }
}
