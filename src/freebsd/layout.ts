// Where things live on the server: the one place that spells a host path. Every other module
// (builders, activities, the CLI, config defaults) takes its paths from here. Derived from
// config only (validated names and paths).

export type Slot = 'blue' | 'green';
export const SLOTS: readonly Slot[] = ['blue', 'green'];
export const otherSlot = (s: Slot): Slot => (s === 'blue' ? 'green' : 'blue');

/** build_next: the new build jail while a rebuild proves it. */
export type JailRole = Slot | 'build' | 'build_next' | 'db';

// ---------------------------------------------------------------- the host

/** app_jail.base_path's default: jail roots, the base template and its archive live here. */
export const DEFAULT_BASE_PATH = '/usr/local/jails';
/** One jail.conf file per jail, read by rc.d/jail at boot. */
export const JAIL_CONF_DIR = '/etc/jail.conf.d';
export const PF_CONF = '/etc/pf.conf';
export const HOSTS_FILE = '/etc/hosts';
/** Read by rc.d/sysctl at boot (security.bsd.see_jail_proc: src/freebsd/jailPrivacy.ts). */
export const SYSCTL_CONF = '/etc/sysctl.conf';
/** A jail's console output (jail.conf's exec.consolelog). */
export const jailConsoleLog = (jail: string) => `/var/log/jail_console_${jail}.log`;

/** alcaide's state on the host: under /var/db, so it survives a reboot (/var/run does not). */
export const STATE_DIR = '/var/db/alcaide';
/** The app's deploy state: the live slot, the deploy log, Caddy's gates. */
export const stateDir = (app: string) => `${STATE_DIR}/${app}`;
export const activeFile = (app: string) => `${stateDir(app)}/active`;
export const deployLog = (app: string) => `${stateDir(app)}/deploys.log`;
/** Gates must survive a reboot (/var/run is cleared at boot), so they live under /var/db. */
export const gateDir = (app: string) => `${stateDir(app)}/gates`;
export const gateFile = (app: string, slot: string) => `${gateDir(app)}/${slot}.open`;
/** Maintenance mode: while the page exists Caddy answers the app's clients 503 with it (src/caddy/caddyfile.ts). */
export const maintenancePage = (app: string) => `${gateDir(app)}/maintenance.html`;
/** The Retry-After header's value (seconds), read by Caddy on each answer. */
export const maintenanceRetryAfter = (app: string) => `${gateDir(app)}/maintenance.retry-after`;
/** A pause (`alcaide pause`): its token and the gates it closed; while it exists, Caddy holds requests. */
export const pauseFile = (app: string) => `${gateDir(app)}/paused`;
/**
 * A canary's share (`canary-SLOT`: SLOT is the canary, the other slot the stable one): while it
 * exists Caddy's canary routes decide per request, reading the threshold it holds (src/caddy/caddyfile.ts).
 */
export const canaryShareFile = (app: string, canary: Slot) => `${gateDir(app)}/canary-${canary}`;
/** Who turned it on, when, and why (JSON), for status. */
export const maintenanceInfo = (app: string) => `${gateDir(app)}/maintenance.json`;
/** Beside the apps' state directories (STATE_DIR/APP): no app name holds a ".". */
export const CLAIMS_DIR = `${STATE_DIR}/claims.d`;
/** The session of each fenced step's attempt (docs/architecture.md rule 11): cleared at boot, as the sessions are. */
export const FLIGHT_DIR = '/var/run/alcaide/flight';

export const CADDY_DIR = '/usr/local/etc/caddy';
export const CADDYFILE = `${CADDY_DIR}/Caddyfile`;
/**
 * Each slot server's JSON access log (readiness checks left out), rolled by Caddy itself into
 * SLOT.access-TIME.log beside it: the canary's figures are counted from these.
 */
