#!/usr/bin/python3 -I
"""simhost: simulated FreeBSD 14 hosts for end-to-end tests (stdlib only).

  simhost.py up --hosts N --dir DIR        start N hosts, print JSON
  simhost.py down --dir DIR                stop everything, remove DIR/hosts, verify clean
  simhost.py reboot --dir DIR --host NAME  kill everything in the host, run the boot sequence
  simhost.py ssh-cut --dir DIR --host NAME --seconds N
  simhost.py fail-nth --dir DIR --host NAME COMMAND N
  simhost.py status --dir DIR

Each host = one long-lived "init" process created with
unshare --mount --net --uts --propagation private; everything of the host
(sshd, sessions, jails, daemons, caddy) descends from it or lives in its mount namespace.
"""
import argparse
import concurrent.futures
import ctypes
import fcntl
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # never leave __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
PY = '/usr/bin/python3'
sys.path.insert(0, os.path.join(HERE, 'lib'))
import simlib  # noqa: E402  (test/simhost/lib: the stand-ins' helpers)

SUBNET_PREFIX = '10.213'
USR_SBIN = set('sysrc sysctl kldload kldstat ifconfig jail jls jexec daemon service pkg pfctl '
               'mount umount route sha256 newsyslog pw'.split())
USR_BIN = set('uname freebsd-version fetch chflags stat tar sed mktemp lockf'.split())
SHADOW_BOTH = set(['mount', 'umount'])  # Debian has them in /usr/bin too


