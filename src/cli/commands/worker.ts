import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_CONFIG_FILE } from '../../config/load';
import { configFor, globals, temporalFor } from '../context';
import { color } from '../output';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run a long-lived worker on the task queue (setups, deploys, rollbacks and the nightly build jail rebuild run on it)')
    .addHelpText(
      'after',
      `
Temporal settings come from the environment (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH, TEMPORAL_API_KEY,
ALCAIDE_TASK_QUEUE), then deploy.yml's temporal section if there is one.

Examples:
  $ alcaide worker
  $ TEMPORAL_ADDRESS=temporal.internal:7233 alcaide worker
  $ TEMPORAL_ADDRESS=ns.acct.tmprl.cloud:7233 TEMPORAL_NAMESPACE=ns.acct TEMPORAL_API_KEY=... alcaide worker`,
    )
    .action(async (_o: unknown, cmd: Command) => {
      const g = globals(cmd);
      const hasConfig = g.config !== undefined || existsSync(path.resolve(DEFAULT_CONFIG_FILE));
      const settings = temporalFor(hasConfig ? configFor(cmd) : undefined);
      const { connectClient, connectWorker } = await import('../../temporal/connection');
      // Steps left running by a worker of this machine that died are failed by id first, so
      // their retries wait in the queue while the worker side loads (seconds on a busy machine)
      // instead of for the dead attempt's heartbeat timeout.
      const client = await connectClient(settings);
      const { takeOver } = await import('../../temporal/takeover');
      await takeOver(client, settings, (taken) => console.log(`took over from a worker that is gone: ${taken.join(', ')}`));
      const { closeActivityConnections, createWorker, installQuietRuntime } = await import('../../temporal/worker');
      installQuietRuntime(g.verbose ? 'INFO' : 'WARN');
      const connection = await connectWorker(settings);
      const worker = await createWorker(connection, settings);
      console.log(
        `worker polling task queue ${color.bold(settings.taskQueue)} on ${settings.address} (namespace ${settings.namespace}); Ctrl-C stops it gracefully`,
      );
      // The SDK shuts the worker down on SIGINT/SIGTERM and lets running activities finish.
      await worker.run();
      await client.connection.close();
      closeActivityConnections();
      await connection.close();
      console.log('worker stopped');
    });
}