export const accessLogDir = (app: string) => `/var/log/caddy/${app}`;
export const accessLog = (app: string, slot: Slot) => `${accessLogDir(app)}/${slot}.access.log`;
/** One site file per app, imported by the main Caddyfile. */
export const SITES_DIR = `${CADDY_DIR}/sites`;
export const siteFile = (app: string) => `${SITES_DIR}/${app}.caddy`;

// ---------------------------------------------------------------- inside a slot jail

export const appDir = (app: string) => `/usr/local/${app}`;
/** Where the env file and the runner live: directories the app user goes through. */
export const ENV_DIR = '/usr/local/etc';
export const RUNNER_DIR = '/usr/local/libexec';
export const envFile = (app: string) => `${ENV_DIR}/${app}.env`;
export const runnerFile = (app: string) => `${RUNNER_DIR}/${app}-run`;
export const rcScript = (app: string) => `/usr/local/etc/rc.d/${app}`;
export const appLog = (app: string) => `/var/log/${app}.log`;
/** daemon(8)'s own pid (the service rc.subr sees) and the release's pid, rewritten on each restart. */
export const supervisorPidFile = (app: string) => `/var/run/${app}_supervisor.pid`;
export const childPidFile = (app: string) => `/var/run/${app}.pid`;
/** newsyslog(8) reads /usr/local/etc/newsyslog.conf.d/*.conf (FreeBSD 14's /etc/newsyslog.conf includes it). */
export const newsyslogConf = (app: string) => `/usr/local/etc/newsyslog.conf.d/${app}.conf`;
/** rc.subr's load_rc_config reads /etc/rc.conf.d/NAME after rc.conf: the app's settings in a file of its own. */
export const rcConfD = (app: string) => `/etc/rc.conf.d/${app}`;
export const SLOT_MARKER = '/usr/local/etc/alcaide-slot';
/** The app user's home and the app's data (DATA_DIR): with appTmpDir, all the app may write. */
export const appDataDir = (app: string) => `/var/db/${app}`;
/** RELEASE_TMP: the release's own tmp/ belongs to root. */
export const appTmpDir = (app: string) => `/var/tmp/${app}`;

// ---------------------------------------------------------------- inside the build jail

export const BUILD_HOME = '/usr/local/alcaide';
/** Every uploaded source and every built release stays here until `retain` prunes it (src/freebsd/releases.ts). */
export const SOURCES_DIR = `${BUILD_HOME}/src`;
export const ARTIFACTS_DIR = `${BUILD_HOME}/artifacts`;
export const sourceTarball = (version: string) => `${SOURCES_DIR}/${version}.tar`;
export const releaseArtifact = (app: string, version: string) => `${ARTIFACTS_DIR}/${app}-${version}.tar.gz`;

// ---------------------------------------------------------------- an app's jails

export interface LayoutInput {
  app: string;
  basePath: string;
  freebsdVersion: string;
  arch?: string;
}

export interface Layout {
  basePath: string;
  mediaDir: string;
  baseArchive: string;
  baseUrl: string;
  templateDir: string;
  jailName(role: JailRole): string;
  jailPath(role: JailRole): string;
  jailConf(role: JailRole): string;
}

/** A jail's name: the app's, then its role (hello_blue, hello_build); host-wide, whatever the base path. */
export const jailNameOf = (app: string, role: JailRole) => `${app}_${role}`;

export function layout({ app, basePath, freebsdVersion, arch = 'amd64' }: LayoutInput): Layout {
  const name = (role: JailRole) => jailNameOf(app, role);
  return {
    basePath,
    mediaDir: `${basePath}/media`,
    baseArchive: `${basePath}/media/${freebsdVersion}-${arch}-base.txz`,
    baseUrl: `https://download.freebsd.org/releases/${arch}/${freebsdVersion}/base.txz`,
    templateDir: `${basePath}/templates/${freebsdVersion}`,
    jailName: name,
    jailPath: (role) => `${basePath}/${name(role)}`,
    jailConf: (role) => `${JAIL_CONF_DIR}/${name(role)}.conf`,
  };
}
