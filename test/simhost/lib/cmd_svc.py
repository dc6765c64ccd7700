"""service(8), daemon(8), pkg(8)."""
import errno
import fcntl
import os
import re
import signal
import sys
import time

import simlib
from simlib import Exit, die, warnx, out

LIBDIR = simlib.LIBDIR


# ============================================================== service(8)
def service(argv):
    prog = 'service'

    def usage():
        sys.stderr.write('usage: service [-j <jail name or id>] [-v] -e\n'
                         '       service [-j <jail name or id>] [-v] -R\n'
                         '       service [-j <jail name or id>] [-v] -l | -r\n'
                         '       service [-j <jail name or id>] [-v] <rc.d script> start|stop|etc.\n'
                         '       service -h\n')
    opts, rest = simlib.getopt_bsd(prog, argv, 'ehj:lrRv', usage)
    d = {}
    for o, v in opts:
        d[o] = v
    if 'h' in d:
        usage()
        raise Exit(0)
    if 'j' in d:
        if not d['j']:
            usage()
            raise Exit(1)
        args = []
        for o, v in opts:
            if o != 'j':
                args.append('-' + o)
        sys.stdout.flush()
        os.execv('/usr/sbin/jexec', ['jexec', '-l', d['j'], '/usr/sbin/service'] + args + rest)
    rcconf = simlib.rc_all()
    local = (rcconf.get('local_startup') or '/usr/local/etc/rc.d').split()
    env = {'HOME': '/', 'PATH': '/sbin:/bin:/usr/sbin:/usr/bin'}
    if 'TERM' in os.environ:
        env['TERM'] = os.environ['TERM']
    dirs = ['/etc/rc.d'] + local

    def scripts():
        res = []
        for dd in dirs:
            try:
                for f in sorted(os.listdir(dd)):
                    p = os.path.join(dd, f)
                    if os.access(p, os.X_OK) and os.path.isfile(p):
                        res.append(p)
            except OSError:
                pass
        return res
    if 'l' in d:
        for p in scripts():
            out(os.path.basename(p) + '\n')
        return 0
    if 'r' in d:
        for p in scripts():
            out(p + '\n')
        return 0
    if 'e' in d:
        import subprocess
        for p in scripts():
            if subprocess.call([p, 'enabled'], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0:
                if re.search(r'^rcvar=', open(p).read(), re.M) or 'rcvar="' in open(p).read():
                    out(p + '\n')
        return 0
    if 'R' in d:
        return restart_local(local)
    if len(rest) < 1:
        usage()
        raise Exit(1)
    name = rest[0]
    script = None
    if '/' not in name:
        for dd in dirs:
            p = os.path.join(dd, name)
            if os.path.isfile(p) and os.access(p, os.X_OK):
                script = p
                break
    if script is None:
        out('%s does not exist in /etc/rc.d or the local startup\n'
            'directories (%s), or is not executable\n' % (name, ' '.join(local)))
        raise Exit(1)
    if len(rest) < 2:
        usage()
        raise Exit(1)
    if 'v' in d:
        out('%s is located in %s\n' % (name, os.path.dirname(script)))
    sys.stdout.flush()
    os.chdir('/')
    os.execve(script, [script] + rest[1:], env)


# service.sh -R: stop the enabled local services in reverse order, then start them (exit 0).
RESTART_SH = '''. /etc/rc.subr
load_rc_config 'XXX'
run() {
	_verb=$1; shift
	for file in "$@"; do
		if grep -q ^rcvar $file; then
			eval `grep ^name= $file`
			eval `grep ^rcvar $file`
			if [ -n "$rcvar" ]; then load_rc_config $name; fi
			checkyesno $rcvar 2>/dev/null && $file $_verb
		fi
	done
}
_rev=
for file in "$@"; do _rev="$file $_rev"; done
run stop $_rev
run start "$@"
exit 0
'''


def restart_local(local):
    """service(8) -R: the local_startup scripts (find_local_scripts_new: executable, with a
    `# PROVIDE:` line) minus KEYWORD nostart (and nojail in a jail), in simhost's rc order
    (alphabetical, as /etc/rc: no rcorder)."""
    import subprocess
    skip = {'nostart'} | (set() if simlib.in_host() else {'nojail'})
    files = []
    for dd in local:
        try:
            names = sorted(os.listdir(dd))
        except OSError:
            continue
        for n in names:
            p = os.path.join(dd, n)
            if n.endswith(('.sample', '.pkgsave')) or not (os.path.isfile(p) and os.access(p, os.X_OK)):
                continue
            try:
                text = open(p, errors='replace').read()
            except OSError:
                continue
            kw = re.search(r'^# KEYWORD:(.*)$', text, re.M)
            if re.search(r'^# PROVIDE:', text, re.M) and not (kw and skip & set(kw.group(1).split())):
                files.append(p)
    sys.stdout.flush()
    subprocess.call(['/bin/sh', '-c', RESTART_SH, 'service'] + files, cwd='/')
    return 0


# ============================================================== daemon(8)
# FreeBSD 14's usr.sbin/daemon/daemon.c (kqueue version): in supervision mode the child's
# stdout/stderr (per -m) go to a pipe; the supervisor reads it line by line and writes the
# lines to the -o file (O_CREAT|O_APPEND, 0600), to syslog (-S...) or, with neither, to its own
# stdout.  -H reopens the -o file on SIGHUP (newsyslog(8)); without -H SIGHUP is ignored.
DAEMON_USAGE = ('usage: daemon [-cfHrS] [-p child_pidfile] [-P supervisor_pidfile]\n'
                '              [-u user] [-o output_file] [-t title]\n'
                '              [-l syslog_facility] [-s syslog_priority]\n'
                '              [-T syslog_tag] [-m output_mask] [-R restart_delay_secs]\n'
                'command arguments ...\n')
DAEMON_HELP = ('  --change-dir         -c         Change the current working directory to root\n'
               '  --close-fds          -f         Set stdin, stdout, stderr to /dev/null\n'
               '  --sighup             -H         Close and re-open output file on SIGHUP\n'
               '  --syslog             -S         Send output to syslog\n'
               '  --output-file        -o <file>  Append output of the child process to file\n'
               '  --output-mask        -m <mask>  What to send to syslog/file\n'
               '                                  1=stdout, 2=stderr, 3=both\n'
               '  --child-pidfile      -p <file>  Write PID of the child process to file\n'
               '  --supervisor-pidfile -P <file>  Write PID of the supervisor process to file\n'
               '  --restart            -r         Restart child if it terminates (1 sec delay)\n'
               '  --restart-delay      -R <N>     Restart child if it terminates after N sec\n'
               '  --title              -t <title> Set the title of the supervisor process\n'
               '  --user               -u <user>  Drop privileges, run as given user\n'
               '  --syslog-priority    -s <prio>  Set syslog priority\n'
               '  --syslog-facility    -l <flty>  Set syslog facility\n'
               '  --syslog-tag         -T <tag>   Set syslog tag\n'
               '  --help               -h         Show this help\n')
DAEMON_SHORT = 'cfHSp:P:ru:o:s:l:t:m:R:T:h'
DAEMON_LONG = {'change-dir': 'c', 'close-fds': 'f', 'sighup': 'H', 'syslog': 'S', 'output-file': 'o',
               'output-mask': 'm', 'child-pidfile': 'p', 'supervisor-pidfile': 'P', 'restart': 'r',
               'restart-delay': 'R', 'title': 't', 'user': 'u', 'syslog-priority': 's',
               'syslog-facility': 'l', 'syslog-tag': 'T', 'help': 'h'}
LBUF_SIZE = 4096
SYSLOG_PRIO = ('emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug',
               'panic', 'error', 'warn', 'none')
SYSLOG_FAC = ('auth', 'authpriv', 'console', 'cron', 'daemon', 'ftp', 'kern', 'lpr', 'mail', 'mark',
              'news', 'ntp', 'security', 'syslog', 'user', 'uucp', 'local0', 'local1', 'local2',
              'local3', 'local4', 'local5', 'local6', 'local7')


def _daemon_usage(code):
    sys.stderr.write(DAEMON_USAGE)
    sys.stderr.write(DAEMON_HELP)
    raise Exit(code)


def _strtol(s, base=10):
    """C strtol: (value, consumed anything)."""
    m = re.match(r'^\s*([-+]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)' if base == 0
                 else r'^\s*([-+]?)([0-9]+)', s)
    if not m:
        return 0, False
    digits = m.group(2)
    if base == 0:
        v = int(digits, 16) if digits[:2].lower() == '0x' else int(digits, 8) if digits.startswith('0') and len(digits) > 1 else int(digits)
    else:
        v = int(digits)
    return (-v if m.group(1) == '-' else v), True


def _pidfile_open(path, what='pidfile'):
    """pidfile_open(3): returns fd (locked) or raises Exit(3)/Exit(2)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as e:
        die('daemon', '%s ``%s\'\': %s' % (what, path, e.strerror), 2)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            try:
                other = open(path).read().strip()
            except OSError:
                other = '?'
            os.close(fd)
            die('daemon', 'process already running, pid: %s' % other, 3)
        raise
    return fd


def _pidfile_write(fd, pid):
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, 0)
    os.write(fd, ('%d\n' % pid).encode())


class _Supervisor(object):
    """The supervising daemon: output pipe, log file, signals (daemon_eventloop)."""

    def __init__(self, d, argv, output_fd, syslog_on, keep_fds_open, mask, user, child_fd):
        self.d = d
        self.argv = argv
        self.output_fd = output_fd
        self.syslog_on = syslog_on
        self.keep_fds_open = keep_fds_open
        self.mask = mask
        self.user = user
        self.child_fd = child_fd
        self.buf = b''          # listen_child's static buffer (kept across restarts)
        self.stdout_buf = b''   # stdio buffer of printf() to the supervisor's stdout
        self.pid = -1
        self.sigs = []

    # do_output
    def output(self, data):
        if not data:
            return
        if self.syslog_on:
            try:
                import syslog
                syslog.syslog(self.prio, data.decode(errors='replace'))
            except Exception:
                pass
        if self.output_fd is not None:
            try:
                os.write(self.output_fd, data)
            except OSError as e:
                sys.stderr.write('daemon: write: %s\n' % e.strerror)
        if self.keep_fds_open and not self.syslog_on and self.output_fd is None:
            # printf(3): line buffered on a terminal, else fully buffered
            self.stdout_buf += data
            try:
                tty = os.isatty(1)
            except OSError:
                tty = False
            if tty or len(self.stdout_buf) >= LBUF_SIZE:
                self.flush_stdout()

    def flush_stdout(self):
        while self.stdout_buf:
            try:
                n = os.write(1, self.stdout_buf)
            except OSError:
                self.stdout_buf = b''
                return
            self.stdout_buf = self.stdout_buf[n:]

    # listen_child: whole lines, or a full buffer; the rest at EOF
    def listen(self, fd):
        try:
            data = os.read(fd, LBUF_SIZE - len(self.buf) - 1)
        except InterruptedError:
            return True
        except OSError as e:
            sys.stderr.write('daemon: read: %s\n' % e.strerror)
            return False
        if data:
            self.buf += data
            while b'\n' in self.buf:
                line, self.buf = self.buf.split(b'\n', 1)
                self.output(line + b'\n')
            if len(self.buf) >= LBUF_SIZE - 1:
                self.output(self.buf)
                self.buf = b''
            return True
        if self.buf:
            self.output(self.buf)
            self.buf = b''
        return False

    def reopen_log(self):
        try:
            fd = os.open(self.d['o'], os.O_CREAT | os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC, 0o600)
        except OSError:
            fd = None
        if self.output_fd is not None:
            os.close(self.output_fd)
        self.output_fd = fd

    def on_signal(self, signum, frame):
        self.sigs.append(signum)

    def exec_child(self, rd, wr):
        """daemon_set_child_pipe + daemon_exec, in the forked child."""
        try:
            if self.mask & 2:
                os.dup2(wr, 2)
            if self.mask & 1:
                os.dup2(wr, 1)
            if wr not in (1, 2):
                os.close(wr)
            os.close(rd)
            _daemon_exec(self.argv, self.child_fd, self.user)
        finally:
            os._exit(1)

    def run(self, restart, delay):
        import select
        wake_r, wake_w = os.pipe()
        for fd in (wake_r, wake_w):
            os.set_blocking(fd, False)
            fcntl.fcntl(fd, fcntl.F_SETFD, fcntl.FD_CLOEXEC)
        signal.set_wakeup_fd(wake_w)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self.on_signal)
        stop = False
        while True:
            rd, wr = os.pipe()
            fcntl.fcntl(rd, fcntl.F_SETFD, fcntl.FD_CLOEXEC)
            sys.stdout.flush()
            sys.stderr.flush()
            self.pid = os.fork()
            if self.pid == 0:
                signal.set_wakeup_fd(-1)
                os.close(wake_r)
                os.close(wake_w)
                self.exec_child(rd, wr)
            os.close(wr)
            _set_title('%s[%d]' % (self.d.get('t') or self.argv[0], self.pid))
            mode = 'supervise'
            pipe_open = True
            while mode != 'nochild':
                fds = [wake_r] + ([rd] if pipe_open else [])
                try:
                    ready, _, _ = select.select(fds, [], [])
                except InterruptedError:
                    ready = []
                if wake_r in ready:
                    try:
                        while os.read(wake_r, 64):
                            pass
                    except (BlockingIOError, InterruptedError):
                        pass
                while self.sigs:
                    sig = self.sigs.pop(0)
                    if sig == signal.SIGCHLD:
                        try:
                            dead = os.waitpid(self.pid, os.WNOHANG)[0] == self.pid
                        except ChildProcessError:
                            dead = True
                        if dead:
                            mode = 'nochild'
                            # the child is gone: read what is left until EOF
                            if pipe_open:
                                while self.listen(rd):
                                    pass
                                pipe_open = False
                    elif sig == signal.SIGTERM:
                        if mode != 'supervise':
                            continue
                        mode = 'terminating'
                        restart = None
                        stop = True
                        try:
                            os.kill(self.pid, signal.SIGTERM)
                        except OSError:
                            pass
                    elif sig == signal.SIGHUP:
                        if 'H' in self.d and self.output_fd is not None:
                            self.reopen_log()
                if mode != 'nochild' and pipe_open and rd in ready:
                    if not self.listen(rd):
                        pipe_open = False
            os.close(rd)
            self.pid = -1
            if restart is None or stop:
                break
            end = time.time() + delay
            while time.time() < end and not stop:
                try:
                    select.select([wake_r], [], [], max(0, end - time.time()))
                except InterruptedError:
                    pass
                try:
                    while os.read(wake_r, 64):
                        pass
                except (BlockingIOError, InterruptedError):
                    pass
                while self.sigs:
                    sig = self.sigs.pop(0)
                    if sig == signal.SIGTERM:
                        stop = True
                    elif sig == signal.SIGHUP and 'H' in self.d and self.output_fd is not None:
                        self.reopen_log()
                    elif sig == signal.SIGCHLD:
                        try:
                            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                                pass
                        except ChildProcessError:
                            pass
            if stop:
                break
        self.flush_stdout()


def _set_title(title):
    try:
        simlib.libc().prctl(15, ('daemon: %s' % title)[:15].encode(), 0, 0, 0)
    except Exception:
        pass


def _daemon_exec(argv, child_fd, user):
    """daemon_exec: child pidfile, -u, default HUP/TERM, execvp."""
    if child_fd is not None:
        _pidfile_write(child_fd, os.getpid())
    if user is not None:
        import pwd
        try:
            pw = pwd.getpwnam(user)
        except KeyError:
            sys.stderr.write('daemon: unknown user: %s\n' % user)
            os._exit(1)
        try:
            os.setgid(pw.pw_gid)
            os.initgroups(pw.pw_name, pw.pw_gid)
            os.setuid(pw.pw_uid)
        except OSError:
            sys.stderr.write('daemon: failed to set user environment\n')
            os._exit(1)
        os.environ.update({'USER': pw.pw_name, 'HOME': pw.pw_dir, 'SHELL': pw.pw_shell or '/bin/sh'})
    for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGCHLD, signal.SIGINT, signal.SIGPIPE, signal.SIGXFSZ):
        signal.signal(sig, signal.SIG_DFL)
    try:
        os.execvp(argv[0], argv)
    except OSError as e:
        sys.stderr.write('daemon: %s: %s\n' % (argv[0], e.strerror))
    os._exit(1)


def daemon(argv):
    prog = 'daemon'
    # daemon.c's shortopts start with '+': no permuting, the command's own options stay its own
    longs = {name: (1 if DAEMON_SHORT[DAEMON_SHORT.index(c) + 1:DAEMON_SHORT.index(c) + 2] == ':' else 0, c) for name, c in DAEMON_LONG.items()}
    opts, rest = simlib.getopt_long(prog, argv, '+' + DAEMON_SHORT, longs, lambda: sys.stderr.write(DAEMON_USAGE + DAEMON_HELP), 1)
    d = {}
    supervise = False
    restart = None
    delay = 1
    mask = 3
    syslog_on = False
    prio, fac = 'notice', 'daemon'
    for o, v in opts:
        d[o] = v
        if o == 'h':
            _daemon_usage(0)
        elif o == 'l':
            if v not in SYSLOG_FAC:
                die(prog, 'unrecognized syslog facility', 5)
            fac, syslog_on, supervise = v, True, True
        elif o == 'm':
            mask, ok = _strtol(v)
            if not ok or mask < 0 or mask > 3:
                die(prog, 'unrecognized listening mask', 6)
        elif o in 'opPr':
            supervise = True
            if o == 'r':
                restart = 1
        elif o == 'R':
            delay, ok = _strtol(v, 0)
            if not ok or delay < 1:
                die(prog, 'invalid restart delay', 6)
            # daemon(8): "Supervise and restart the program after the specified delay"
            restart, supervise = delay, True
        elif o == 's':
            if v not in SYSLOG_PRIO:
                die(prog, 'unrecognized syslog priority', 4)
            prio, syslog_on, supervise = v, True, True
        elif o in 'ST':
            syslog_on, supervise = True, True
    if not rest:
        _daemon_usage(1)
    output_fd = None
    if 'o' in d:
        try:
            output_fd = os.open(d['o'], os.O_CREAT | os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC, 0o600)
        except OSError as e:
            die(prog, 'open: %s' % e.strerror, 7)
    child_fd = _pidfile_open(d['p']) if 'p' in d else None
    if 'P' in d:
        try:
            sup_fd = _pidfile_open(d['P'], 'ppidfile')
        except Exit:
            if child_fd is not None:
                os.unlink(d['p'])
            raise
    else:
        sup_fd = None
    keep_fds_open = 'f' not in d
    sys.stdout.flush()
    sys.stderr.flush()
    # daemon(3): fork, the parent exits 0; setsid; chdir("/") with -c; -f: 0, 1, 2 -> /dev/null
    if os.fork() != 0:
        os._exit(0)
    os.setsid()
    if 'c' in d:
        os.chdir('/')
    if not keep_fds_open:
        try:
            nul = os.open('/dev/null', os.O_RDWR)
        except OSError:
            nul = None  # daemon(3) leaves the descriptors alone when /dev/null cannot be opened
        if nul is not None:
            for i in (0, 1, 2):
                os.dup2(nul, i)
            if nul > 2:
                os.close(nul)
    if not supervise:
        _daemon_exec(rest, child_fd, d.get('u'))
    if sup_fd is not None:
        _pidfile_write(sup_fd, os.getpid())
    # the supervisor: SIGINT kills it (daemon(8) handles TERM, HUP, CHLD only)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sv = _Supervisor(d, rest, output_fd, syslog_on, keep_fds_open, mask, d.get('u'), child_fd)
    sv.prio = {'emerg': 0, 'panic': 0, 'alert': 1, 'crit': 2, 'err': 3, 'error': 3, 'warning': 4,
               'warn': 4, 'notice': 5, 'info': 6, 'debug': 7}.get(prio, 5)
    if syslog_on:
        try:
            import syslog
            syslog.openlog(d.get('T', 'daemon'), syslog.LOG_PID | syslog.LOG_NDELAY,
                           getattr(syslog, 'LOG_' + fac.upper(), syslog.LOG_DAEMON))
        except Exception:
            pass
    try:
        sv.run(restart, delay)
    finally:
        for p in (d.get('p'), d.get('P')):
            if p:
                try:
                    os.unlink(p)
                except OSError:
                    pass
    os._exit(1)


# ============================================================== pkg(8)
# Caddy: the binary simhost.py `up` put in the layer (the pinned build of scripts/build-caddy.sh,
# else Debian's), with its own version as the package version.
_CADDY_BIN = os.path.join(LIBDIR, 'caddy') if os.path.lexists(os.path.join(LIBDIR, 'caddy')) else '/usr/bin/caddy'
try:
    _CADDY_VERSION = open(os.path.join(LIBDIR, 'caddy.version')).read().strip()
except OSError:
    _CADDY_VERSION = '2.6.2'  # Debian's
CATALOG = {
    'pkg': {'version': '1.21.3', 'comment': 'Package manager', 'bins': {}},
    'caddy': {'version': _CADDY_VERSION, 'comment': 'Fast, cross-platform HTTP/2 web server with automatic HTTPS',
              'bins': {'bin/caddy': _CADDY_BIN},
              'files': {'etc/rc.d/caddy': ('rc', 'usr.local/caddy'),
                        'etc/caddy/Caddyfile.sample': ('text', '# Caddyfile.sample (simhost)\n:80 {\n\trespond "Caddy works!"\n}\n')},
              'samples': {'etc/caddy/Caddyfile': 'etc/caddy/Caddyfile.sample'}},
    'erlang': {'version': '26.2.5.11,4', 'comment': 'Functional programming language from Ericsson',
               'bins': {'bin/erl': '/usr/bin/erl', 'bin/erlc': '/usr/bin/erlc', 'bin/escript': '/usr/bin/escript',
                        'bin/epmd': '/usr/bin/epmd', 'bin/run_erl': '/usr/bin/run_erl', 'bin/to_erl': '/usr/bin/to_erl'}},
    'erlang-runtime26': {'version': '26.2.5.11', 'comment': 'Functional programming language from Ericsson',
                         'bins': {'lib/erlang26': '/usr/lib/erlang'}},
    'elixir': {'version': '1.17.3', 'comment': 'Functional, meta-programming aware language built on top of Erlang VM',
               'deps': ['erlang'],
               'bins': {'bin/elixir': '/usr/bin/elixir', 'bin/elixirc': '/usr/bin/elixirc',
                        'bin/iex': '/usr/bin/iex', 'bin/mix': '/usr/bin/mix'}},
    'node22': {'version': '22.17.0', 'comment': 'V8 JavaScript for client and server',
               'bins': {'bin/node': '/usr/bin/node'}},
    'npm-node22': {'version': '10.9.2', 'comment': 'Node package manager', 'deps': ['node22'],
                   'bins': {'bin/npm': '/usr/bin/npm', 'bin/npx': '/usr/bin/npx'}},
    'git': {'version': '2.50.1', 'comment': 'Distributed source code management tool',
            'bins': {'bin/git': '/usr/bin/git'}},
    'node20': {'version': '20.19.4', 'comment': 'V8 JavaScript for client and server',
               'bins': {'bin/node': '/usr/bin/node'}},
    'node24': {'version': '24.4.1', 'comment': 'V8 JavaScript for client and server',
               'bins': {'bin/node': '/usr/bin/node'}},
    # www/npm-node20/22/24 are slaves of www/npm: one npm version for all of them
    'npm-node20': {'version': '10.9.2', 'comment': 'Node package manager', 'deps': ['node20'],
                   'bins': {'bin/npm': '/usr/bin/npm', 'bin/npx': '/usr/bin/npx'}},
    'npm-node24': {'version': '10.9.2', 'comment': 'Node package manager', 'deps': ['node24'],
                   'bins': {'bin/npm': '/usr/bin/npm', 'bin/npx': '/usr/bin/npx'}},
    'erlang-runtime25': {'version': '25.3.2.21', 'comment': 'Functional programming language from Ericsson',
                         'bins': {'lib/erlang25': '/usr/lib/erlang'}},
    'erlang-runtime27': {'version': '27.3.4.1', 'comment': 'Functional programming language from Ericsson',
                         'bins': {'lib/erlang27': '/usr/lib/erlang'}},
    'erlang-runtime28': {'version': '28.0.1', 'comment': 'Functional programming language from Ericsson',
                         'bins': {'lib/erlang28': '/usr/lib/erlang'}},
    'rebar3': {'version': '3.24.0', 'comment': 'Erlang build tool that makes it easy to compile and test Erlang applications',
               'deps': ['erlang'], 'bins': {}},
    'gmake': {'version': '4.4.1', 'comment': 'GNU version of \'make\' utility',
              'bins': {'bin/gmake': '/usr/bin/make'}},
    'curl': {'version': '8.14.1', 'comment': 'Command line tool and library for transferring data with URLs',
             'bins': {'bin/curl': '/usr/bin/curl'}},
    'bash': {'version': '5.2.37', 'comment': 'GNU Project\'s Bourne Again SHell',
             'bins': {'bin/bash': '/usr/bin/bash'}},
    # no Debian binaries behind these (package bookkeeping only, see README "Known gaps")
    'vips': {'version': '8.16.1', 'comment': 'Free image processing system', 'bins': {}},
    'ImageMagick7': {'version': '7.1.1.47', 'comment': 'Image processing tools', 'bins': {}},
    'ImageMagick7-nox11': {'version': '7.1.1.47', 'comment': 'Image processing tools', 'bins': {}},
    'ImageMagick6': {'version': '6.9.13.25,1', 'comment': 'Image processing tools (legacy version)', 'bins': {}},
}


def _postgresql_packages(versions):
    """postgresqlNN-client and -server as the ports build them, one pair per major version."""
    pkgs = {}
    for major, version in versions.items():
        client = 'postgresql%d-client' % major
        pkgs[client] = {'version': version, 'comment': 'PostgreSQL database (client)', 'pgmajor': major,
                        'bins': {'bin/%s' % b: 'PGBIN/%s' % b for b in ('psql', 'pg_dump', 'pg_restore', 'createdb', 'pg_isready')}}
        pkgs['postgresql%d-server' % major] = {
            'version': version, 'comment': 'PostgreSQL is the most advanced open-source database available anywhere',
            'deps': [client], 'pgmajor': major,
            'bins': {'bin/%s' % b: 'PGBIN/%s' % b for b in ('postgres', 'initdb', 'pg_ctl', 'pg_controldata')},
            'files': {'etc/rc.d/postgresql': ('rc', 'usr.local/postgresql')},
            # the port's pkg-install script: user and group postgres, uid/gid 770
            'user': ('postgres', 770, 770, 'PostgreSQL Daemon', '/var/db/postgres')}
    return pkgs


CATALOG.update(_postgresql_packages({13: '13.21', 14: '14.18', 15: '15.13', 16: '16.9', 17: '17.5'}))


def _pg_bin(major=None):
    """Debian's PostgreSQL binaries: the package's major if Debian has it, else the newest."""
    import glob
    found = sorted(glob.glob('/usr/lib/postgresql/*/bin/postgres'), key=lambda p: int(p.split('/')[4]))
    same = [p for p in found if p.split('/')[4] == str(major)]
    if same:
        return os.path.dirname(same[0])
    if not found:
        die('pkg', 'simhost: the PostgreSQL packages need Debian\'s PostgreSQL binaries (apt-get install postgresql-15)')
    return os.path.dirname(found[-1])


def _add_user(root, name, uid, gid, gecos, home):
    """Like pw(8) in a package's install script: passwd/group entries in the jail, its home."""
    for rel, line in (('etc/group', '%s:*:%d:\n' % (name, gid)),
                      ('etc/passwd', '%s:*:%d:%d:%s:%s:/bin/sh\n' % (name, uid, gid, gecos, home))):
        p = os.path.join(root, rel)
        try:
            lines = [l for l in open(p).read().splitlines(True) if l.split(':')[0] != name]
        except OSError:
            lines = []
        with open(p, 'w') as f:
            f.write(''.join(lines) + line)
    h = os.path.join(root, home.lstrip('/'))
    os.makedirs(h, exist_ok=True)
    if not os.path.ismount(h):
        os.chown(h, uid, gid)
ABI = 'FreeBSD:14:amd64'
PKG_DB = 'var/db/pkg/simhost-installed'


def _installed(root):
    res = {}
    try:
        for line in open(os.path.join(root, PKG_DB)):
            f = line.split()
            if f:
                res[f[0]] = {'version': f[1] if len(f) > 1 else '', 'automatic': 'automatic' in f[2:]}
    except OSError:
        pass
    return res


def _save_installed(root, inst):
    p = os.path.join(root, PKG_DB)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p + '.tmp', 'w') as f:
        for n in sorted(inst):
            f.write('%s %s%s\n' % (n, inst[n]['version'], ' automatic' if inst[n]['automatic'] else ''))
    os.rename(p + '.tmp', p)


