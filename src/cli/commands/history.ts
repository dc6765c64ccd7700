import type { Command } from 'commander';
import { toAppTarget } from '../../config/target';
import { UserError } from '../../errors';
import { workflowUiUrl } from '../../temporal/settings';
import type { WorkflowStatus } from '../../../workflows/status';
import { configFor, temporalFor } from '../context';
import { color } from '../output';

export interface HistoryEntry {
  kind: string;
  /** completed, running, failed / aborted / rolled back / cancelled (", restored" when undone), terminated, … */
  outcome: string;
  /** who aborted or rolled it back */
  stoppedBy?: string;
  version?: string;
  /** the slot it left live (a completed deploy or rollback) */
  slot?: string;
  /** the slot a deploy or rollback used without leaving it live (running, failed, stopped) */
  triedSlot?: string;
  /** the step that failed, or that was running when it was stopped */
  failedStep?: string;
  startedBy?: string;
  startedAt: string;
  durationMs?: number;
  url?: string;
  workflowId: string;
  runId: string;
  /** who approved the switch (deploy --approve), and their note */
  approvedBy?: string;
  approvalNote?: string;
  /** a fleet's deploy: each host's outcome and slot */
  hosts?: Array<{ host: string; outcome: string; slot?: string }>;
}

/** A run as visibility lists it. */
export interface ListedRun {
  type: string;
  workflowId: string;
  runId: string;
  status: { name: string };
  startTime: Date;
  closeTime?: Date;
  memo?: Record<string, unknown>;
  searchAttributes?: unknown;
}

const KINDS: Record<string, string> = {
  rollbackWorkflow: 'rollback',
  fleetRollbackWorkflow: 'rollback',
  rebuildBuildJailWorkflow: 'rebuild',
  removeWorkflow: 'remove',
  fleetRemoveWorkflow: 'remove',
  pauseWorkflow: 'pause',
};

/** One line of history from the listed run and its final status (the result, or the failure's details). */
export function historyEntry(wf: ListedRun, status: WorkflowStatus | undefined, url?: string): HistoryEntry {
  const sa = (wf.searchAttributes ?? {}) as Record<string, unknown[] | undefined>;
  const failed = status?.state === 'failed';
  const step = status?.steps.find((x) => x.state === 'failed' || x.state === 'cancelled');
  // a run stopped by a signal says how and by whom; one cancelled from the UI (or from before
  // runs recorded it) only that it was stopped
  const stopped = status?.stopped ?? (step?.state === 'cancelled' ? { how: 'stopped', by: undefined } : undefined);
  const restored = failed && (Boolean(status.compensations?.length) || Boolean(status.restored));
  const slot = status?.slot ?? (sa.slot?.[0] as string | undefined);
  const live = wf.status.name === 'COMPLETED';
  return {
    kind: wf.type === 'maintenanceWorkflow' ? `maint ${status?.maintenance ?? ''}`.trim() : (KINDS[wf.type] ?? 'deploy'),
    outcome: failed ? `${stopped?.how ?? 'failed'}${restored ? ', restored' : ''}` : wf.status.name.toLowerCase().replace(/_/g, ' '),
    stoppedBy: failed ? stopped?.by : undefined,
    version: (status?.version ?? (sa.version?.[0] as string | undefined))?.slice(0, 12),
    slot: live ? slot : undefined,
    triedSlot: live ? undefined : slot,
    failedStep: step?.name,
    startedBy: wf.memo?.startedBy as string | undefined,
    startedAt: wf.startTime.toISOString(),
    durationMs: wf.closeTime ? wf.closeTime.getTime() - wf.startTime.getTime() : undefined,
    url,
    workflowId: wf.workflowId,
    runId: wf.runId,
    ...(status?.approval && { approvedBy: status.approval.by, ...(status.approval.note && { approvalNote: status.approval.note }) }),
    hosts: status?.hosts?.map((h) => ({ host: h.host, outcome: h.notTakenBack ? 'not taken back' : h.state, slot: h.slot })),
  };
}

/** "aborted by ops@laptop at checkHealth, restored": who and where go with the verb. */
export function outcomeText(e: Pick<HistoryEntry, 'outcome' | 'stoppedBy' | 'failedStep'>): string {
  const [verb, ...rest] = e.outcome.split(', ');
  return [`${verb}${e.stoppedBy ? ` by ${e.stoppedBy}` : ''}${e.failedStep ? ` at ${e.failedStep}` : ''}`, ...rest].join(', ');
}

/** The text line of an entry (colours aside); a slot not left live shows as "-". */
export function historyLine(e: HistoryEntry): string {
  const text = outcomeText(e);
  const outcome = e.outcome === 'completed' ? color.green(text) : e.outcome === 'running' ? color.yellow(text) : color.red(text);
  const took = e.durationMs !== undefined ? ` ${(e.durationMs / 1000).toFixed(1)}s` : '';
  const approved = e.approvedBy ? color.dim(`  approved by ${e.approvedBy}${e.approvalNote ? `: ${JSON.stringify(e.approvalNote)}` : ''}`) : '';
  const line = `${e.startedAt}  ${e.kind.padEnd(8)} ${(e.version ?? '').padEnd(12)} ${(e.slot ?? '-').padEnd(5)} ${outcome}${took}  ${color.dim(e.startedBy ?? '')}${approved}`;
  return e.hosts ? `${line}\n${e.hosts.map((h) => color.dim(`    ${h.host}: ${h.outcome}${h.slot ? ` (${h.slot})` : ''}`)).join('\n')}` : line;
}

export function registerHistory(program: Command): void {
  program
    .command('history')
    .description('past deploys, rollbacks and build jail rebuilds of this app and destination, newest first')
    .option('-n, --limit <n>', 'how many', '20')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  $ alcaide history\n  $ alcaide -d production history -n 5 --json')
    .action(async (opts: { limit: string; json?: boolean }, cmd: Command) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new UserError(`--limit: expected a whole number of at least 1, got ${JSON.stringify(opts.limit)}`, 2);
      const config = configFor(cmd);
      const t = toAppTarget(config);
      const s = temporalFor(config);
      const { connectClient } = await import('../../temporal/connection');
      const client = await connectClient(s);
      const entries: HistoryEntry[] = [];
      try {
        const query = `WorkflowType IN ('deployWorkflow', 'fleetDeployWorkflow', 'rollbackWorkflow', 'fleetRollbackWorkflow', 'rebuildBuildJailWorkflow', 'removeWorkflow') AND app = '${t.app}' AND destination = '${t.destination ?? 'default'}'`;
        for await (const wf of client.workflow.list({ query })) {
          if (entries.length >= limit) break;
          const handle = client.workflow.getHandle(wf.workflowId, wf.runId);
          // the final status travels in the result, or in the failure's details
          const status: WorkflowStatus | undefined =
            wf.status.name === 'RUNNING'
              ? undefined
              : await handle.result().then(
                  (r) => r as WorkflowStatus,
                  (e: { cause?: { details?: unknown[] } }) => e.cause?.details?.[0] as WorkflowStatus | undefined,
                );
          entries.push(historyEntry(wf, status, workflowUiUrl(s, wf.workflowId, wf.runId)));
        }
      } finally {
        await client.connection.close();
      }
      if (opts.json) {
        console.log(JSON.stringify(entries, null, 2));
        return;
      }
      if (!entries.length) {
        console.log(color.dim(`no deploys of ${t.app}${t.destination ? ` to ${t.destination}` : ''} yet`));
        return;
      }
      for (const e of entries) {
        console.log(historyLine(e));
        if (e.url) console.log(`  ${color.dim(e.url)}`);
      }
    });
}
