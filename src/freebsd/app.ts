// How a release lives in its slot jail: an rc.d script that runs it under daemon(8) as the
// app's own unprivileged user (restarted if it crashes, started at jail boot), a runner that
// loads the environment file, and that file itself (0640 root:USER, sh syntax, every value quoted).
import { putText } from './files';
import { jexec, jexecAs } from './jail';
import { q, sh } from './sh';
import {
  appDataDir,
  appDir,
  appLog,
  appTmpDir,
  childPidFile,
  ENV_DIR,
  envFile,
  newsyslogConf,
  rcConfD,
  rcScript,
  RUNNER_DIR,
  runnerFile,
  supervisorPidFile,
} from './layout';

export interface AppFiles {
  app: string;
  releaseName: string;
  /** the host's role's own command (roles.NAME.cmd), instead of `bin/RELEASE start` */
  cmd?: string;
}

/** Kept rotations of the app log and the size that rotates it (newsyslog's size field is in KiB). */
export const LOG_KEEP = 7;
export const LOG_ROTATE_KIB = 10240;
export const renderRcConfD = (app: string) => `# Written by alcaide.\n${app}_enable="YES"\n`;
export const VERSION_MARKER = '.alcaide-version';

/** The user the release runs as in its slot jail, named after the app (docs/security.md). */
export const appUser = (app: string) => app;
/** pw(8)'s comment field marks the user as ours: a user of that name we did not make is refused. */
export const APP_USER_COMMENT = 'alcaide app';

/** Script part: `_ids` set to the app user's "uid:gid", read from the jail's own files (pw -R). */
const appIds = (app: string, root: string) => sh`_ids=$(pw -R ${root} usershow ${appUser(app)} | cut -d: -f3,4)`;

/**
 * Script part (for `script()`): the app user in the jail whose root is `root`, made by pw(8)
 * unless it exists, and the two directories it may write, owned by it. A user of that name that
 * alcaide did not make (a base system account such as root, or someone's own) is refused.
 */
export function ensureAppUser(app: string, root: string): string {
  const user = appUser(app);
  return [
    sh`if _u=$(pw -R ${root} usershow ${user} 2>/dev/null); then`,
    sh`  case "$_u" in *:${APP_USER_COMMENT}:*) ;; *) echo ${`${root}: the jail has a user ${user} that alcaide did not create`} >&2; exit 1 ;; esac`,
    'else',
    sh`  pw -R ${root} useradd ${user} -c ${APP_USER_COMMENT} -d ${appDataDir(app)} -s /usr/sbin/nologin`,
    `  ${sh`changed ${`user ${user} in ${root}`}`}`,
    'fi',
    appIds(app, root),
    sh`install -d -o "\${_ids%:*}" -g "\${_ids#*:}" -m 0750 ${root + appDataDir(app)} ${root + appTmpDir(app)}`,
  ].join('\n');
}

/** Script part (after the env file is written): readable by the app user's group, writable by root alone. */
export const shareEnvFile = (app: string, root: string) => [appIds(app, root), sh`chgrp "\${_ids#*:}" ${root + envFile(app)}`].join('\n');

/** KEY='value' lines for `set -a; . file`: values are data, whatever they contain. */
export function renderEnvFile(vars: Record<string, string>): string {
  return `# Written by alcaide at deploy time. Mode 0640, group: the app user's.\n${Object.entries(vars)
    .map(([k, v]) => `${k}=${q(v)}`)
    .join('\n')}\n`;
}

export function renderRunner({ app, releaseName, cmd }: AppFiles): string {
  return `#!/bin/sh
# Loads the app's environment, then becomes the release (daemon(8) supervises it).
${withAppEnv(app, cmd === undefined ? `${appDir(app)}/bin/${releaseName} start` : roleCommand(cmd))}
`;
}

/**
 * A role's own command line, in the release directory: one quoted argument of a shell of its
 * own, whatever it holds, so the runner's lines around it stay as written. That shell `exec`s
 * it, so the command is daemon(8)'s child itself: signalled when the slot stops, its pid the
 * one the readiness check watches (a compound line — `a && b` — would leave `b` unrun).
 */