def _bootstrapped(root):
    return os.path.exists(os.path.join(root, 'usr/local/sbin/pkg-static'))


def _do_bootstrap(root, quiet=False):
    if not quiet:
        out('Bootstrapping pkg from pkg+https://pkg.FreeBSD.org/%s/quarterly, please wait...\n'
            'Verifying signature with trusted certificate pkg.freebsd.org.2013102301... done\n'
            'Installing pkg-1.21.3...\nExtracting pkg-1.21.3: 100%%\n' % ABI)
    p = os.path.join(root, 'usr/local/sbin')
    os.makedirs(p, exist_ok=True)
    with open(os.path.join(p, 'pkg-static'), 'w') as f:
        f.write('#!/bin/sh\nexec /usr/sbin/pkg "$@"\n')
    os.chmod(os.path.join(p, 'pkg-static'), 0o755)
    inst = _installed(root)
    inst['pkg'] = {'version': CATALOG['pkg']['version'], 'automatic': False}
    _save_installed(root, inst)


def _has_resolver(root):
    try:
        return any(l.split()[:1] == ['nameserver'] for l in open(os.path.join(root, 'etc/resolv.conf')))
    except OSError:
        return False


def _repo_update(root, quiet):
    if not _has_resolver(root):
        sys.stdout.write('Updating FreeBSD repository catalogue...\n')
        sys.stdout.flush()
        warnx('pkg', 'https://pkg.FreeBSD.org/%s/quarterly/meta.txz: No address record' % ABI)
        sys.stdout.write('repository FreeBSD has no meta file, using default settings\n')
        sys.stdout.flush()
        warnx('pkg', 'https://pkg.FreeBSD.org/%s/quarterly/data.pkg: No address record' % ABI)
        warnx('pkg', 'https://pkg.FreeBSD.org/%s/quarterly/packagesite.pkg: No address record' % ABI)
        sys.stdout.write('Unable to update repository FreeBSD\nError updating repositories!\n')
        raise Exit(3)
    if not quiet:
        out('Updating FreeBSD repository catalogue...\nFreeBSD repository is up to date.\n'
            'All repositories are up to date.\n')


