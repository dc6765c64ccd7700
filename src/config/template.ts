// What `alcaide init` writes: every key, commented, with its default.
export function deployYmlTemplate(app: string, host: string): string {
  return `# Alcaide deploy configuration. Reference: README.md ("Configuration").
# Values for a destination go in deploy.DESTINATION.yml and are deep-merged on top
# of this file when you pass -d DESTINATION.

# The mix app name (mix.exs \`app:\`). Becomes jail names: ${app}_blue, ${app}_green.
app: ${app}

# The FreeBSD 14+ server, reached over SSH.
server:
  host: ${host}
  user: root
  port: 22

# A domain gets automatic TLS from Caddy; without one the app is served on :80.
# domain: example.com

app_jail:
  base_path: /usr/local/jails        # jail roots live here
  freebsd_version: 14.3-RELEASE      # base template for the jails
  port: 4000                         # the port the release listens on inside its jail

# Jails get addresses on a cloned loopback interface:
# host .1, blue .2, green .3, database .4, build jail .5 (.6 while it is rebuilt)
network:
  interface: lo1
  subnet: 10.0.0.0/24

# accessories:
#   postgresql:
#     version: 16
#     volume: /var/db/${app}_postgres:/var/db/postgres   # HOST:JAIL, survives redeploys
#     port: 5432
#     user: ${app}
#     password_secret: POSTGRES_PASSWORD     # name of a key in the secrets file
#     database: ${app}_prod

env:
  clear:
    PHX_HOST: example.com
  # Names of keys in the encrypted secrets file (alcaide secrets edit).
  secret:
    - SECRET_KEY_BASE

health_check:
  path: /health
  interval: 1s
  timeout: 30s

# How long the old slot keeps serving in-flight requests after the switch.
drain_timeout: 10s

# What a failed deploy does: compensate (put the previous slot back at once; what CI wants)
# or hold (before the switch: wait for "alcaide retry" or "alcaide abort", up to hold_timeout).
on_failure: compensate
hold_timeout: 1h

# After the switch, keep checking health through Caddy this long; a failed check rolls back.
# The old slot keeps running until the bake ends. 0 = off.
bake: 0

release:
  name: ${app}
  # Run before traffic moves; false skips migrations.
  # migrate: "MyApp.Release.migrate()"

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
