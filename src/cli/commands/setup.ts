import type { Command } from 'commander';
import { type AppTarget } from '../../model/target';
import { isWebHost, onHost } from '../../model/fleet';
import type { StartSpec } from '../follow';
import type { WorkflowStatus } from '../../../workflows/status';
import type { Config } from '../../config/load';
import { toAppTarget } from '../../config/target';
import { HOSTS_FILE, JAIL_CONF_DIR, layout, PF_CONF, SYSCTL_CONF } from '../../freebsd/layout';
import { claimFile, claimOf } from '../../freebsd/claims';
import { appSearchAttributes } from '../../model/searchAttributes';
import { SETUP_STEPS, type SetupStep } from '../../../workflows/setupSteps';
import { configFor, temporalFor } from '../context';
import { color, mark } from '../output';
import { progressMode } from '../progress';
import { startAndFollowWithWorker } from './deploy';

export function workflowIdFor(kind: string, t: { app: string; destination?: string }): string {
  return `alcaide-${kind}-${t.app}${t.destination ? `-${t.destination}` : ''}`;
}

/** What each step of the setup table looks at and may change, for --dry-run. */
export function plan(t: AppTarget): string[] {
  const l = layout({ app: t.app, basePath: t.basePath, freebsdVersion: t.freebsdVersion });
  const details: Record<SetupStep, string> = {
    verifyHost: `uname: FreeBSD 14 or newer on amd64/arm64 at ${t.server.user}@${t.server.host}:${t.server.port}; ${claimFile(claimOf(t))}: this app's jails, subnet, ports and site, refused if another app holds them`,
    enableJails: `jail_enable=YES; ${JAIL_CONF_DIR} and ${t.basePath} (mode 0700); jailed processes hidden from host users (security.bsd.see_jail_proc=0, now and in ${SYSCTL_CONF})`,
    setupJailNetwork: `cloned_interfaces+=${t.network.iface}; jails on ${t.network.subnet} (blue ${t.network.blue}, green ${t.network.green}, db ${t.network.db}, build ${t.network.build})`,
    enableLinuxulator: 'linux_enable=YES; linux64 loaded',
    configurePf: `NAT for ${t.network.subnet} (and every other app's claimed subnet) through the default interface, in a marked block of ${PF_CONF} checked with pfctl -nf`,
    prepareBaseTemplate: `${l.baseUrl} (sha256 from MANIFEST) extracted to ${l.templateDir}`,
    setupCaddy: isWebHost(t)
      ? `pkg caddy, caddy_enable=YES, ${t.domain ? `https://${t.domain}` : 'HTTP on :80'} for ${t.app}, its slots named in ${HOSTS_FILE}`
      : `not a web host: no Caddy site for ${t.app} (one left from before is removed)`,
    setupPostgres: t.postgresql
      ? `jail ${l.jailName('db')} at ${t.network.db} with postgresql${t.postgresql.version}-server, data on ${t.postgresql.volumeHost} (nullfs at ${t.postgresql.volumeJail}), role ${t.postgresql.user}, database ${t.postgresql.database}, listening on ${t.network.db}:${t.postgresql.port} only`
      : 'skipped: no accessories.postgresql in the config',
    setupBuildJail: `jail ${l.jailName('build')} at ${l.jailPath('build')} with elixir, erlang, node22, npm-node22, git`,
  };
  return SETUP_STEPS.map((s, i) => `${String(i + 1).padStart(2)}. ${s.title}\n      ${color.dim(details[s.name])}`);
}

export function registerSetup(program: Command): void {
  program
    .command('setup')
    .description('prepare the FreeBSD server: jails, network, pf, base template, Caddy, build jail (idempotent)')
    .option('--dry-run', 'print the plan without touching the server')
    .option('--trust-new-host', 'record the server host key if it is not in known_hosts yet (check its fingerprint first)')
    .option('--json', 'print progress as JSON lines')
    .addHelpText(
      'after',
      `
Every step checks the server's real state first and changes only what differs, so running
setup again is safe and changes nothing on a prepared server. It runs as a Temporal workflow:
if this command or its worker dies, run it again (or start \`alcaide worker\`) to finish.

Examples:
  $ alcaide setup --dry-run
  $ alcaide setup --trust-new-host      # first contact with a new server
  $ alcaide -d staging setup
  $ alcaide -H web2.example.com setup   # one host of a fleet
  $ alcaide -R worker setup             # the hosts of one role

With several servers every host is reached and checked first (FreeBSD 14+, one major version
and architecture for all, no other app's claims in the way); nothing changes on any host
unless all pass. Then each host is set up by its own workflow, all at once.`,
    )
    .action(async (opts: { dryRun?: boolean; trustNewHost?: boolean; json?: boolean }, cmd: Command) => {
      const config = configFor(cmd);
      const target = toAppTarget(config, { trustNewHost: opts.trustNewHost });
      const hosts = config.hosts.filter((h) => !config.selected || config.selected.includes(h.host));
      if (opts.dryRun) {
        for (const h of hosts) {
          console.log(`Plan for ${color.bold(target.app)} on ${h.host} (nothing is changed by --dry-run):`);
          for (const line of plan(onHost(target, h))) console.log(line);
        }
        return;
      }
      const fleet = target.fleet && { hosts: hosts.map((h) => h.host) };
      const status = await runSetup(config, opts.json, {
        workflowType: fleet ? 'fleetSetupWorkflow' : 'setupWorkflow',
        workflowId: workflowIdFor('setup', target),
        args: [{ target, ...fleet }],
        searchAttributes: appSearchAttributes(target),
        what: `setup of ${target.app}${fleet ? ` on ${hosts.length} host${hosts.length > 1 ? 's' : ''}` : ''}`,
      });
      if (!status) return;
      if (fleet) return console.log(`${mark.ok()} ${status.hosts?.map((h) => h.host).join(', ')} ready for ${target.app}`);
      const changed = status.steps.filter((s) => s.state === 'done').length;
      console.log(
        `${mark.ok()} ${target.server.host} is ready for ${target.app} (${changed ? `${changed} step${changed > 1 ? 's' : ''} changed something` : 'nothing needed changing'})`,
      );
    });
}

/** Starts a setup workflow (one host's, or a fleet's parent) and follows it; its status, none with --json. */
async function runSetup(config: Config, json: boolean | undefined, spec: StartSpec): Promise<WorkflowStatus | undefined> {
  const { connectClient } = await import('../../temporal/connection');
  const settings = temporalFor(config);
  const client = await connectClient(settings);
  const mode = progressMode(json);
  try {
    const status = await startAndFollowWithWorker(client, settings, spec, mode);
    return mode === 'json' ? undefined : status;
  } finally {
    await client.connection.close();
  }
}