def _install_files(root, name):
    c = CATALOG[name]
    lb = os.path.join(root, 'usr/local')
    for rel, target in c.get('bins', {}).items():
        if target.startswith('PGBIN/'):
            target = _pg_bin(c.get('pgmajor')) + target[5:]
        p = os.path.join(lb, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        if os.path.lexists(p):
            os.unlink(p)
        os.symlink(target, p)
    for rel, (kind, data) in c.get('files', {}).items():
        p = os.path.join(lb, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        if kind == 'rc':
            src = os.path.join(LIBDIR, 'rc', data)
            if not os.path.exists(src):
                src = os.path.join(LIBDIR, '..', 'rc', data)
            with open(src) as f:
                txt = f.read()
            if c.get('pgmajor'):  # the port's rc script names its own major (data16, data17 ...)
                txt = txt.replace('data16', 'data%d' % c['pgmajor'])
            with open(p, 'w') as f:
                f.write(txt)
            os.chmod(p, 0o555)
        else:
            with open(p, 'w') as f:
                f.write(data)
    if 'user' in c:
        _add_user(root, *c['user'])
    for rel, sample in c.get('samples', {}).items():
        p = os.path.join(lb, rel)
        if not os.path.exists(p):
            with open(os.path.join(lb, sample)) as f:
                txt = f.read()
            with open(p, 'w') as f:
                f.write(txt)


def _remove_files(root, name):
    c = CATALOG.get(name, {})
    lb = os.path.join(root, 'usr/local')
    for rel in list(c.get('bins', {})) + list(c.get('files', {})):
        try:
            os.unlink(os.path.join(lb, rel))
        except OSError:
            pass


def _yes(d, env_yes):
    return 'y' in d or env_yes


def _confirm(prompt, yes):
    if yes:
        return True
    out(prompt)
    ans = sys.stdin.readline() if not sys.stdin.closed else ''
    if not ans:
        out('\n')
    return ans.strip().lower() in ('y', 'yes')


def pkg(argv):
    prog = 'pkg'
    gl, i = {}, 0
    while i < len(argv) and argv[i].startswith('-') and argv[i] != '-':
        a = argv[i]
        if a in ('-j', '-c', '-r', '-C', '-R', '-o'):
            if i + 1 >= len(argv):
                die(prog, 'option requires an argument -- %s' % a[1])
            gl[a[1]] = argv[i + 1]
            i += 2
            continue
        if a in ('-v', '--version'):
            out('1.21.3\n')
            return 0
        if a in ('-N', '-d', '-l', '-4', '-6', '-q'):
            gl[a[1]] = True
            i += 1
            continue
        warnx(prog, 'illegal option -- %s' % a.lstrip('-')[:1])
        _pkg_usage()
        raise Exit(1)
    args = argv[i:]
    if sum(1 for k in 'jcr' if k in gl) > 1:
        _pkg_usage()
        raise Exit(1)
    root = '/'
    if 'j' in gl:
        if not simlib.in_host():
            die(prog, 'jail_attach(%s): Operation not permitted' % gl['j'])
        import cmd_jail
        j = cmd_jail.find_jail(gl['j'])
        if not j:
            die(prog, 'jail "%s" not found' % gl['j'] if not gl['j'].isdigit() else 'jail %s not found' % gl['j'])
        root = j['path']
    elif 'c' in gl or 'r' in gl:
        root = gl.get('c') or gl.get('r')
        if not os.path.isdir(root):
            die(prog, '%s: No such file or directory' % root)
    env_yes = os.environ.get('ASSUME_ALWAYS_YES', '').lower() in ('yes', 'true', '1', 'on')
    if 'N' in gl:
        if _bootstrapped(root):
            out('pkg: %d packages installed\n' % len(_installed(root)))
            return 0
        die(prog, 'The package management tool is not yet installed on your system.')
    if not args:
        _pkg_usage()
        raise Exit(1)
    cmd, args = args[0], args[1:]
    # pkg(7) bootstrapper semantics: only when running the base /usr/sbin/pkg without -j
    if cmd == 'bootstrap':
        opts, rest = simlib.getopt_bsd(prog, args, 'fyr:', lambda: sys.stderr.write('usage: pkg bootstrap [-fy] [-r repo]\n'))
        fl = dict(opts)
        if _bootstrapped(root) and 'f' not in fl:
            out('pkg(7) already installed, use -f to force.\n')
            return 0
        if not _yes(fl, env_yes):
            out('The package management tool is not yet installed on your system.\n')
            if not _confirm('Do you want to fetch and install it now? [y/N]: ', False):
                raise Exit(1)
        if not _has_resolver(root):
            out('Bootstrapping pkg from pkg+https://pkg.FreeBSD.org/%s/quarterly, please wait...\n' % ABI)
            warnx(prog, 'Error fetching https://pkg.FreeBSD.org/%s/quarterly/Latest/pkg.txz: No address record' % ABI)
            out('A pre-built version of pkg could not be found for your system.\n')
            raise Exit(1)
        _do_bootstrap(root)
        return 0
    if 'j' not in gl and not _bootstrapped(root):
        if cmd in ('help',):
            pass
        elif env_yes or _bootstrap_yes(argv):
            if not _has_resolver(root):
                die(prog, 'Error fetching https://pkg.FreeBSD.org/%s/quarterly/Latest/pkg.txz: No address record' % ABI)
            _do_bootstrap(root)
        else:
            if not sys.stdin.isatty():
                sys.stderr.write('The package management tool is not yet installed on your system.\n'
                                 'Please set ASSUME_ALWAYS_YES=yes environment variable to be able to bootstrap '
                                 'the package management tool.\n')
                raise Exit(1)
            out('The package management tool is not yet installed on your system.\n')
            if not _confirm('Do you want to fetch and install it now? [y/N]: ', False):
                raise Exit(1)
            _do_bootstrap(root)
    if not simlib.in_host() or root != '/':
        pass
    if cmd in ('install', 'ins', 'add'):
        return pkg_install(root, args, env_yes)
    if cmd in ('delete', 'remove', 'del', 'rm'):
        return pkg_delete(root, args, env_yes)
    if cmd == 'info':
        return pkg_info(root, args)
    if cmd == 'update':
        opts, rest = simlib.getopt_bsd(prog, args, 'fqr:', _pkg_usage)
        _repo_update(root, 'q' in dict(opts))
        return 0
    if cmd == 'upgrade':
        opts, rest = simlib.getopt_bsd(prog, args, 'CfFIinqRr:UyvgxX', _pkg_usage)
        _repo_update(root, 'q' in dict(opts))
        out('Checking for upgrades (%d candidates): 100%%\nProcessing candidates: 100%%\n'
            'Checking integrity... done (0 conflicting)\nYour packages are up to date.\n' % len(_installed(root)))
        return 0
    if cmd == 'clean':
        out('Nothing to do.\n')
        return 0
    if cmd == 'version':
        for n, v in sorted(_installed(root).items()):
            out('%-35s =\n' % ('%s-%s' % (n, v['version'])))
        return 0
    if cmd == 'which':
        for f in args:
            if f.startswith('-'):
                continue
            for n in _installed(root):
                for rel in CATALOG.get(n, {}).get('bins', {}):
                    if os.path.join('/usr/local', rel) == f:
                        out('%s was installed by package %s-%s\n' % (f, n, CATALOG[n]['version']))
                        return 0
            out('%s was not found in the database\n' % f)
            return 1
        return 0
    if cmd == 'help':
        _pkg_usage()
        return 0
    warnx(prog, 'unknown command: %s' % cmd)
    _pkg_usage()
    raise Exit(1)


def _bootstrap_yes(argv):
    """pkg(7) (usr.sbin/pkg/pkg.c) parses its whole command line with
    getopt_long(argc, argv, "-:fr::yN", ...): '-' returns operands in order and keeps scanning,
    ':' silences errors, so a -y anywhere (`pkg install -y nginx`, `pkg -y install`) means
    "bootstrap without asking"; -r takes an optional attached argument, unknown options are
    ignored."""
    for a in argv:
        if a == '--':
            break
        if a.startswith('--') or not a.startswith('-') or a == '-':
            continue
        for c in a[1:]:
            if c == 'r':
                break
            if c == 'y':
                return True
    return False


def _pkg_usage():
    sys.stderr.write('Usage: pkg [-v] [-d] [-l] [-N] [-j <jail name or id>|-c <chroot path>|-r <rootdir>] '
                     '[-C <configuration file>] [-R <repo config dir>] [-o var=value] [-4|-6] <command> [<args>]\n\n'
                     'For more information on available commands and options see \'pkg help\'.\n')


def pkg_install(root, args, env_yes):
    def usage():
        sys.stderr.write('Usage: pkg install [-AfInFMqRUy] [-r reponame] [-Cgix] <pkg-name> ...\n\n'
                         'For more information see \'pkg help install\'.\n')
    opts, names = simlib.getopt_bsd('pkg', args, 'AfInFMqRUyr:Cgix', usage)
    d = dict(opts)
    if not names:
        usage()
        raise Exit(1)
    quiet = 'q' in d
    if 'U' not in d:
        _repo_update(root, quiet)
    inst = _installed(root)
    missing = [n for n in names if n not in CATALOG]
    if missing:
        for n in missing:
            warnx('pkg', "No packages available to install matching '%s' have been found in the repositories" % n)
        raise Exit(1)
    todo = []

    def add(n, auto):
        for dep in CATALOG[n].get('deps', []):
            add(dep, True)
        if (n not in inst or 'f' in d) and n not in [t[0] for t in todo]:
            todo.append((n, auto))
    for n in names:
        add(n, False)
    if not todo:
        if not quiet:
            out('Checking integrity... done (0 conflicting)\nThe most recent versions of packages are already installed\n')
        return 0
    if not quiet:
        out('The following %d package(s) will be affected (of 0 checked):\n\nNew packages to be INSTALLED:\n' % len(todo))
        for n, _ in todo:
            out('\t%s: %s [FreeBSD]\n' % (n, CATALOG[n]['version']))
        out('\nNumber of packages to be installed: %d\n\n' % len(todo))
    if 'n' in d:
        return 0
    if not _confirm('Proceed with this action? [y/N]: ', 'y' in d or env_yes):
        return 1
    for k, (n, auto) in enumerate(todo, 1):
        if not quiet:
            out('[%d/%d] Fetching %s-%s.pkg: .......... done\n' % (k, len(todo), n, CATALOG[n]['version']))
    if not quiet:
        out('Checking integrity... done (0 conflicting)\n')
    for k, (n, auto) in enumerate(todo, 1):
        if not quiet:
            out('[%d/%d] Installing %s-%s...\n[%d/%d] Extracting %s-%s: 100%%\n' % (
                k, len(todo), n, CATALOG[n]['version'], k, len(todo), n, CATALOG[n]['version']))
        _install_files(root, n)
        inst[n] = {'version': CATALOG[n]['version'], 'automatic': auto and n not in names}
        _save_installed(root, inst)
    return 0


def pkg_delete(root, args, env_yes):
    def usage():
        sys.stderr.write('Usage: pkg delete [-DfnqRy] [-Cgix] <pkg-name> ...\n       pkg delete [-Dnqy] -a\n\n'
                         'For more information see \'pkg help delete\'.\n')
    opts, names = simlib.getopt_bsd('pkg', args, 'aCDfginqRxy', usage)
    d = dict(opts)
    inst = _installed(root)
    if not names and 'a' not in d:
        usage()
        raise Exit(1)
    sel = list(inst) if 'a' in d else names
    missing = [n for n in sel if n not in inst]
    if missing:
        out('No packages matched for pattern \'%s\'\n\nChecking integrity... done (0 conflicting)\n' % missing[0])
        raise Exit(1)
    if 'q' not in d:
        out('Checking integrity... done (0 conflicting)\nDeinstallation has been requested for the following %d packages '
            '(of 0 packages in the universe):\n\nInstalled packages to be REMOVED:\n' % len(sel))
        for n in sel:
            out('\t%s: %s\n' % (n, inst[n]['version']))
        out('\nNumber of packages to be removed: %d\n' % len(sel))
    if 'n' in d:
        return 0
    if not _confirm('Proceed with deinstalling packages? [y/N]: ', 'y' in d or env_yes):
        return 1
    for k, n in enumerate(sel, 1):
        if 'q' not in d:
            out('[%d/%d] Deinstalling %s-%s...\n' % (k, len(sel), n, inst[n]['version']))
        _remove_files(root, n)
        del inst[n]
    _save_installed(root, inst)
    return 0


def pkg_info(root, args):
    def usage():
        sys.stderr.write('Usage: pkg info <pkg-name>\n       pkg info -a\n       pkg info [-AbBDdefIklOqRrs] [-Cgix] <pkg-name>\n'
                         '       pkg info [-AbBDdfIlqRrs] -F <pkg-file>\n\nFor more information see \'pkg help info\'.\n')
    opts, names = simlib.getopt_bsd('pkg', args, 'aAbBCdDefF:gIiklOqRrsx', usage)
    d = dict(opts)
    inst = _installed(root)
    if 'e' in d:
        if not names:
            usage()
            raise Exit(1)
        return 0 if all(n in inst for n in names) else 1
    if not names or 'a' in d:
        for n in sorted(inst):
            label = '%s-%s' % (n, inst[n]['version'])
            out((label + '\n') if 'q' in d else '%-30s %s\n' % (label, CATALOG.get(n, {}).get('comment', '')))
        return 0
    rc = 0
    for n in names:
        if n not in inst:
            if 'q' not in d:
                warnx('pkg', 'No package(s) matching %s' % n)
            rc = 1
            continue
        c = CATALOG.get(n, {})
        if 'q' in d:
            out('%s-%s\n' % (n, inst[n]['version']))
            continue
        out('%s-%s\nName           : %s\nVersion        : %s\nInstalled on   : %s\nOrigin         : %s\n'
            'Architecture   : %s\nComment        : %s\n' % (
                n, inst[n]['version'], n, inst[n]['version'], time.strftime('%a %b %d %H:%M:%S %Y %Z'),
                n, ABI, c.get('comment', '')))
    return rc
