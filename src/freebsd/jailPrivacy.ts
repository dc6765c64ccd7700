// What the host's unprivileged users may see of the jails: nothing. A jailed process's argv is
// public to every host user by default, and a release passes its Erlang distribution cookie on
// the command line (bin/APP runs `elixir --cookie "$RELEASE_COOKIE"`, i.e. erl -setcookie), so a
// host user who can run ps(1) and reach the jail's address could open a remote shell in the app.
// security.bsd.see_jail_proc=0 hides processes in jails from unprivileged host processes, root
// exempt (cr_canseejailproc(9)); rc.d/sysctl sets it again at boot from sysctl.conf(5). The jails' directory
// is made 0700 so no host user reads the release (and its COOKIE file) or the app's env file.
import { SYSCTL_CONF } from './layout';
import { sh, unless } from './sh';

export const SEE_JAIL_PROC = 'security.bsd.see_jail_proc';

/** Parts of a script() (set -e): each reports what it changed with `changed`. */
export function hideJailsFromHostUsers(jailsDir: string): string[] {
  const line = `${SEE_JAIL_PROC}=0`;
  const tmp = `${SYSCTL_CONF}.alcaide`;
  // an earlier line for the oid (say =1) goes: the last one read at boot would win
  const earlier = `^[[:space:]]*${SEE_JAIL_PROC.replaceAll('.', '\\.')}[[:space:]]*=`;
  return [
    unless(sh`[ "$(stat -f %Lp ${jailsDir})" = 700 ]`, sh`chmod 0700 ${jailsDir} && changed ${`${jailsDir} mode 0700`}`),
    unless(sh`[ "$(sysctl -n ${SEE_JAIL_PROC})" = 0 ]`, sh`sysctl ${line} >/dev/null && changed ${line}`),
    unless(
      sh`grep -qxF ${line} ${SYSCTL_CONF} 2>/dev/null`,
      sh`{ if [ -e ${SYSCTL_CONF} ]; then grep -v ${earlier} ${SYSCTL_CONF} || true; fi; echo ${line}; } > ${tmp} && mv ${tmp} ${SYSCTL_CONF} && changed ${`${line} in ${SYSCTL_CONF}`}`,
    ),
  ];
}
