import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { secretNamesOf, SecretsStore } from '../../config/secrets';
import { UserError } from '../../errors';
import { workflowUiUrl } from '../../temporal/settings';
import { configFor, temporalFor } from '../context';
import { color, mark } from '../output';
import type { DoctorResult } from '../../../workflows';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check the config, the secrets and the Temporal round trip (workflow + activity on a worker)')
    .addHelpText('after', `\nExamples:\n  $ alcaide doctor\n  $ alcaide -d production doctor`)
    .action(async (_o: unknown, cmd: Command) => {
      const config = configFor(cmd);
      const line = (ok: boolean | 'warn', text: string) => console.log(`${ok === 'warn' ? mark.warn() : ok ? mark.ok() : mark.fail()} ${text}`);
      let failed = false;
      line(
        true,
        `config ${config.files.map((f) => f.replace(config.root + '/', '')).join(' + ')} is valid (app ${config.app}, server ${config.server.user}@${config.server.host}:${config.server.port})`,
      );

      const needed = secretNamesOf(config);
      if (needed.length) {
        const store = new SecretsStore(config.root, config.destination);
        try {
          const values = store.read();
          const missing = needed.filter((n) => !(n in values));
          if (missing.length) {
            failed = true;
            line(false, `secrets: ${missing.join(', ')} missing from ${store.displayName} (alcaide secrets set NAME)`);
          } else line(true, `secrets: ${needed.length} decrypted from ${store.displayName}`);
        } catch (e) {
          failed = true;
          line(false, `secrets: ${e instanceof UserError ? e.message : String(e)}`);
        }
      }

      // The Temporal SDK is loaded only by the commands that talk to Temporal (fast --help, config, secrets).
      const { connectClient, missingSearchAttributes } = await import('../../temporal/connection');
      const { withWorkerIfNone } = await import('../../temporal/embedded');
      const { SEARCH_ATTRIBUTE_KEYS } = await import('../../model/searchAttributes');
      const settings = temporalFor(config);
      const client = await connectClient(settings);
      line(true, `Temporal reachable at ${settings.address} (namespace ${settings.namespace})`);
      if (settings.codecKey) line(true, `payloads encrypted (AES-256-GCM, key ${settings.codecKey.id} from ${settings.codecKey.source})`);
      else line('warn', 'payloads in clear: no ALCAIDE_CODEC_KEY and no master key (a project without secrets has nothing to hide in history)');
      try {
        const missing = await missingSearchAttributes(
          client,
          settings,
          SEARCH_ATTRIBUTE_KEYS.map((k) => k.name),
        );
        if (missing.length) {
          failed = true;
          line(
            false,
            `search attributes missing: ${missing.join(', ')} — create them with:\n    ${missing.map((n) => `temporal operator search-attribute create --namespace ${settings.namespace} --name ${n} --type Keyword`).join('\n    ')}`,
          );
        } else line(true, `search attributes registered: ${SEARCH_ATTRIBUTE_KEYS.map((k) => k.name).join(', ')}`);
      } catch (e) {
        line('warn', `could not list search attributes (${(e as Error).message.split('\n')[0]})`);
      }

      const workflowId = `alcaide-doctor-${config.app}-${randomUUID().slice(0, 8)}`;
      let embedded = false;
      let result: DoctorResult;
      try {
        result = await withWorkerIfNone(
          client,
          settings,
          () =>
            client.workflow.execute<() => Promise<DoctorResult>>('doctorWorkflow', {
              taskQueue: settings.taskQueue,
              workflowId,
              workflowExecutionTimeout: '30s',
            }),
          () => (embedded = true),
        );
      } catch (e) {
        line(false, `workflow round trip on task queue ${settings.taskQueue} failed: ${(e as Error).message}`);
        throw new UserError(
          'no worker completed the check workflow',
          1,
          `a worker polls task queue ${settings.taskQueue} but did not run it: is that \`alcaide worker\` healthy and of the same version?`,
        );
      }
      const w = result.worker;
      line(
        true,
        `workflow round trip on ${embedded ? 'an embedded worker' : `worker ${w.hostname} pid ${w.pid}`} (task queue ${settings.taskQueue}, alcaide ${w.alcaideVersion})`,
      );
      const url = workflowUiUrl(settings, workflowId);
      if (url) console.log(color.dim(`  ${url}`));
      await client.connection.close();
      if (failed) throw new UserError('some checks failed (see above)');
    });
}
