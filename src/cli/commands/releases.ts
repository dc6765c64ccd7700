// `alcaide releases`: what each host keeps of the app (src/host/releases.ts), and the reading
// `alcaide rollback --to` checks its VERSION against before anything changes.
import type { Command } from 'commander';
import { toAppTarget } from '../../config/target';
import type { Config } from '../../config/load';
import type { HostReleases } from '../../host/releases';
import { configFor, onHost, pickedHosts } from '../context';
import { color } from '../output';
import { renderHostReleases } from '../releasesView';

/** Every host's kept releases, read side by side; the hosts that could not be read, each with why. */
export async function readReleases(config: Config, hosts: Config['hosts']): Promise<{ read: HostReleases[]; failed: string[] }> {
  // loaded only now: the SSH side stays out of the CLI bundle (scripts/bundle-cli.js)
  const { readHostReleases } = await import('../../host/releases');
  const res = await Promise.allSettled(hosts.map((h) => readHostReleases(toAppTarget(onHost(config, h)))));
  return {
    read: res.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])),
    failed: res.flatMap((r, i) => (r.status === 'rejected' ? [`${hosts[i]!.host}: ${(r.reason as Error).message}`] : [])),
  };
}

export function registerReleases(program: Command): void {
  program
    .command('releases')
    .description('the releases each host keeps (retain in deploy.yml): version, size, built and deployed when, in which slot')
    .option('--json', 'print them as JSON')
    .addHelpText(
      'after',
      `
Each host keeps the release artifacts and uploaded sources of the \`retain\` most recently
built or deployed releases (default 5), and never removes the live or the kept slot's.
\`alcaide rollback --to VERSION\` puts a kept release back without building it.

Examples:
  $ alcaide releases
  $ alcaide releases --json
  $ alcaide -H web2.example.com releases   # one host of a fleet
  $ alcaide rollback --to 3f2a9c1d         # a kept release back, by its sha`,
    )
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const config = configFor(cmd);
      const { read, failed } = await readReleases(config, pickedHosts(config));
      if (opts.json) console.log(JSON.stringify(read, null, 2));
      else {
        console.log(read.map(renderHostReleases).join('\n\n'));
      }
      for (const f of failed) console.error(color.red(f));
      if (failed.length) process.exitCode = 1;
    });
}
