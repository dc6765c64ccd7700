import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_CONFIG_FILE } from '../../config/load';
import { APP_NAME_RE } from '../../config/schema';
import { deployYmlTemplate } from '../../config/template';
import { readMixProject } from '../../config/mixProject';
import { UserError } from '../../errors';
import { globals } from '../context';
import { ensureGitignore } from '../gitignore';
import { writeHookSamples } from '../hookSamples';
import { color, mark } from '../output';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('write a commented deploy.yml, the .gitignore entries for .alcaide/ and sample hooks')
    .option('--app <name>', 'mix app name (default: read from mix.exs)')
    .option('--host <host>', 'server hostname or IP', 'server.example.com')
    .addHelpText('after', `\nExamples:\n  $ alcaide init\n  $ alcaide init --app my_app --host 203.0.113.10\n  $ alcaide -c config/deploy.yml init`)
    .action((opts: { app?: string; host: string }, cmd: Command) => {
      const file = path.resolve(globals(cmd).config ?? DEFAULT_CONFIG_FILE);
      const dir = path.dirname(file);
      if (existsSync(file)) throw new UserError(`${path.relative(process.cwd(), file)} already exists; not overwriting it`);
      const project = readMixProject(dir);
      const app = opts.app ?? project?.app;
      if (!app) throw new UserError('no mix.exs with `app: :name` here; pass --app NAME', 2);
      if (!APP_NAME_RE.test(app)) throw new UserError(`--app: expected a mix app name (lowercase letters, digits, "_"), got ${JSON.stringify(app)}`, 2);
      writeFileSync(file, deployYmlTemplate(app, opts.host, project), { flag: 'wx' });
      console.log(`${mark.ok()} wrote ${path.relative(process.cwd(), file)}${project?.phoenix ? ' for a Phoenix app' : ''}`);
      if (project) {
        const found = [
          project.releases.length ? `releases ${project.releases.join(', ')}` : 'the default release',
          project.releaseModule ? `migrations with ${project.releaseModule}.migrate()` : 'no Release module (mix phx.gen.release adds one): migrations off',
          ...(project.database ? ['DATABASE_URL: the PostgreSQL accessory'] : []),
        ];
        console.log(`  found ${found.join('; ')}`);
      }
      const added = ensureGitignore(dir);
      if (added.length) console.log(`${mark.ok()} added ${added.join(', ')} to .gitignore`);
      const samples = writeHookSamples(dir);
      if (samples.length) console.log(`${mark.ok()} wrote ${samples.map((s) => `.alcaide/hooks/${s}`).join(', ')} (rename one to use it: docs/hooks.md)`);
      const secrets = [
        ...(project?.secretKeyBase !== false ? ['mix phx.gen.secret | alcaide secrets set SECRET_KEY_BASE'] : []),
        ...(project?.database ? ['openssl rand -base64 32 | alcaide secrets set POSTGRES_PASSWORD'] : []),
      ];
      console.log(
        `\nNext: set server.host, then\n${['alcaide secrets init', ...secrets, 'alcaide config', 'alcaide setup', 'alcaide deploy'].map((c) => `  ${color.bold(c)}`).join('\n')}`,
      );
    });
}