export const roleCommand = (cmd: string) => sh`/bin/sh -c ${`exec ${cmd}`}`;

/**
 * rc.subr sees the daemon(8) supervisor as the service: stopping it forwards SIGTERM to the
 * release and ends supervision, where killing the release itself would only restart it.
 */
export function renderRcScript({ app }: AppFiles): string {
  return `#!/bin/sh
#
# PROVIDE: ${app}
# REQUIRE: LOGIN NETWORKING
# KEYWORD: shutdown
#
# Written by alcaide. Enable with ${app}_enable="YES".

. /etc/rc.subr

name="${app}"
rcvar="${app}_enable"

load_rc_config $name
: \${${app}_enable:="NO"}

pidfile="${supervisorPidFile(app)}"
child_pidfile="${childPidFile(app)}"
procname="/usr/sbin/daemon"
command="/usr/sbin/daemon"
# -H: daemon reopens the log on SIGHUP, which newsyslog sends after it rotated the log.
# -u: only the release drops to the app user; daemon itself stays root to hold the pid files
# and the log (rc.subr's \${name}_user would run daemon itself as the user, through su).
command_args="-f -r -H -u ${appUser(app)} -P \${pidfile} -p \${child_pidfile} -o ${appLog(app)} -t ${app} ${runnerFile(app)}"

run_rc_command "$1"
`;
}

/**
 * newsyslog.conf(5) line for the app log: rotated at LOG_ROTATE_KIB or daily at midnight, LOG_KEEP
 * bzip2'd files kept, then daemon(8) signalled (SIGHUP, the default) so it reopens the file. No
 * owner field: the new file is root's, and daemon(8)'s supervisor, which stays root under -u,
 * is what writes and reopens it.
 */
export const renderNewsyslogConf = (app: string) =>
  [
    '# Written by alcaide: the app log, rotated by newsyslog(8) (cron runs it hourly).',
    '# logfilename\t[owner:group]\tmode\tcount\tsize\twhen\tflags\t[/pid_file]',
    `${appLog(app)}\t\t600\t${LOG_KEEP}\t${LOG_ROTATE_KIB}\t@T00\tJC\t${supervisorPidFile(app)}`,
    '',
  ].join('\n');

/**
 * Runs `command` (already-quoted words) in the app directory with the app environment loaded;
 * RELEASE_TMP is the app user's tmp dir unless the environment names another.
 */
export const withAppEnv = (app: string, command: string) =>
  `set -a && RELEASE_TMP=${appTmpDir(app)} && . ${envFile(app)} && set +a && cd ${appDir(app)} && exec ${command}`;

/** `command` (from withAppEnv) in the slot jail as the app user: migrations and `alcaide run`. */
export const asAppUser = (jail: string, app: string, command: string) => jexecAs(jail, appUser(app), command);

/** A user's command (`alcaide run`), each word quoted, with the app environment. */
export const appCommand = (app: string, words: string[]) => withAppEnv(app, sh`${words}`);

/** `bin/APP eval EXPR` with the app environment: migrations and one-off tasks. */
export const releaseEval = (app: string, releaseName: string, expr: string) => withAppEnv(app, sh`${`${appDir(app)}/bin/${releaseName}`} eval ${expr}`);

/**
 * Unpacks a release archive beside the live directory, marks it, then swaps it in. Its files are
 * root's and writable by root alone, whoever built them: the app user only reads them.
 */
export const installReleaseArchive = (archive: string, dir: string, version: string) =>
  [
    sh`rm -rf ${`${dir}.tmp`}`,
    sh`mkdir -p ${`${dir}.tmp`}`,
    sh`tar -xzf ${archive} --no-same-owner -C ${`${dir}.tmp`}`,
    sh`chmod -R go-w ${`${dir}.tmp`}`,
    sh`echo ${version} > ${`${dir}.tmp/${VERSION_MARKER}`}`,
    sh`rm -rf ${dir}`,
    sh`mv ${`${dir}.tmp`} ${dir}`,
  ].join(' && ');

