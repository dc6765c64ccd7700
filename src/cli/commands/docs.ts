import type { Command } from 'commander';
import { configKeys, keysFor, renderKeys, renderMarkdownTable } from '../../config/docs';
import { UserError } from '../../errors';

export function registerDocs(program: Command): void {
  program
    .command('docs')
    .description('every deploy.yml key with its default and what it does (no deploy.yml needed)')
    .argument('[topic]', 'a top-level key (boot, health_check, ...) or one key (boot.limit)')
    .option('--markdown', "print the keys as docs/configuration.md's table")
    .addHelpText('after', `\nExamples:\n  $ alcaide docs\n  $ alcaide docs health_check\n  $ alcaide docs roles.NAME.cmd\n  $ alcaide docs --markdown`)
    .action((topic: string | undefined, opts: { markdown?: boolean }) => {
      let keys = configKeys();
      if (topic !== undefined) {
        const r = keysFor(topic, keys);
        if ('error' in r) throw new UserError(r.error, 2);
        keys = r.keys;
      }
      const width = Math.min(process.stdout.columns || 80, 100);
      console.log(opts.markdown ? renderMarkdownTable(keys) : renderKeys(keys, width));
    });
}
