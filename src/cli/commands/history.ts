import type { Command } from 'commander';
import { toAppTarget } from '../../config/target';
import { UserError } from '../../errors';
import { workflowUiUrl } from '../../temporal/settings';
import type { WorkflowStatus } from '../../../workflows/status';
import { configFor, temporalFor } from '../context';
import { color } from '../output';

export interface HistoryEntry {
  kind: string;
  outcome: string;
  version?: string;
  slot?: string;
  failedStep?: string;
  startedBy?: string;
  startedAt: string;
  durationMs?: number;
  url?: string;
  workflowId: string;
  runId: string;
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
        const query = `WorkflowType IN ('deployWorkflow', 'rollbackWorkflow', 'rebuildBuildJailWorkflow', 'removeWorkflow') AND app = '${t.app}' AND destination = '${t.destination ?? 'default'}'`;
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
          const sa = wf.searchAttributes as Record<string, unknown[] | undefined>;
          entries.push({
            kind: ({ rollbackWorkflow: 'rollback', rebuildBuildJailWorkflow: 'rebuild', removeWorkflow: 'remove' } as Record<string, string>)[wf.type] ?? 'deploy',
            outcome: status?.state === 'failed' ? (status.compensations?.length || status.restored ? 'failed, restored' : 'failed') : wf.status.name.toLowerCase(),
            version: (status?.version ?? (sa.version?.[0] as string | undefined))?.slice(0, 12),
            slot: status?.slot ?? (sa.slot?.[0] as string | undefined),
            failedStep: status?.steps.find((x) => x.state === 'failed' || x.state === 'cancelled')?.name,
            startedBy: wf.memo?.startedBy as string | undefined,
            startedAt: wf.startTime.toISOString(),
            durationMs: wf.closeTime ? wf.closeTime.getTime() - wf.startTime.getTime() : undefined,
            url: workflowUiUrl(s, wf.workflowId, wf.runId),
            workflowId: wf.workflowId,
            runId: wf.runId,
          });
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
        const outcome = e.outcome === 'completed' ? color.green(e.outcome) : e.outcome.startsWith('failed') ? color.red(e.outcome) : color.yellow(e.outcome);
        const took = e.durationMs !== undefined ? ` ${(e.durationMs / 1000).toFixed(1)}s` : '';
        console.log(`${e.startedAt}  ${e.kind.padEnd(8)} ${(e.version ?? '').padEnd(12)} ${(e.slot ?? '-').padEnd(5)} ${outcome}${e.failedStep ? ` at ${e.failedStep}` : ''}${took}  ${color.dim(e.startedBy ?? '')}`);
        if (e.url) console.log(`  ${color.dim(e.url)}`);
      }
    });
}
