import type { Command } from 'commander';
import { toAppTarget, type AppTarget } from '../../config/target';
import { appCommand, appLog } from '../../freebsd/app';
import { tailFile } from '../../freebsd/files';
import { layout, type Slot } from '../../freebsd/layout';
import { jexec } from '../../freebsd/jail';
import { UserError } from '../../errors';
import { configFor } from '../context';

async function liveSlot(t: AppTarget): Promise<{ slot: Slot; close: () => void; conn: import('../../ssh/connection').SshConnection }> {
  const { Remote, closeSshPool } = await import('../../../activities/remote');
  const { activeSlot } = await import('../../../activities/deploy');
  const r = Remote.for(t);
  const slot = await activeSlot(r, t);
  if (!slot) {
    closeSshPool();
    throw new UserError(`${t.app} has no live slot on ${t.server.host}: deploy it first`);
  }
  return { slot, close: closeSshPool, conn: r.conn };
}

export function registerRemote(program: Command): void {
  program
    .command('logs')
    .description("the live slot's app log")
    .option('-f, --follow', 'keep printing new lines')
    .option('-n, --lines <n>', 'how many lines', '100')
    .addHelpText('after', '\nExamples:\n  $ alcaide logs -n 50\n  $ alcaide -d production logs -f')
    .action(async (opts: { follow?: boolean; lines: string }, cmd: Command) => {
      const n = Number(opts.lines);
      if (!Number.isInteger(n) || n < 0) throw new UserError(`--lines: expected a whole number, got ${JSON.stringify(opts.lines)}`, 2);
      const t = toAppTarget(configFor(cmd));
      const { slot, close, conn } = await liveSlot(t);
      const file = `${layout({ app: t.app, basePath: t.basePath, freebsdVersion: t.freebsdVersion }).jailPath(slot)}${appLog(t.app)}`;
      try {
        const stop = new AbortController();
        process.once('SIGINT', () => stop.abort());
        const r = await conn
          .exec(tailFile(file, n, opts.follow), { label: 'read the app log', onStdout: (d) => process.stdout.write(d), onStderr: (d) => process.stderr.write(d), signal: stop.signal })
          .catch((e: Error) => (e.name === 'AbortError' ? { code: 0 } : Promise.reject(e)));
        if (r.code !== 0) process.exitCode = 1;
      } finally {
        close();
      }
    });

  program
    .command('run')
    .description('run a command in the live slot with the app environment (a terminal for bin/APP remote)')
    .argument('<command...>', 'the command and its arguments')
    .addHelpText('after', '\nExamples:\n  $ alcaide run bin/my_app remote\n  $ alcaide run bin/my_app eval "MyApp.Release.migrate()"\n  $ alcaide run -- ls -la')
    .action(async (words: string[], _o: unknown, cmd: Command) => {
      const t = toAppTarget(configFor(cmd));
      const { slot, close, conn } = await liveSlot(t);
      const name = layout({ app: t.app, basePath: t.basePath, freebsdVersion: t.freebsdVersion }).jailName(slot);
      try {
        process.exitCode = await conn.interactive(jexec(name, appCommand(t.app, words)));
      } finally {
        close();
      }
    });
}