def sh(*argv, check=True, **kw):
    r = subprocess.run(list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if check and r.returncode != 0:
        raise RuntimeError('%s failed (%d): %s' % (' '.join(argv), r.returncode, r.stderr.strip()))
    return r


def global_lock():
    fd = os.open(os.path.abspath(__file__), os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


# ============================================================== layers & fixtures
def build_layers(d):
    lay = os.path.join(d, 'layers')
    if os.path.exists(lay):
        shutil.rmtree(lay)
    ub, us, lx = (os.path.join(lay, x) for x in ('usr-bin', 'usr-sbin', 'usr-libexec'))
    lib = os.path.join(lx, 'simhost')
    for x in (ub, us, lib):
        os.makedirs(x)
    for f in os.listdir(os.path.join(HERE, 'lib')):
        if f.endswith('.py'):
            shutil.copy2(os.path.join(HERE, 'lib', f), lib)
    for f in ('session',):
        shutil.copy2(os.path.join(HERE, 'lib', f), lib)
    shutil.copytree(os.path.join(HERE, 'rc'), os.path.join(lib, 'rc'))
    os.makedirs(os.path.join(lib, 'real'))
    shutil.copy2('/usr/bin/sed', os.path.join(lib, 'real', 'sed'))
    install_caddy(lib, ub)
    for f in os.listdir(os.path.join(HERE, 'bin')):
        src = os.path.join(HERE, 'bin', f)
        dests = []
        if f in USR_SBIN:
            dests.append(us)
        if f in USR_BIN or f in SHADOW_BOTH:
            dests.append(ub)
        for dd in dests:
            shutil.copy2(src, os.path.join(dd, f))
    # Debian's /etc/alternatives links (awk, editor, ...) break inside jails, whose /etc is their
    # own: resolve them in the overlay (FreeBSD has e.g. /usr/bin/awk in base)
    for real, layer in (('/usr/bin', ub), ('/usr/sbin', us)):
        for f in os.listdir(real):
            p = os.path.join(real, f)
            try:
                if os.path.islink(p) and os.readlink(p).startswith('/etc/alternatives/') \
                        and not os.path.lexists(os.path.join(layer, f)):
                    target = os.path.realpath(p)
                    if os.path.exists(target):
                        os.symlink(target, os.path.join(layer, f))
            except OSError:
                pass
    # the SSH session wrapper: C (~1 ms) when a compiler is there, else the perl version
    try:
        sh('gcc', '-O2', '-o', os.path.join(lib, 'session.bin'), os.path.join(HERE, 'lib', 'session.c'))
        os.rename(os.path.join(lib, 'session'), os.path.join(lib, 'session.pl'))
        os.rename(os.path.join(lib, 'session.bin'), os.path.join(lib, 'session'))
    except (OSError, RuntimeError):
        pass
    # IPv4-only jails: socket(AF_INET6) fails like on FreeBSD (needs a C compiler; else skipped)
    try:
        sh('gcc', '-shared', '-fPIC', '-O2', '-o', os.path.join(lib, 'noinet6.so'),
           os.path.join(HERE, 'lib', 'noinet6.c'), '-ldl')
        with open(os.path.join(lib, 'ld.so.preload.jail'), 'w') as f:
            f.write('/usr/libexec/simhost/noinet6.so\n')
    except (OSError, RuntimeError):
        pass
    # the overlay is read-only: precompile so no stand-in pays for compiling its modules
    sh(PY, '-m', 'compileall', '-q', lib)
    return lay


DEBIAN_CADDY = '/usr/bin/caddy'


def caddy_source():
    """The Caddy binary `pkg install caddy` installs: $SIMHOST_CADDY (test/simhost/index.ts sets
    it), else the pinned build (scripts/build-caddy.sh --path), else Debian's 2.6.2, loudly."""
    p = os.environ.get('SIMHOST_CADDY')
    if p:
        if not os.access(p, os.X_OK):
            raise RuntimeError('SIMHOST_CADDY=%s is not an executable' % p)
        return p
    try:
        r = subprocess.run([os.path.join(HERE, '..', '..', 'scripts', 'build-caddy.sh'), '--path'],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=60)
        if r.returncode == 0 and r.stdout.strip():
            return r.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    sys.stderr.write('\n*** WARNING: the pinned Caddy is not built (scripts/build-caddy.sh); '
                     'pkg install caddy installs Debian\'s %s instead\n\n' % DEBIAN_CADDY)
    return DEBIAN_CADDY


def install_caddy(lib, ub):
    """/usr/libexec/simhost/caddy (what the pkg stand-in links /usr/local/bin/caddy to; /root,
    where the build cache lives, is per host) + caddy.version (the catalogue's version). Debian's
    /usr/bin/caddy is hidden (an overlayfs whiteout): FreeBSD has no caddy before `pkg install`,
    and it would come first in PATH."""
    src = caddy_source()
    dst = os.path.join(lib, 'caddy')
    try:
        os.link(src, dst)  # same file system: no 40 MB copy per `up`
    except OSError:
        shutil.copy2(src, dst)
    if os.path.lexists(DEBIAN_CADDY):
        os.mknod(os.path.join(ub, 'caddy'), stat.S_IFCHR, os.makedev(0, 0))
    out = sh(src, 'version').stdout.split()
    if not out:
        raise RuntimeError('%s version printed nothing' % src)
    with open(os.path.join(lib, 'caddy.version'), 'w') as f:
        f.write(out[0].lstrip('v') + '\n')  # "v2.11.9 h1:…" → the pkg version 2.11.9


SCHG_FILES = [('lib/libc.so.7', 0o444), ('lib/libthr.so.3', 0o444), ('libexec/ld-elf.so.1', 0o555),
              ('sbin/init', 0o500), ('usr/bin/su', 0o4555), ('usr/bin/login', 0o4555),
              ('usr/bin/passwd', 0o555), ('usr/bin/crontab', 0o4555)]


def build_base_txz(d):
    """A FreeBSD-shaped base.txz skeleton + MANIFEST (served by the fetch stand-in)."""
    fx = os.path.join(d, 'fixtures')
    os.makedirs(fx, exist_ok=True)
    sk = os.path.join(fx, 'skel')
    simlib.rmtree(sk)
    dirs = ['bin', 'sbin', 'lib', 'libexec', 'boot', 'dev', 'mnt', 'proc', 'media', 'rescue',
            'etc/rc.d', 'etc/defaults', 'etc/jail.conf.d', 'etc/pkg', 'etc/ssl', 'etc/mtree',
            'etc/newsyslog.conf.d',
            'usr/bin', 'usr/sbin', 'usr/lib', 'usr/lib32', 'usr/libexec', 'usr/share', 'usr/include',
            'usr/local/bin', 'usr/local/sbin', 'usr/local/etc/rc.d', 'usr/local/lib', 'usr/local/share',
            'var/run', 'var/log', 'var/db/pkg', 'var/tmp', 'var/cron', 'var/empty', 'root', 'tmp']
    for x in dirs:
        os.makedirs(os.path.join(sk, x), exist_ok=True)
    os.chmod(os.path.join(sk, 'tmp'), 0o1777)
    os.chmod(os.path.join(sk, 'var/tmp'), 0o1777)
    rcdir = os.path.join(HERE, 'rc')
    files = {
        'etc/rc.conf': '',
        'etc/hosts': '::1\t\tlocalhost localhost.my.domain\n127.0.0.1\t\tlocalhost localhost.my.domain\n',
        # FreeBSD's base has no postgres user: the package adds it (uid 770)
        'etc/passwd': _without_user(open('/etc/passwd').read().replace(':/root:/bin/bash', ':/root:/bin/sh'), 'postgres'),
        'etc/group': _without_user(freebsd_groups(), 'postgres'),
        'etc/shells': '/bin/sh\n/bin/csh\n',
        'etc/nsswitch.conf': 'passwd: files\ngroup: files\nhosts: files dns\n',
        'etc/login.conf': 'default:\\\n\t:path=/sbin /bin /usr/sbin /usr/bin /usr/local/sbin /usr/local/bin ~/bin:\n',
        'etc/freebsd-update.conf': '# simhost\n',
        'root/.profile': 'PATH=/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin:~/bin\nexport PATH\n',
        'COPYRIGHT': 'FreeBSD (simhost skeleton)\n',
    }
    for name, text in files.items():
        with open(os.path.join(sk, name), 'w') as f:
            f.write(text)
    for f in ('rc', 'rc.subr', 'rc.shutdown'):
        shutil.copy2(os.path.join(rcdir, f), os.path.join(sk, 'etc', f))
    shutil.copy2(os.path.join(rcdir, 'defaults.rc.conf'), os.path.join(sk, 'etc/defaults/rc.conf'))
    install_newsyslog_conf(sk)
    os.chmod(os.path.join(sk, 'etc/rc'), 0o755)
    # FreeBSD installs these schg (PRECIOUSLIB/PRECIOUSPROG: install -fschg; mtree: var/empty
    # flags=schg) and base.txz keeps the flag: a jail root cannot be removed without chflags -R noschg.
    # Placeholders only: in a running jail the host's /lib, /sbin, /usr/bin are mounted over them.
    for rel, mode in SCHG_FILES:
        with open(os.path.join(sk, rel), 'w') as f:
            f.write('simhost placeholder for FreeBSD\'s /%s (schg)\n' % rel)
        os.chmod(os.path.join(sk, rel), mode)
    os.chmod(os.path.join(sk, 'var/empty'), 0o555)
    txz = os.path.join(fx, 'base.txz')
    try:
        for rel in [r for r, _ in SCHG_FILES] + ['var/empty']:
            simlib.set_inode_flags(os.path.join(sk, rel), simlib.FS_IMMUTABLE_FL)
        # bsdtar stores the flags (SCHILY.fflags "schg"); as root, tar -x restores them
        sh('bsdtar', '-cJf', txz, '--numeric-owner', '--uid', '0', '--gid', '0', '-C', sk, '.')
    finally:
        simlib.rmtree(sk)
    import hashlib
    hsh = hashlib.sha256(open(txz, 'rb').read()).hexdigest()
    with open(os.path.join(fx, 'MANIFEST'), 'w') as f:
        f.write('base.txz\t%s\t%d\tbase\t"Base system (MANDATORY)"\ton\n' % (hsh, len(dirs) + len(files) + len(SCHG_FILES)))
    return fx


def freebsd_groups():
    """Debian's /etc/group plus the FreeBSD base groups the base configs name (wheel; network,
    which /etc/newsyslog.conf.d/ppp.conf uses as root:network)."""
    text = open('/etc/group').read()
    names = set(l.split(':')[0] for l in text.splitlines())
    for name, line in (('wheel', 'wheel:x:0:root\n'), ('network', 'network:*:69:\n')):
        if name not in names:
            text += line
    return text


def install_newsyslog_conf(root):
    """FreeBSD 14 base: /etc/newsyslog.conf (ending in <include>s of /etc/newsyslog.conf.d and
    /usr/local/etc/newsyslog.conf.d) and the /etc/newsyslog.conf.d files of a default build."""
    rcdir = os.path.join(HERE, 'rc')
    os.makedirs(os.path.join(root, 'etc/newsyslog.conf.d'), exist_ok=True)
    shutil.copy2(os.path.join(rcdir, 'newsyslog.conf'), os.path.join(root, 'etc/newsyslog.conf'))
    os.chmod(os.path.join(root, 'etc/newsyslog.conf'), 0o644)
    for f in sorted(os.listdir(os.path.join(rcdir, 'newsyslog.conf.d'))):
        shutil.copy2(os.path.join(rcdir, 'newsyslog.conf.d', f), os.path.join(root, 'etc/newsyslog.conf.d', f))
        os.chmod(os.path.join(root, 'etc/newsyslog.conf.d', f), 0o644)


def _without_user(text, name):
    return ''.join(l for l in text.splitlines(True) if l.split(':')[0] != name)


# ============================================================== host filesystem
def prepare_host_fs(d, st, i, h, client_pub):
    hd = h['dir']
    fs = os.path.join(hd, 'fs')
    for x in ('etc/rc.d', 'etc/defaults', 'etc/jail.conf.d', 'etc/ssh',
              'var/run', 'var/log', 'var/db/simhost/sshd', 'var/db/simhost/fixtures', 'var/db/pkg',
              'var/tmp', 'var/cron', 'var/empty', 'tmp', 'root',
              'usr/local/bin', 'usr/local/sbin', 'usr/local/etc/rc.d', 'usr/local/lib',
              'usr/local/share', 'usr/local/jails'):
        os.makedirs(os.path.join(fs, x), exist_ok=True)
    os.makedirs(os.path.join(hd, 'work', 'etc'), exist_ok=True)
    os.chmod(os.path.join(fs, 'tmp'), 0o1777)
    os.chmod(os.path.join(fs, 'var/tmp'), 0o1777)
    rcdir = os.path.join(HERE, 'rc')
    name = h['name']

    def w(rel, text, mode=0o644):
        p = os.path.join(fs, rel)
        with open(p, 'w') as f:
            f.write(text)
        os.chmod(p, mode)
    w('etc/rc.conf', 'hostname="%s"\nifconfig_vtnet0="inet %s netmask 255.255.255.0"\n'
      'defaultrouter="%s"\nsshd_enable="YES"\n' % (name, h['ip'], h['gw']))
    shutil.copy2(os.path.join(rcdir, 'defaults.rc.conf'), os.path.join(fs, 'etc/defaults/rc.conf'))
    for f in ('rc', 'rc.subr', 'rc.shutdown'):
        shutil.copy2(os.path.join(rcdir, f), os.path.join(fs, 'etc', f))
    for f in ('jail', 'pf', 'netif', 'sshd', 'linux', 'sysctl'):
        shutil.copy2(os.path.join(rcdir, 'rc.d', f), os.path.join(fs, 'etc/rc.d', f))
        os.chmod(os.path.join(fs, 'etc/rc.d', f), 0o555)
    # FreeBSD 14's /etc/sysctl.conf as installed: comments only
    w('etc/sysctl.conf', '#\n#  This file is read when going to multi-user and its contents piped thru\n'
      "#  ``sysctl'' to adjust kernel values.  ``man 5 sysctl.conf'' for details.\n#\n\n"
      '# Uncomment this to prevent users from seeing information about processes that\n'
      '# are being run under another UID.\n#security.bsd.see_other_uids=0\n')
    w('etc/passwd', open('/etc/passwd').read().replace(':/root:/bin/bash', ':/root:/bin/sh'))
    grp = freebsd_groups()
    if grp != open('/etc/group').read():
        w('etc/group', grp)
    install_newsyslog_conf(fs)
    w('etc/hostname', name + '\n')
    # like a FreeBSD host using local_unbound, but nothing listens: lookups fail fast (offline host)
    w('etc/resolv.conf', '# simhost: offline host, no resolver is running\nnameserver 127.0.0.1\noptions edns0\n')
    hosts = open('/etc/hosts').read()
    w('etc/hosts', hosts + '%s\t%s %s.simhost\n' % (h['ip'], name, name))
    w('root/.profile', 'PATH=/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin:~/bin\nexport PATH\n')
    # pkg on the host is bootstrapped (a provisioned server)
    w('usr/local/sbin/pkg-static', '#!/bin/sh\nexec /usr/sbin/pkg "$@"\n', 0o755)
    w('var/db/pkg/simhost-installed', 'pkg 1.21.3\n')
    for f in ('base.txz', 'MANIFEST'):
        dst = os.path.join(fs, 'var/db/simhost/fixtures', f)
        if os.path.exists(dst):
            os.unlink(dst)
        os.link(os.path.join(d, 'fixtures', f), dst)
    sd = os.path.join(fs, 'var/db/simhost/sshd')
    key = os.path.join(sd, 'ssh_host_ed25519_key')
    for p in (key, key + '.pub'):
        if os.path.exists(p):
            os.unlink(p)
    sh('ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'root@' + name, '-f', key)
    with open(os.path.join(sd, 'authorized_keys'), 'w') as f:
        f.write(client_pub)
    with open(os.path.join(sd, 'sshd_config'), 'w') as f:
        f.write('''# simhost sshd (Debian OpenSSH, FreeBSD-like session)
ListenAddress {ip}:22
HostKey /var/db/simhost/sshd/ssh_host_ed25519_key
PidFile /var/run/sshd.pid
AuthorizedKeysFile /var/db/simhost/sshd/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PrintMotd no
PrintLastLog no
UseDNS no
X11Forwarding no
PermitUserEnvironment no
MaxStartups 200:30:400
MaxSessions 64
LogLevel ERROR
ClientAliveInterval 0
# exec: FreeBSD's sh runs `sh -c CMD`'s last simple command in its own process, so the
# command's shell is the session leader sshd made; Debian's dash would fork it instead
ForceCommand exec /usr/libexec/simhost/session
'''.format(ip=h['ip']))
    pub = open(key + '.pub').read().split()
    h['known_hosts'] = '%s %s %s' % (h['ip'], pub[0], pub[1])
    write_hostjson(fs, h)
    h['command_log'] = os.path.join(fs, 'var/db/simhost/commands.log')
    open(h['command_log'], 'a').close()
    h['invocation_log'] = os.path.join(fs, 'var/db/simhost/invocations.log')
    open(h['invocation_log'], 'a').close()


def write_hostjson(fs, h):
    with open(os.path.join(fs, 'var/db/simhost/host.json'), 'w') as f:
        json.dump({'name': h['name'], 'index': h['index'], 'ip': h['ip'], 'gw': h['gw'],
                   'netbase': h['netbase']}, f)


# ============================================================== init (runs inside the namespaces)
def init_main(hd, layers):
    """PID that owns the host's namespaces; starts sshd, runs requests, reaps orphans."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    ctl = os.path.join(hd, 'ctl')
    os.makedirs(ctl, exist_ok=True)
    sock_path = os.path.join(ctl, 'init.sock')
    if os.path.exists(sock_path):
        os.unlink(sock_path)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock_path)  # bound before /tmp etc. are covered: stays reachable from outside
    srv.listen(16)
    # DIR/hosts/NAME/ctl stays writable for init when the rest of the machine is sealed read-only
    # (seal_real_filesystems): its own bind mount, opened before /tmp is covered
    simlib_early = __import__('simlib')
    simlib_early.sys_mount(None, '/', None, simlib_early.MS_REC | simlib_early.MS_PRIVATE)
    simlib_early.sys_mount(ctl, ctl, None, simlib_early.MS_BIND)
    ctlfd = os.open(ctl, os.O_PATH | os.O_DIRECTORY)
    fs = os.path.join(hd, 'fs')
    name = json.load(open(os.path.join(fs, 'var/db/simhost/host.json')))['name']
    socket.sethostname(name)
    simlib.sys_mount(None, '/', None, simlib.MS_REC | simlib.MS_PRIVATE)
    # FreeBSD stand-ins appear at their FreeBSD paths (read-only overlays)
    for sub, tgt in (('usr-bin', '/usr/bin'), ('usr-sbin', '/usr/sbin'), ('usr-libexec', '/usr/libexec')):
        simlib.sys_mount('overlay', tgt, 'overlay', simlib.MS_RDONLY,
                         'lowerdir=%s:%s' % (os.path.join(layers, sub), tgt))
    simlib.sys_mount('overlay', '/etc', 'overlay', 0, 'lowerdir=/etc,upperdir=%s,workdir=%s' % (
        os.path.join(fs, 'etc'), os.path.join(hd, 'work', 'etc')))
    # open the sources first: DIR may live under /tmp, which is covered below
    binds = [(os.open(os.path.join(fs, src), os.O_PATH | os.O_DIRECTORY), tgt)
             for src, tgt in (('var', '/var'), ('var/run', '/run'), ('tmp', '/tmp'), ('root', '/root'),
                              ('usr/local', '/usr/local'))]
    for fd, tgt in binds:
        simlib.sys_mount('/proc/self/fd/%d' % fd, tgt, None, simlib.MS_BIND)
        os.close(fd)
    seal_real_filesystems(keep=(ctl,))
    os.chdir('/')
    baseline = set(m[0] for m in simlib.mountpoints())

    lock = threading.Lock()
    cond = threading.Condition(lock)
    exits = {}
    state = {'sshd': None}

    def reaper():
        while True:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                time.sleep(0.05)
                continue
            with cond:
                exits[pid] = status
                cond.notify_all()

    threading.Thread(target=reaper, daemon=True).start()

    def spawn(argv, env, logf=None):
        pid = os.fork()
        if pid == 0:
            try:
                os.setsid()
                fd = os.open('/dev/null', os.O_RDONLY)
                os.dup2(fd, 0)
                if logf:
                    o = os.open(logf, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
                    os.dup2(o, 1)
                    os.dup2(o, 2)
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        return pid

    def wait(pid, timeout=None):
        end = None if timeout is None else time.time() + timeout
        with cond:
            while pid not in exits:
                rem = None if end is None else end - time.time()
                if rem is not None and rem <= 0:
                    return None
                cond.wait(rem)
            st = exits.pop(pid)
        return os.waitstatus_to_exitcode(st)

    clean_env = {'PATH': '/sbin:/bin:/usr/sbin:/usr/bin', 'HOME': '/', 'TERM': 'dumb'}

    def start_sshd():
        os.makedirs('/var/run/sshd', mode=0o755, exist_ok=True)
        pid = spawn(['/usr/sbin/sshd', '-D', '-e', '-f', '/var/db/simhost/sshd/sshd_config'],
                    clean_env, '/var/log/sshd.log')
        state['sshd'] = pid
        ip = json.load(open(simlib.HOST_CONF))['ip']
        end = time.time() + 10
        while time.time() < end:
            s = socket.socket()
            try:
                s.settimeout(0.2)
                s.connect((ip, 22))
                s.close()
                return {'ok': True, 'pid': pid}
            except OSError:
                time.sleep(0.02)
            finally:
                s.close()
        return {'ok': False, 'error': 'sshd did not listen'}

    mymnt = os.stat('/proc/self/ns/mnt').st_ino

    def host_pids():
        def pred(pid):
            return os.stat('/proc/%d/ns/mnt' % pid).st_ino == mymnt
        return simlib.procs_where(pred)

    def sshd_children():
        res = []
        for pid in host_pids():
            try:
                with open('/proc/%d/stat' % pid) as f:
                    ppid = int(f.read().rsplit(')', 1)[1].split()[1])
                if ppid == state['sshd']:
                    res.append(pid)
            except OSError:
                pass
        return res

    def kill_sessions():
        kids = sshd_children()
        for p in kids:
            try:
                os.kill(p, 9)
            except OSError:
                pass
        return {'ok': True, 'killed': len(kids)}

    def reboot():
        keep = set([os.getpid(), state['sshd']])
        victims = [p for p in host_pids() if p not in keep]
        simlib.kill_and_wait(victims, timeout=3)
        for _ in range(5):
            left = [p for p in host_pids() if p not in keep and simlib.pid_alive(p)]
            if not left:
                break
            simlib.kill_and_wait(left, timeout=1)
        # unmount everything mounted since boot (jails' nullfs/devfs, netns files ...)
        extra = [m for m in simlib.mountpoints() if m[0] not in baseline]
        for mid, mp, _, _ in sorted(extra, key=lambda m: -m[0]):
            try:
                simlib.sys_umount(mp, simlib.MNT_DETACH)
            except OSError:
                pass
        # /var/run is cleaned at boot (rc.d/cleanvar); keep the sshd plumbing
        for e in os.listdir('/var/run'):
            if e in ('sshd', 'sshd.pid'):
                continue
            p = os.path.join('/var/run', e)
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p, ignore_errors=True)
            else:
                try:
                    os.unlink(p)
                except OSError:
                    pass
        return boot()

    def boot():
        t0 = time.time()
        # /var/run (and with it a changed net.inet6.ip6.v6only) is gone: back to FreeBSD's default
        try:
            with open('/proc/sys/net/ipv6/bindv6only', 'w') as f:
                f.write('1')
        except OSError:
            pass
        pid = spawn(['/bin/sh', '/etc/rc'], clean_env, '/var/log/simhost-boot.log')
        rc = wait(pid, 120)
        return {'ok': rc == 0, 'rc': rc, 'seconds': round(time.time() - t0, 3)}

    def handle(conn):
        try:
            f = conn.makefile('rwb')
            req = json.loads(f.readline())
            op = req.get('op')
            if op == 'ping':
                res = {'ok': True, 'pid': os.getpid()}
            elif op == 'start-sshd':
                res = start_sshd()
            elif op == 'boot':
                res = boot()
            elif op == 'reboot':
                res = reboot()
            elif op == 'kill-sessions':
                res = kill_sessions()
            elif op == 'run':
                pid = spawn(req['argv'], req.get('env') or clean_env, req.get('log'))
                res = {'ok': True, 'rc': wait(pid, req.get('timeout', 120))}
            else:
                res = {'ok': False, 'error': 'unknown op'}
        except Exception as e:  # noqa
            res = {'ok': False, 'error': repr(e)}
        try:
            f.write((json.dumps(res) + '\n').encode())
            f.flush()
        except Exception:
            pass
        conn.close()

    with open(os.open('ready.tmp', os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=ctlfd), 'w') as f:
        f.write(str(os.getpid()))
    os.rename('ready.tmp', 'ready', src_dir_fd=ctlfd, dst_dir_fd=ctlfd)
    while True:
        c, _ = srv.accept()
        threading.Thread(target=handle, args=(c,), daemon=True).start()


# the host's own (writable) trees; everything else of this machine is read-only in the host
PRIVATE_TREES = ('/etc', '/var', '/run', '/tmp', '/root', '/usr/local')
_MNT_FLAGS = {'nosuid': 2, 'nodev': 4, 'noexec': 8, 'noatime': 1024, 'nodiratime': 2048, 'relatime': 1 << 21}


def seal_real_filesystems(keep=()):
    """Safety: a client writing outside the host's private trees (a jail base such as /jails or
    /usr/jails, a data path such as /data/postgres) must never touch this machine. In the host's
    mount namespace every other mount becomes a read-only bind (MS_REMOUNT|MS_BIND|MS_RDONLY: the
    per-mount flag of this namespace's copy, never the shared superblock), so such writes fail
    with EROFS "Read-only file system". /proc and /sys stay (namespaced knobs), /dev/pts stays,
    /dev/shm becomes a private tmpfs (POSIX shared memory of the host's programs)."""
    simlib.sys_mount('tmpfs', '/dev/shm', 'tmpfs', simlib.MS_NOSUID | simlib.MS_NODEV, 'mode=1777')
    keep = PRIVATE_TREES + ('/proc', '/sys', '/dev/pts', '/dev/shm') + tuple(keep)
    with open('/proc/self/mountinfo') as f:
        infos = [l.split() for l in f]
    for parts in infos:
        mp = parts[4].replace('\\040', ' ')
        if any(mp == k or mp.startswith(k + '/') for k in keep):
            continue
        opts = parts[5].split(',')
        if 'ro' in opts:
            continue
        flags = simlib.MS_REMOUNT | simlib.MS_BIND | simlib.MS_RDONLY
        for o in opts:
            flags |= _MNT_FLAGS.get(o, 0)
        try:
            simlib.sys_mount(None, mp, None, flags)
        except OSError:
            pass  # shadowed by a later mount (e.g. the machine's /run/netns under our /run)


def init_req(hd, req, timeout=180):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(os.path.join(hd, 'ctl', 'init.sock'))
    s.sendall((json.dumps(req) + '\n').encode())
    buf = b''
    while not buf.endswith(b'\n'):
        d = s.recv(65536)
        if not d:
            break
        buf += d
    s.close()
    return json.loads(buf or b'{}')


# ============================================================== controller
def state_path(d):
    return os.path.join(d, 'simhost.json')


def load_state(d):
    with open(state_path(d)) as f:
        return json.load(f)


def save_state(d, st):
    tmp = state_path(d) + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(st, f, indent=1)
    os.rename(tmp, state_path(d))


def used_subnets():
    r = sh('ip', '-4', '-o', 'addr', 'show', check=False)
    used = set()
    for line in r.stdout.split('\n'):
        for tok in line.split():
            if tok.startswith(SUBNET_PREFIX + '.'):
                used.add(int(tok.split('.')[2]))
    return used


def start_host(d, st, h, client_pub):
    t0 = time.time()
    prepare_host_fs(d, st, h['index'], h, client_pub)
    hd = h['dir']
    log = open(os.path.join(hd, 'init.log'), 'ab')
    p = subprocess.Popen(['unshare', '--mount', '--net', '--uts', '--propagation', 'private', '--',
                          PY, '-I', os.path.abspath(__file__), '_init', hd, st['layers']],
                         stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                         env={'PATH': '/usr/sbin:/usr/bin:/sbin:/bin'})
    h['init_pid'] = p.pid
    ready = os.path.join(hd, 'ctl', 'ready')
    end = time.time() + 15
    while not os.path.exists(ready):
        if p.poll() is not None or time.time() > end:
            raise RuntimeError('init of %s failed: %s' % (h['name'], open(os.path.join(hd, 'init.log')).read()[-2000:]))
        time.sleep(0.01)
    pid = str(p.pid)
    h['mntns'] = os.stat('/proc/%s/ns/mnt' % pid).st_ino
    h['netns'] = os.stat('/proc/%s/ns/net' % pid).st_ino
    sh('ip', 'link', 'add', h['veth_root'], 'type', 'veth', 'peer', 'name', h['veth_host'], 'netns', pid)
    sh('ip', 'addr', 'add', h['gw'] + '/24', 'dev', h['veth_root'])
    sh('ip', 'link', 'set', h['veth_root'], 'up')
    ns = ['nsenter', '-t', pid, '-n']
    script = ('ip link set %s name vtnet0 && ip addr add %s/24 dev vtnet0 && ip link set vtnet0 up && '
              'ip link set lo up && echo 1 > /proc/sys/net/ipv4/ip_forward && '
              # net.inet6.ip6.v6only=1 (FreeBSD's default) as Linux's bindv6only; IPv6 forwarding
              # for jail-to-jail traffic through the host (as IPv4's ip_forward)
              'echo 1 > /proc/sys/net/ipv6/bindv6only && echo 1 > /proc/sys/net/ipv6/conf/all/forwarding && '
              # jails' packets must never leave towards the root namespace (which would route
              # them anywhere): only locally generated packets may use the vtnet0 subnet.
              'ip rule add iif lo lookup main prio 50 && '
              'ip rule add to %s.%d.0/24 unreachable prio 60' % (h['veth_host'], h['ip'], SUBNET_PREFIX, h['netbase']))
    sh(*(ns + ['sh', '-c', script]))
    r = init_req(hd, {'op': 'start-sshd'})
    if not r.get('ok'):
        raise RuntimeError('sshd on %s: %s' % (h['name'], r))
    r = init_req(hd, {'op': 'boot'})
    h['boot'] = r
    h['up_seconds'] = round(time.time() - t0, 3)
    return h


def public_view(st):
    hosts = []
    for h in st['hosts']:
        hosts.append({
            'name': h['name'], 'host': h['ip'], 'port': 22, 'user': 'root',
            'knownHostsLine': h['known_hosts'], 'knownHostsFile': os.path.join(h['dir'], 'known_hosts'),
            'privateKey': st['client_key'], 'commandLog': h['command_log'],
            'invocationLog': h.get('invocation_log', os.path.join(h['dir'], 'fs', 'var/db/simhost/invocations.log')),
            'root': os.path.join(h['dir'], 'fs'), 'dir': h['dir'], 'initPid': h['init_pid'],
            'gateway': h['gw'], 'upSeconds': h.get('up_seconds'),
        })
    return {'dir': st['dir'], 'hosts': hosts, 'upSeconds': st.get('up_seconds')}


def cmd_up(a):
    t0 = time.time()
    d = os.path.abspath(a.dir)
    os.makedirs(d, exist_ok=True)
    if os.path.exists(state_path(d)):
        raise SystemExit('simhost: %s already has running hosts (run down first)' % d)
    lockfd = global_lock()
    try:
        used = used_subnets()
        for st_file in []:
            pass
        nets = []
        x = 1
        while len(nets) < a.hosts:
            if x not in used:
                nets.append(x)
            x += 1
            if x > 254:
                raise SystemExit('simhost: no free %s.X.0/24 subnet' % SUBNET_PREFIX)
        tag = '%04x' % (int.from_bytes(os.urandom(2), 'big'))
        st = {'dir': d, 'tag': tag, 'hosts': []}
        for i in range(a.hosts):
            x = nets[i]
            st['hosts'].append({
                'index': i, 'name': '%s%d' % (a.name_prefix, i + 1),
                'dir': os.path.join(d, 'hosts', '%s%d' % (a.name_prefix, i + 1)),
                'ip': '%s.%d.2' % (SUBNET_PREFIX, x), 'gw': '%s.%d.1' % (SUBNET_PREFIX, x),
                'netbase': x, 'veth_root': 'sh%sr%d' % (tag, i), 'veth_host': 'sh%sh%d' % (tag, i),
            })
        # reserve subnets before releasing the lock: root-side veth addresses are added below,
        # so keep the lock until all hosts have their addresses.
        save_state(d, st)
        st['layers'] = build_layers(d)
        build_base_txz(d)
        key = os.path.join(d, 'id_ed25519')
        if not os.path.exists(key):
            sh('ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'simhost-test', '-f', key)
        st['client_key'] = key
        pub = open(key + '.pub').read()
        for h in st['hosts']:
            os.makedirs(os.path.join(h['dir'], 'ctl'), exist_ok=True)
        save_state(d, st)
        errors = []
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.hosts)) as ex:
            futs = [ex.submit(start_host, d, st, h, pub) for h in st['hosts']]
            for f in futs:
                try:
                    f.result()
                except Exception as e:  # noqa
                    errors.append(str(e))
        save_state(d, st)
    finally:
        os.close(lockfd)
    for h in st['hosts']:
        with open(os.path.join(h['dir'], 'known_hosts'), 'w') as f:
            f.write(h.get('known_hosts', '') + '\n')
    if errors:
        try:
            do_down(d)
        finally:
            raise SystemExit('simhost: up failed: ' + '; '.join(errors))
    st['up_seconds'] = round(time.time() - t0, 3)
    save_state(d, st)
    print(json.dumps(public_view(st), indent=1))


def host_by_name(st, name):
    for h in st['hosts']:
        if h['name'] == name:
            return h
    raise SystemExit('simhost: no host %r' % name)


def proc_entries(sub):
    """(pid, name) of each entry of /proc/PID/SUB, for every process (gone ones skipped)."""
    for p in os.listdir('/proc'):
        if p.isdigit():
            try:
                names = os.listdir('/proc/%s/%s' % (p, sub))
            except OSError:
                continue
            for n in names:
                yield int(p), n


def pids_in_mntns(ino):
    return simlib.procs_where(lambda p: simlib.ns_ino('/proc/%d/ns/mnt' % p) == ino)


def pids_in_netns(ino):
    """Processes any of whose threads are in the network namespace INO (a thread can setns alone)."""
    return sorted({p for p, t in proc_entries('task') if simlib.ns_ino('/proc/%d/task/%s/ns/net' % (p, t)) == ino})


def netns_pins(ino):
    """What outside a host still holds its network namespace INO: open descriptors of it
    (/proc/PID/fd) and bind mounts of it in this mount namespace (ip netns attach)."""
    tag = 'net:[%d]' % ino
    pins = []
    for p, fd in proc_entries('fd'):
        try:
            if os.readlink('/proc/%d/fd/%s' % (p, fd)) == tag:
                pins.append('descriptor %s of %s' % (fd, describe_pids([p])))
        except OSError:
            pass
    for line in open('/proc/self/mountinfo'):
        f = line.split()
        if len(f) > 4 and f[3] == tag:
            pins.append('mount on %s' % f[4])
    return pins


def describe_pids(pids):
    out = []
    for p in pids:
        try:
            out.append('%d (%s)' % (p, open('/proc/%d/comm' % p).read().strip()))
        except OSError:
            out.append(str(p))
    return ', '.join(out)


def veths_present(st):
    links = sh('ip', '-o', 'link', 'show', check=False).stdout
    return [h['veth_root'] for h in st['hosts'] if (h['veth_root'] + '@') in links]


def do_down(d):
    st = load_state(d)
    problems = []
    for tp in st.get('timers', []):
        try:
            os.kill(tp, 9)
        except OSError:
            pass
    for h in st['hosts']:
        ino = h.get('mntns')
        if ino is None:
            if h.get('init_pid'):
                try:
                    os.kill(h['init_pid'], 9)
                except OSError:
                    pass
            continue
        end = time.time() + 10
        while True:
            pids = pids_in_mntns(ino)
            if not pids:
                break
            for p in pids:
                try:
                    os.kill(p, 9)
                except OSError:
                    pass
            if time.time() > end:
                problems.append('%s: processes survive: %s' % (h['name'], pids))
                break
            time.sleep(0.05)
    # every process of a host is gone; one still in its network namespace entered it from outside
    # (nsenter -n), and a descriptor or mount of it pins it: leaks of whatever made them
    for h in st['hosts']:
        if h.get('netns') is None:
            continue
        left = pids_in_netns(h['netns'])
        if left:
            problems.append('%s: processes survive in its network namespace: %s' % (h['name'], describe_pids(left)))
            for p in left:
                try:
                    os.kill(p, 9)
                except OSError:
                    pass
        pins = netns_pins(h['netns'])
        if pins:
            problems.append('%s: its network namespace is held by %s' % (h['name'], '; '.join(pins)))
    # A veth pair goes with its namespace, which the kernel frees asynchronously: usually within
    # 10 ms of the last process, but once (CI, after the zero-downtime e2e) not within 10 s.
    # Deleting each root side takes its pair at once, so no link outlives `down` either way.
    for v in veths_present(st):
        sh('ip', 'link', 'del', v, check=False)
    left = veths_present(st)
    if left:
        problems.append('veths could not be deleted: %s' % ', '.join(left))
    mounts = open('/proc/self/mountinfo').read()
    if (' ' + d + '/') in mounts or (' ' + d + ' ') in mounts:
        problems.append('mounts under %s remain in the root namespace' % d)
    else:
        # jail roots extracted from base.txz hold schg (immutable) files
        for sub in ('hosts', 'layers', 'fixtures'):
            simlib.rmtree(os.path.join(d, sub))
        for f in ('id_ed25519', 'id_ed25519.pub', 'simhost.json', 'simhost.json.tmp'):
            try:
                os.unlink(os.path.join(d, f))
            except OSError:
                pass
    return problems


def cmd_down(a):
    d = os.path.abspath(a.dir)
    if not os.path.exists(state_path(d)):
        print(json.dumps({'ok': True, 'note': 'nothing running'}))
        return
    problems = do_down(d)
    print(json.dumps({'ok': not problems, 'problems': problems}))
    if problems:
        sys.exit(1)


def cmd_reboot(a):
    d = os.path.abspath(a.dir)
    st = load_state(d)
    h = host_by_name(st, a.host)
    t0 = time.time()
    r = init_req(h['dir'], {'op': 'reboot'})
    r['seconds'] = round(time.time() - t0, 3)
    print(json.dumps(r))
    if not r.get('ok'):
        sys.exit(1)


def set_host_link(h, up):
    """Cut/restore the host's link on the HOST side (vtnet0 in its namespace): the root-side
    route stays (linkdown), so packets are dropped and never routed elsewhere."""
    sh('nsenter', '-t', str(h['init_pid']), '-n', 'ip', 'link', 'set', 'vtnet0', 'up' if up else 'down',
       check=False)


def cmd_ssh_cut(a):
    d = os.path.abspath(a.dir)
    st = load_state(d)
    hosts = [host_by_name(st, a.host)] if a.host else st['hosts']
    killed = {}
    for h in hosts:
        set_host_link(h, False)
        killed[h['name']] = init_req(h['dir'], {'op': 'kill-sessions'}).get('killed', 0)
    if a.seconds > 0:
        argv = [PY, '-I', os.path.abspath(__file__), '_restore', '--dir', d, '--after', str(a.seconds)]
        for h in hosts:
            argv += ['--host', h['name']]
        p = subprocess.Popen(argv, start_new_session=True, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        st.setdefault('timers', []).append(p.pid)
        save_state(d, st)
    print(json.dumps({'ok': True, 'hosts': [h['name'] for h in hosts], 'seconds': a.seconds, 'killed': killed}))


def cmd_restore(a):
    time.sleep(a.after)
    st = load_state(os.path.abspath(a.dir))
    for h in st['hosts']:
        if h['name'] in a.host:
            set_host_link(h, True)


def cmd_ssh_restore(a):
    st = load_state(os.path.abspath(a.dir))
    for h in st['hosts']:
        set_host_link(h, True)
    print(json.dumps({'ok': True}))


def cmd_slow_link(a):
    """Throttle the host's link both ways with a token bucket (tbf). netem (delay, loss) is not
    available in this kernel ("Specified qdisc kind is unknown"), so a slow link is a narrow one."""
    st = load_state(os.path.abspath(a.dir))
    hosts = [host_by_name(st, a.host)] if a.host else st['hosts']
    for h in hosts:
        for ns, dev in ((None, h['veth_root']), (str(h['init_pid']), 'vtnet0')):
            pre = ['nsenter', '-t', ns, '-n'] if ns else []
            sh(*pre, 'tc', 'qdisc', 'del', 'dev', dev, 'root', check=False)
            if not a.off:
                sh(*pre, 'tc', 'qdisc', 'add', 'dev', dev, 'root', 'tbf', 'rate', a.rate, 'burst', '32kbit', 'latency', '2s')
    print(json.dumps({'ok': True, 'hosts': [h['name'] for h in hosts], 'rate': None if a.off else a.rate}))


def cmd_fail_nth(a):
    d = os.path.abspath(a.dir)
    st = load_state(d)
    hosts = [host_by_name(st, a.host)] if a.host else st['hosts']
    for h in hosts:
        p = os.path.join(h['dir'], 'fs', 'var/db/simhost/faults.json')
        try:
            f = json.load(open(p))
        except (OSError, ValueError):
            f = {}
        if a.n <= 0:
            f.pop(a.command, None)
        else:
            f[a.command] = {'n': a.n, 'count': 0, 'code': a.code}
        with open(p + '.tmp', 'w') as fh:
            json.dump(f, fh)
        os.rename(p + '.tmp', p)
    print(json.dumps({'ok': True}))


def cmd_status(a):
    st = load_state(os.path.abspath(a.dir))
    view = public_view(st)
    for h, v in zip(st['hosts'], view['hosts']):
        v['alive'] = bool(pids_in_mntns(h['mntns'])) if h.get('mntns') else False
    print(json.dumps(view, indent=1))


def main():
    ap = argparse.ArgumentParser(prog='simhost')
    sub = ap.add_subparsers(dest='cmd', required=True)
    p = sub.add_parser('up')
    p.add_argument('--hosts', type=int, default=1)
    p.add_argument('--dir', required=True)
    p.add_argument('--name-prefix', default='fbsd')
    p.set_defaults(fn=cmd_up)
    p = sub.add_parser('down')
    p.add_argument('--dir', required=True)
    p.set_defaults(fn=cmd_down)
    p = sub.add_parser('reboot')
    p.add_argument('--dir', required=True)
    p.add_argument('--host', required=True)
    p.set_defaults(fn=cmd_reboot)
    p = sub.add_parser('slow-link')
    p.add_argument('--dir', required=True)
    p.add_argument('--host')
    p.add_argument('--rate', default='1mbit')
    p.add_argument('--off', action='store_true')
    p.set_defaults(fn=cmd_slow_link)
    p = sub.add_parser('ssh-cut')
    p.add_argument('--dir', required=True)
    p.add_argument('--host')
    p.add_argument('--seconds', type=float, default=5)
    p.set_defaults(fn=cmd_ssh_cut)
    p = sub.add_parser('ssh-restore')
    p.add_argument('--dir', required=True)
    p.set_defaults(fn=cmd_ssh_restore)
    p = sub.add_parser('fail-nth')
    p.add_argument('--dir', required=True)
    p.add_argument('--host')
    p.add_argument('--code', type=int, default=1)
    p.add_argument('command')
    p.add_argument('n', type=int)
    p.set_defaults(fn=cmd_fail_nth)
    p = sub.add_parser('status')
    p.add_argument('--dir', required=True)
    p.set_defaults(fn=cmd_status)
    p = sub.add_parser('_restore')
    p.add_argument('--dir', required=True)
    p.add_argument('--after', type=float, required=True)
    p.add_argument('--host', action='append', default=[])
    p.set_defaults(fn=cmd_restore)
    if len(sys.argv) > 1 and sys.argv[1] == '_init':
        init_main(sys.argv[2], sys.argv[3])
        return
    a = ap.parse_args()
    a.fn(a)


if __name__ == '__main__':
    main()
