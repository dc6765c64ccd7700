import { Command, CommanderError, Option } from 'commander';
import { VERSION } from '../version';
import { registerApprove } from './commands/approve';
import { registerCodecServer } from './commands/codec';
import { registerConfig } from './commands/config';
import { registerPromote } from './commands/canary';
import { registerDeploy } from './commands/deploy';
import { registerDocs } from './commands/docs';
import { registerDoctor } from './commands/doctor';
import { registerHistory } from './commands/history';
import { registerInit } from './commands/init';
import { registerReleases } from './commands/releases';
import { registerRemote } from './commands/remote';
import { registerSecrets } from './commands/secrets';
import { registerSchedule } from './commands/schedule';
import { registerRemove } from './commands/remove';
import { registerMaintenance } from './commands/maintenance';
import { registerPause } from './commands/pause';
import { registerSetup } from './commands/setup';
import { registerWorker } from './commands/worker';
import { printError } from './output';
import { expandAlias } from './aliases';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_CONFIG_FILE, loadConfig } from '../config/load';

export function buildProgram(): Command {
  const program = new Command('alcaide')
    .description('Zero-downtime blue/green deploys of Elixir/Phoenix releases to FreeBSD jails,\nevery deploy a durable Temporal workflow.')
    .option('-c, --config <path>', 'config file (default: deploy.yml)')
    .option('-d, --destination <name>', 'merge deploy.NAME.yml on top and use .alcaide/secrets.NAME.enc')
    .option('-H, --hosts <list>', 'act on these hosts only: comma-separated hosts or labels of deploy.yml')
    .option('-R, --roles <list>', 'act on the hosts of these roles only (comma-separated)')
    .addOption(new Option('-v, --verbose', 'more output, stack traces for unexpected errors'))
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .addHelpText(
      'after',
      `
Examples:
  $ alcaide init                     # write deploy.yml
  $ alcaide secrets init             # master key + encrypted secrets file
  $ alcaide config                   # validate and show the merged config
  $ alcaide docs health_check        # what each deploy.yml key does
  $ alcaide -d staging config        # deploy.yml + deploy.staging.yml
  $ alcaide doctor                   # config, secrets and Temporal round trip
  $ alcaide setup --trust-new-host   # prepare the FreeBSD server (idempotent)
  $ alcaide deploy                   # build HEAD, deploy blue/green with zero downtime
  $ alcaide status --watch           # where the deploy is
  $ alcaide rollback                 # previous release back
  $ alcaide releases                 # the releases each host keeps
  $ alcaide rollback --to v1.4.2     # a kept release back, not built again
  $ alcaide schedule nightly --at 03:00   # rebuild the build jail every night
  $ alcaide worker                   # long-lived worker on the task queue
  $ alcaide -H web2.example.com logs # one host of a fleet
  $ alcaide -R web setup             # the web hosts of a fleet`,
    );
  program
    .command('version')
    .description('print the alcaide version')
    .action(() => console.log(VERSION));
  registerInit(program);
  registerConfig(program);
  registerDocs(program);
  registerSecrets(program);
  registerDoctor(program);
  registerSetup(program);
  registerDeploy(program);
  registerPromote(program);
  registerApprove(program);
  registerRemote(program);
  registerReleases(program);
  registerHistory(program);
  registerSchedule(program);
  registerRemove(program);
  registerMaintenance(program);
  registerPause(program);
  registerWorker(program);
  registerCodecServer(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}

/**
 * A reader that stops early (`alcaide --help | head -1`) closes the pipe: the output ends
 * there, as for any Unix tool killed by SIGPIPE (exit 128+13), instead of in a stack trace.
 */
export function endQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
      process.exit(141);
    });
  }
}

export async function main(argv: string[]): Promise<number> {
  endQuietlyOnClosedPipe();
  const program = buildProgram();
  program.version(VERSION, '-V, --version');
  try {
    await program.parseAsync(expandAlias(argv, projectAliases));
    // a command that ends without throwing still sets its status: a host it could not read,
    // the exit status of a remote command (`alcaide run`)
    return Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version "errors" are normal exits; usage errors are exit 2
      return e.exitCode === 0 ? 0 : 2;
    }
    return printError(e, argv.includes('--verbose') || argv.includes('-v'));
  }
}

/** deploy.yml's aliases for these global options; none without a deploy.yml (a broken one is its error). */
function projectAliases(globals: string[]): Record<string, string[]> | undefined {
  const g = new Command().option('-c, --config <path>').option('-d, --destination <name>').allowUnknownOption().allowExcessArguments().exitOverride();
  const o = g.parse(globals, { from: 'user' }).opts<{ config?: string; destination?: string }>();
  if (!existsSync(path.resolve(o.config ?? DEFAULT_CONFIG_FILE))) return undefined;
  return loadConfig({ configPath: o.config, destination: o.destination }).aliases;
}

if (require.main === module) {
  void main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
