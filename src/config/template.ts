// What `alcaide init` writes: every key, commented, with its default; for a phx.new project
// (mix phx.gen.release) what deploys it as generated: the database, the secrets it requires.
// A comment that says what a key does is the schema's description (src/config/docs.ts); the
// others are about this project or this file.
import type { MixProject } from './mixProject';
import { camelize } from './load';
import { DEFAULT_BASE_PATH } from '../freebsd/layout';
import { keyComment, keyNote } from './docs';

function accessoriesBlock(app: string, on: boolean): string {
  const c = on ? '' : '# ';
  return `${on ? '# config/runtime.exs reads DATABASE_URL: PostgreSQL in a jail of its own; deploys set DATABASE_URL.\n' : ''}${c}accessories:
${c}  postgresql:
${c}    version: 16
${c}    volume: /var/db/${app}_postgres:/var/db/postgres   # HOST:JAIL, survives redeploys
${c}    port: 5432
${c}    user: ${app}
${c}    password_secret: POSTGRES_PASSWORD     # name of a key in the secrets file
${c}    database: ${app}_prod`;
}

function releaseBlock(app: string, p?: MixProject): string {
  const name = p?.releases.length ? (p.releases.includes(app) ? app : p.releases[0]!) : app;
  const note = p?.releases.length
    ? `# mix.exs declares the releases ${p.releases.join(', ')}.`
    : '# mix.exs declares no releases: the default release, named after the app, is built.';
  const migrate =
    p && !p.releaseModule
      ? `  # No lib/${app}/release.ex with migrate/0 (mix phx.gen.release writes one): migrations are skipped.\n  migrate: false`
      : `  # Run before traffic moves (false skips migrations).\n  migrate: "${p?.releaseModule ?? `${camelize(name)}.Release`}.migrate()"`;
  return `release:
  ${note}
  name: ${name}
${migrate}
  # true: migrations run before the new slot's app starts (an app that reads new tables at boot).
  # A failed deploy's migrations stay applied: keep them backward compatible.
  migrate_before_start: false`;
}

export function deployYmlTemplate(app: string, host: string, p?: MixProject): string {
  const secrets = p?.secretKeyBase || !p ? ['SECRET_KEY_BASE'] : [];
  return `# Alcaide deploy configuration. Reference: docs/configuration.md.
# Values for a destination go in deploy.DESTINATION.yml and are deep-merged on top
# of this file when you pass -d DESTINATION.

# The mix app name (mix.exs \`app:\`). Becomes jail names: ${app}_blue, ${app}_green.
app: ${app}

# The FreeBSD 14+ server, reached over SSH.
server:
  host: ${host}
  user: root
  port: 22

${keyComment('domain')}
# domain: example.com

app_jail:
  base_path: ${DEFAULT_BASE_PATH}        # ${keyNote('app_jail.base_path')}
  freebsd_version: 14.3-RELEASE      # ${keyNote('app_jail.freebsd_version')}
  port: 4000                         # ${keyNote('app_jail.port')}

# Jails get addresses on a cloned loopback interface:
# host .1, blue .2, green .3, database .4, build jail .5 (.6 while it is rebuilt)
network:
  interface: lo1
  subnet: 10.0.0.0/24

${accessoriesBlock(app, Boolean(p?.database))}

env:
${keyComment('env.clear', '  ')}
  clear: {}
${keyComment('env.secret', '  ')}
  secret:${secrets.length ? secrets.map((s) => `\n    - ${s}`).join('') : ' []'}

${keyComment('health_check.path')}
health_check:
  path: /
  interval: 1s
  timeout: 30s

${keyComment('drain_timeout')}
drain_timeout: 10s

${keyComment('on_failure')}
on_failure: compensate
${keyComment('hold_timeout')}
hold_timeout: 1h

${keyComment('bake')}
bake: 0

${keyComment('approval')}
approval: never

${keyComment('rollout')}
# rollout:
#   steps: [5, 25, 50]
#   interval: 5m
#   max_error_rate: 5

${releaseBlock(app, p)}

ssh:
  # keys: [~/.ssh/id_ed25519]        # default: ssh-agent, then ~/.ssh/id_ed25519, id_rsa
  # known_hosts: ~/.ssh/known_hosts
  # proxy_jump: deploy@bastion.example.com:22

# Where Temporal runs. Defaults to the local dev server (./temporal-dev.sh).
# Environment variables override: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
# TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH, TEMPORAL_API_KEY.
temporal:
  address: localhost:7233
  namespace: default
  task_queue: alcaide
`;
}
