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
        return 0
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


# ============================================================== daemon(8)
DAEMON_USAGE = ('usage: daemon [-cfHrS] [-p child_pidfile] [-P supervisor_pidfile]\n'
                '              [-u user] [-o output_file] [-t title]\n'
                '              [-l syslog_facility] [-s syslog_priority]\n'
                '              [-T syslog_tag] [-m output_mask] [-R restart_delay_secs]\n')


def _pidfile_open(path):
    """pidfile_open(3): returns fd (locked) or raises Exit(3)/Exit(2)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as e:
        die('daemon', 'pidfile ``%s\'\': %s' % (path, e.strerror), 2)
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


def daemon(argv):
    prog = 'daemon'

    def usage():
        sys.stderr.write(DAEMON_USAGE)
    opts, rest = simlib.getopt_bsd(prog, argv, 'cfHSp:P:ru:o:s:l:t:m:R:T:C:', usage)
    d = {}
    for o, v in opts:
        d[o] = v
    if 'C' in d:
        warnx(prog, 'illegal option -- C')
        usage()
        raise Exit(1)
    if not rest:
        usage()
        raise Exit(1)
    restart = None
    if 'r' in d:
        restart = 1
    if 'R' in d:
        if not d['R'].isdigit() or not (1 <= int(d['R']) <= 31536000):
            die(prog, 'invalid restart delay', 1)
        restart = int(d['R'])
    mask = 3
    if 'm' in d:
        if d['m'] not in ('1', '2', '3'):
            die(prog, 'unrecognized output mask', 6)
        mask = int(d['m'])
    if 's' in d and d['s'] not in ('emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'):
        die(prog, 'unrecognized syslog priority', 4)
    if 'l' in d and d['l'] not in ('daemon', 'user', 'local0', 'local1', 'local2', 'local3', 'local4',
                                   'local5', 'local6', 'local7', 'auth', 'cron', 'kern', 'mail', 'news',
                                   'syslog', 'lpr', 'uucp', 'ftp', 'security', 'console', 'authpriv'):
        die(prog, 'unrecognized syslog facility', 5)
    user = None
    if 'u' in d:
        import pwd
        try:
            user = pwd.getpwnam(d['u'])
        except KeyError:
            die(prog, 'failed to set user environment', 1)
    supervise = any(k in d for k in 'pPrRSomsTl')
    child_fd = _pidfile_open(d['p']) if 'p' in d else None
    sup_fd = _pidfile_open(d['P']) if 'P' in d else None
    out_fd = None
    if 'o' in d:
        try:
            out_fd = os.open(d['o'], os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        except OSError as e:
            die(prog, 'open(\'%s\'): %s' % (d['o'], e.strerror), 7)
    sys.stdout.flush()
    sys.stderr.flush()
    # daemon(3): fork, parent exits 0, child becomes session leader
    if os.fork() != 0:
        os._exit(0)
    os.setsid()
    if 'c' in d:
        os.chdir('/')
    if 'f' in d:
        nul = os.open('/dev/null', os.O_RDWR)
        for i in (0, 1, 2):
            os.dup2(nul, i)
        os.close(nul)
    else:
        nul = os.open('/dev/null', os.O_RDONLY)
        os.dup2(nul, 0)
        os.close(nul)
    if out_fd is not None:
        if mask & 1:
            os.dup2(out_fd, 1)
        if mask & 2:
            os.dup2(out_fd, 2)

    def become_child():
        if child_fd is not None:
            _pidfile_write(child_fd, os.getpid())
        if user is not None:
            os.setgid(user.pw_gid)
            os.initgroups(user.pw_name, user.pw_gid)
            os.setuid(user.pw_uid)
            os.environ.update({'HOME': user.pw_dir, 'USER': user.pw_name, 'SHELL': user.pw_shell})
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        try:
            os.execvp(rest[0], rest)
        except OSError as e:
            sys.stderr.write('daemon: %s: %s\n' % (rest[0], e.strerror))
            os._exit(1)

    if not supervise:
        become_child()
    if sup_fd is not None:
        _pidfile_write(sup_fd, os.getpid())
    try:
        simlib.libc().prctl(15, ('daemon: %s' % (d.get('t') or rest[0].rsplit('/', 1)[-1]))[:15].encode(), 0, 0, 0)
    except Exception:
        pass
    state = {'child': None, 'stop': False}

    def on_term(signum, frame):
        state['stop'] = True
        if state['child']:
            try:
                os.kill(state['child'], signal.SIGTERM)
            except OSError:
                pass
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    signal.signal(signal.SIGHUP, signal.SIG_IGN if 'H' not in d else signal.SIG_IGN)
    while True:
        pid = os.fork()
        if pid == 0:
            become_child()
        state['child'] = pid
        while True:
            try:
                os.waitpid(pid, 0)
                break
            except ChildProcessError:
                break
            except InterruptedError:
                continue
        state['child'] = None
        if state['stop'] or restart is None:
            break
        end = time.time() + restart
        while time.time() < end and not state['stop']:
            time.sleep(min(0.1, max(0, end - time.time())))
        if state['stop']:
            break
    for p, fd in ((d.get('p'), child_fd), (d.get('P'), sup_fd)):
        if p:
            try:
                os.unlink(p)
            except OSError:
                pass
    os._exit(0)


# ============================================================== pkg(8)
CATALOG = {
    'pkg': {'version': '1.21.3', 'comment': 'Package manager', 'bins': {}},
    'caddy': {'version': '2.10.0', 'comment': 'Fast, cross-platform HTTP/2 web server with automatic HTTPS',
              'bins': {'bin/caddy': '/usr/bin/caddy'},
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
    # Debian's PostgreSQL binaries (whatever major is installed) stand in for the port's.
    'postgresql16-client': {'version': '16.9', 'comment': 'PostgreSQL database (client)',
                            'bins': {'bin/psql': 'PGBIN/psql', 'bin/pg_dump': 'PGBIN/pg_dump',
                                     'bin/createdb': 'PGBIN/createdb', 'bin/pg_isready': 'PGBIN/pg_isready'}},
    'postgresql16-server': {'version': '16.9', 'comment': 'PostgreSQL is the most advanced open-source database available anywhere',
                            'deps': ['postgresql16-client'],
                            'bins': {'bin/postgres': 'PGBIN/postgres', 'bin/initdb': 'PGBIN/initdb',
                                     'bin/pg_ctl': 'PGBIN/pg_ctl', 'bin/pg_controldata': 'PGBIN/pg_controldata'},
                            'files': {'etc/rc.d/postgresql': ('rc', 'usr.local/postgresql')},
                            # the port's pkg-install script: user and group postgres, uid/gid 770
                            'user': ('postgres', 770, 770, 'PostgreSQL Daemon', '/var/db/postgres')},
}


def _pg_bin():
    import glob
    found = sorted(glob.glob('/usr/lib/postgresql/*/bin/postgres'), key=lambda p: int(p.split('/')[4]))
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
            target = _pg_bin() + target[5:]
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
        elif env_yes:
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