/**
 * Kills the app in its jail at once, supervisor first so daemon(8) restarts nothing: for a slot
 * that never took traffic, with nothing to drain (`kill` inside the jail reaches only its processes).
 */
export const killAppIn = (app: string, jail: string) =>
  sh`jexec ${jail} /bin/sh -c ${`for f in ${supervisorPidFile(app)} ${childPidFile(app)}; do if [ -f "$f" ]; then kill -KILL "$(cat "$f")" 2>/dev/null || true; fi; done`}`;

/** releaseStaysUp's exit codes past 0 (up throughout): no pid to watch, it exited, daemon(8) restarted it. */
export const STAYS_UP_EXIT = { noPid: 3, exited: 4, restarted: 5 } as const;

/**
 * In the slot jail: the release's pid (daemon(8)'s child, rewritten on each restart) is read,
 * waiting up to 5 s for it, then must stay the one in the file and alive for `seconds` (checked
 * each second; daemon(8) restarts a release that ended after 1 s, so no end goes unseen).
 * Prints the pid, or the pids it saw.
 */
export function releaseStaysUp(app: string, jail: string, seconds: number): string {
  const f = childPidFile(app);
  return jexec(
    jail,
    [
      'n=0',
      sh`while ! p=$(cat ${f} 2>/dev/null) || [ -z "$p" ]; do n=$((n+1)); if [ $n -gt 5 ]; then exit ${STAYS_UP_EXIT.noPid}; fi; sleep 1; done`,
      'n=0',
      'while :; do',
      sh`  kill -0 "$p" 2>/dev/null || { echo "$p"; exit ${STAYS_UP_EXIT.exited}; }`,
      sh`  now=$(cat ${f} 2>/dev/null || true); [ "$now" = "$p" ] || { echo "$p $now"; exit ${STAYS_UP_EXIT.restarted}; }`,
      sh`  if [ $n -ge ${seconds} ]; then break; fi`,
      '  sleep 1; n=$((n+1))',
      'done',
      'echo "$p"',
    ].join('\n'),
  );
}

/** Stops the app in its jail if its rc.d script is installed (`jailRoot` is the jail's path on the host). */
export const stopAppIfInstalled = (app: string, jail: string, jailRoot: string) =>
  sh`if [ -x ${`${jailRoot}${rcScript(app)}`} ]; then service -j ${jail} ${app} onestop; fi`;

/**
 * Script part (for `script()` with `putFunction()`): the release unpacked into the slot's root
 * unless that version is there, its runner and rc.d script as rendered, enabled at jail boot
 * (rc.conf.d/APP: no edit of the jail's rc.conf).
 */
export function installApp(files: AppFiles, root: string, artifact: string, version: string): string {
  const dir = `${root}${appDir(files.app)}`;
  return [
    sh`if [ "$(cat ${`${dir}/${VERSION_MARKER}`} 2>/dev/null)" != ${version} ]; then`,
    `  ${installReleaseArchive(artifact, dir, version)}`,
    `  ${sh`changed ${`release ${version.slice(0, 12)} in ${appDir(files.app)}`}`}`,
    'fi',
    // the app user goes through these (put makes a missing directory 0700)
    sh`install -d -m 0755 ${`${root}${RUNNER_DIR}`} ${`${root}${ENV_DIR}`}`,
    putText(`${root}${runnerFile(files.app)}`, '0755', renderRunner(files), 'runner'),
    putText(`${root}${rcScript(files.app)}`, '0755', renderRcScript(files), 'rc.d script'),
    putText(`${root}${rcConfD(files.app)}`, '0644', renderRcConfD(files.app), `${files.app}_enable=YES`),
    putText(`${root}${newsyslogConf(files.app)}`, '0644', renderNewsyslogConf(files.app), 'log rotation'),
  ].join('\n');
}
