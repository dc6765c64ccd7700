// A fleet child's link to its parent (workflows/hostFleet.ts is the parent's side): it reports
// what it has reached, waits for the parent's orders, and tells the parent at once when one of
// its steps fails — before its own undo steps run, so the other hosts go back meanwhile.
import { condition, getExternalWorkflowHandle, setHandler, workflowInfo } from '@temporalio/workflow';
import { failure } from '../src/failures';
import { hostReportSignal, proceedSignal, type HostOrder, type HostReport } from './signals';
import { rootMessage } from './tracker';

export function linkToParent(host: string) {
  const orders: HostOrder[] = [];
  setHandler(proceedSignal, (o) => void orders.push(o));
  const parent = workflowInfo().parent?.workflowId;
  const report = async (r: Omit<HostReport, 'host'>) => {
    if (parent) await getExternalWorkflowHandle(parent).signal(hostReportSignal, { host, ...r });
  };
  const undoOrdered = () => orders.find((o) => o.to === 'undo');
  return {
    report,
    /** Waits for `to`; an order to undo ends the run instead (its undo steps run). */
    async ordered(to: HostOrder['to']) {
      await condition(() => orders.some((o) => o.to === to || o.to === 'undo'));
      const undo = undoOrdered();
      if (undo) throw failure('StepFailed', `the fleet goes back: ${undo.why ?? 'another host failed'}`);
      return { changed: false, note: to === 'switch' ? 'every host is prepared' : 'every host has switched' };
    },
    /** `run`, with its failure reported to the parent first (not one the parent ordered). */
    async reportingFailure(run: Promise<void>): Promise<void> {
      try {
        await run;
      } catch (e) {
        if (!undoOrdered()) await report({ phase: 'failed', error: rootMessage(e) }).catch(() => undefined);
        throw e;
      }
    },
  };
}
