"""Shared helpers for the FreeBSD 14 stand-ins of the simulated host.

Everything here runs INSIDE a simulated host's mount+network namespace (or inside
a jail chroot).  Host-only state lives at FreeBSD-shaped paths:
  /var/db/simhost/host.json      host identity (written by the controller)
  /var/db/simhost/faults.json    fail-nth counters
  /var/run/simhost/...           runtime state (cleared on reboot, like /var/run)
Inside a jail /var/db/simhost/host.json does not exist -> jail context.
"""
import json
import os
import sys
import time
from fcntl import flock, LOCK_EX, LOCK_UN

HOST_CONF = '/var/db/simhost/host.json'
FAULTS = '/var/db/simhost/faults.json'
RUN = '/var/run/simhost'
JAILS = RUN + '/jails'
LIBDIR = os.path.dirname(os.path.abspath(__file__))

OSRELEASE = '14.3-RELEASE'
KERNEL_IDENT = 'GENERIC'


class Exit(Exception):
    def __init__(self, code):
        Exception.__init__(self, code)
        self.code = code


def warnx(prog, msg):
    sys.stderr.write('%s: %s\n' % (prog, msg))
    sys.stderr.flush()


def die(prog, msg, code=1):
    warnx(prog, msg)
    raise Exit(code)


def out(s):
    sys.stdout.write(s)
    sys.stdout.flush()


def in_host():
    return os.path.exists(HOST_CONF)


_host = None


def host_conf():
    global _host
    import json
    if _host is None:
        try:
            with open(HOST_CONF) as f:
                _host = json.load(f)
        except OSError:
            _host = {}
    return _host


class Lock(object):
    """flock-based lock on a file under /var/run/simhost (or given path)."""

    def __init__(self, path=None):
        self.path = path or (RUN + '/.lock')

    def __enter__(self):
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        flock(self.fd, LOCK_EX)
        return self

    def __exit__(self, *a):
        flock(self.fd, LOCK_UN)
        os.close(self.fd)


def read_json(path, default=None):
    import json
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def write_json(path, data):
    import json
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = '%s.tmp.%d' % (path, os.getpid())
    with open(tmp, 'w') as f:
        json.dump(data, f, indent=1, sort_keys=True)
    os.rename(tmp, path)


def check_fault(prog):
    """fail-nth: the Nth call of PROG fails (exit 1) once."""
    if not os.path.exists(FAULTS):
        return
    with Lock(FAULTS + '.lock'):
        f = read_json(FAULTS, {})
        ent = f.get(prog)
        if not ent:
            return
        ent['count'] = ent.get('count', 0) + 1
        hit = ent['count'] == ent['n']
        write_json(FAULTS, f)
    if hit:
        die(prog, 'simulated failure (simhost fail-nth %s %d)' % (prog, ent['n']), ent.get('code', 1))


# ---------------------------------------------------------------- libc helpers
_libc = None


def libc():
    global _libc
    import ctypes
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2
CLONE_NEWNET = 0x40000000
CLONE_NEWNS = 0x00020000


def _b(s):
    return None if s is None else s.encode()


def sys_mount(src, target, fstype, flags, data=None):
    import ctypes
    r = libc().mount(_b(src), _b(target), _b(fstype), ctypes.c_ulong(flags), _b(data))
    if r != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e), target)


def sys_umount(target, flags=0):
    import ctypes
    r = libc().umount2(_b(target), flags)
    if r != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e), target)


def setns(path, nstype=0):
    import ctypes
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc().setns(fd, nstype) != 0:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e), path)
    finally:
        os.close(fd)


def bind_ro(src, target):
    sys_mount(src, target, None, MS_BIND)
    sys_mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY)


# Linux inode flags (chattr(1)): the kernel enforces them as FreeBSD enforces schg/sappnd —
# even root cannot write, rename or unlink an immutable file until the flag is cleared.
FS_IOC_GETFLAGS = 0x80086601
FS_IOC_SETFLAGS = 0x40086602
FS_IMMUTABLE_FL = 0x10
FS_APPEND_FL = 0x20
FS_NODUMP_FL = 0x40


def inode_flags(path, follow=False):
    """The immutable/append/nodump inode flags of path (statx attributes: no open, any file type)."""
    import ctypes
    buf = ctypes.create_string_buffer(256)
    r = libc().statx(-100, _b(path), 0 if follow else 0x100, 0, buf)  # AT_FDCWD, AT_SYMLINK_NOFOLLOW
    if r != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e), path)
    return int.from_bytes(buf.raw[8:16], 'little') & (FS_IMMUTABLE_FL | FS_APPEND_FL | FS_NODUMP_FL)


def set_inode_flags(path, flags, follow=False):
    """Sets the immutable/append/nodump inode flags of a regular file or directory to `flags`
    (the other inode flags, e.g. ext4's extents flag, are kept)."""
    import fcntl
    import struct
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW))
    try:
        cur = struct.unpack('i', fcntl.ioctl(fd, FS_IOC_GETFLAGS, struct.pack('i', 0)))[0]
        new = (cur & ~(FS_IMMUTABLE_FL | FS_APPEND_FL | FS_NODUMP_FL)) | flags
        if new != cur:
            fcntl.ioctl(fd, FS_IOC_SETFLAGS, struct.pack('i', new))
    finally:
        os.close(fd)


def rmtree(path):
    """shutil.rmtree that clears immutable/append flags (a jail root from base.txz holds schg
    files) where a removal is refused. Best effort, like rmtree(ignore_errors=True)."""
    import shutil
    import stat as st_

    def unprotect(p):
        try:
            if st_.S_ISREG(os.lstat(p).st_mode) or st_.S_ISDIR(os.lstat(p).st_mode):
                set_inode_flags(p, inode_flags(p) & FS_NODUMP_FL)
        except OSError:
            pass

    def onerror(func, p, _exc):
        if func in (os.unlink, os.rmdir, os.remove):
            unprotect(os.path.dirname(p))
            unprotect(p)
            try:
                func(p)
            except OSError:
                pass
    if os.path.lexists(path):
        shutil.rmtree(path, onerror=onerror)


def mountpoints():
    """[(mount_id, mountpoint, fstype, source)] of this mount namespace."""
    res = []
    with open('/proc/self/mountinfo') as f:
        for line in f:
            parts = line.split()
            sep = parts.index('-')
            mp = parts[4].replace('\\040', ' ')
            res.append((int(parts[0]), mp, parts[sep + 1], parts[sep + 2]))
    return res


# ---------------------------------------------------------------- processes
def ns_ino(path):
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def procs_where(pred):
    me = os.getpid()
    res = []
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        pid = int(d)
        if pid == me:
            continue
        try:
            if pred(pid):
                res.append(pid)
        except OSError:
            pass
    return res


def jail_procs(jpath, netns_path=None):
    """pids whose root is the jail path or which live in the jail's netns."""
    nino = ns_ino(netns_path) if netns_path else None
    jpath = os.path.realpath(jpath)
    # Only this host's processes: a jail of another simulated host (another mount namespace)
    # may have the same path, and /proc/PID/root reads the same for it.
    mnt = os.stat('/proc/self/ns/mnt').st_ino

    def pred(pid):
        if os.stat('/proc/%d/ns/mnt' % pid).st_ino != mnt:
            return False
        try:
            if nino is not None and os.stat('/proc/%d/ns/net' % pid).st_ino == nino:
                return True
        except OSError:
            pass
        r = os.readlink('/proc/%d/root' % pid)
        return r == jpath or r.startswith(jpath + '/')
    return procs_where(pred)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open('/proc/%d/stat' % pid) as f:
            st = f.read().rsplit(')', 1)[1].split()[0]
        return st != 'Z'
    except OSError:
        return False


def kill_and_wait(pids, timeout=10.0):
    pids = [p for p in pids if pid_alive(p)]
    for p in pids:
        try:
            os.kill(p, 15)
        except OSError:
            pass
    end = time.time() + timeout
    while time.time() < end:
        pids = [p for p in pids if pid_alive(p)]
        if not pids:
            return
        time.sleep(0.05)
    for p in pids:
        try:
            os.kill(p, 9)
        except OSError:
            pass
    end = time.time() + 3
    while time.time() < end and any(pid_alive(p) for p in pids):
        time.sleep(0.02)


# ---------------------------------------------------------------- rc.conf
RC_DEFAULTS = '/etc/defaults/rc.conf'
RC_CONF_FILES = ['/etc/rc.conf', '/etc/rc.conf.local']


def _unquote(v):
    v = v.strip()
    # strip trailing comment outside quotes
    res = ''
    q = None
    i = 0
    while i < len(v):
        c = v[i]
        if q:
            if c == q:
                q = None
            elif c == '\\' and q == '"' and i + 1 < len(v):
                i += 1
                res += v[i]
            else:
                res += c
        else:
            if c in '"\'':
                q = c
            elif c == '#':
                break
            elif c.isspace():
                break
            elif c == '\\' and i + 1 < len(v):
                i += 1
                res += v[i]
            else:
                res += c
        i += 1
    return res


def parse_rc_file(path):
    """Ordered list of (name, value, lineno) assignments in an rc.conf-style file."""
    res = []
    try:
        with open(path) as f:
            lines = f.read().split('\n')
    except OSError:
        return res
    for n, line in enumerate(lines, 1):
        s = line.strip()
        if not s or s.startswith('#'):
            continue
        eq = s.find('=')
        if eq <= 0:
            continue
        name = s[:eq]
        if not valid_name(name):
            continue
        res.append((name, _unquote(s[eq + 1:]), n))
    return res


def valid_name(name):
    if not name or not (name[0].isalpha() or name[0] == '_'):
        return False
    return all(c.isalnum() or c == '_' for c in name)


def rc_files(root=''):
    return [root + RC_DEFAULTS] + [root + f for f in RC_CONF_FILES]


def rc_get(name, files=None, root=''):
    """(value, file) of the last assignment of name, or (None, None)."""
    val, where = None, None
    for f in files or rc_files(root):
        for n, v, _ in parse_rc_file(f):
            if n == name:
                val, where = v, f
    return val, where


def rc_all(files=None, root=''):
    d = {}
    for f in files or rc_files(root):
        for n, v, _ in parse_rc_file(f):
            d[n] = v
    return d


def checkyesno(v):
    return (v or '').lower() in ('yes', 'true', 'on', '1')


def sh_quote_dq(v):
    return '"' + v.replace('\\', '\\\\').replace('"', '\\"').replace('$', '\\$').replace('`', '\\`') + '"'


def rc_set(path, name, value):
    try:
        with open(path) as f:
            lines = f.read().split('\n')
    except FileNotFoundError:
        lines = ['']
    if lines and lines[-1] == '':
        lines.pop()
    new = '%s=%s' % (name, sh_quote_dq(value))
    idx = None
    for i, line in enumerate(lines):
        s = line.strip()
        if s.startswith(name + '='):
            idx = i
    if idx is None:
        lines.append(new)
    else:
        lines[idx] = new
    _write_lines(path, lines)


def rc_delete(path, name):
    try:
        with open(path) as f:
            lines = f.read().split('\n')
    except FileNotFoundError:
        return
    if lines and lines[-1] == '':
        lines.pop()
    lines = [l for l in lines if not l.strip().startswith(name + '=')]
    _write_lines(path, lines)


def _write_lines(path, lines):
    tmp = path + '.sysrc.%d' % os.getpid()
    with open(tmp, 'w') as f:
        f.write('\n'.join(lines) + ('\n' if lines else ''))
    try:
        st = os.stat(path)
        os.chmod(tmp, st.st_mode & 0o7777)
    except OSError:
        pass
    os.rename(tmp, path)


# ---------------------------------------------------------------- misc
def getopt_bsd(prog, argv, spec, usage):
    """BSD getopt(3): stops at first non-option; errors print like libc."""
    opts = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == '--':
            i += 1
            break
        if not a.startswith('-') or a == '-':
            break
        j = 1
        while j < len(a):
            c = a[j]
            k = spec.find(c)
            if k < 0 or c == ':':
                warnx(prog, 'illegal option -- %s' % c)
                usage()
                raise Exit(1)
            if k + 1 < len(spec) and spec[k + 1] == ':':
                if j + 1 < len(a):
                    opts.append((c, a[j + 1:]))
                else:
                    i += 1
                    if i >= len(argv):
                        warnx(prog, 'option requires an argument -- %s' % c)
                        usage()
                        raise Exit(1)
                    opts.append((c, argv[i]))
                break
            opts.append((c, None))
            j += 1
        i += 1
    return opts, argv[i:]


INVOCATION_LOG = '/var/db/simhost/invocations.log'


def log_invocation(prog):
    """What ran on the host (not in a jail, whose /var has no simhost dir), and from which
    parent (the boot's rc scripts, or a command sent over SSH): tests count side effects here,
    where the SSH command log only shows what was sent (a script that checks before it acts
    names commands it may never run)."""
    try:
        fd = os.open(INVOCATION_LOG, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
    except OSError:
        return
    try:
        with open('/proc/%d/cmdline' % os.getppid(), 'rb') as f:
            parent = f.read().rstrip(b'\0').replace(b'\0', b' ').decode(errors='replace')[:200]
    except OSError:
        parent = ''
    try:
        os.write(fd, (json.dumps({'t': time.time(), 'argv': [prog] + sys.argv[1:], 'parent': parent}) + '\n').encode())
    finally:
        os.close(fd)


def run_main(prog, fn):
    # Python ignores SIGPIPE and SIGXFSZ; a FreeBSD tool (and whatever it execs: jexec, service,
    # daemon, jail's exec.*) starts with the default actions
    import signal
    for sig in (signal.SIGPIPE, signal.SIGXFSZ):
        signal.signal(sig, signal.SIG_DFL)
    try:
        log_invocation(prog)
        check_fault(prog)
        rc = fn(sys.argv[1:])
        sys.stdout.flush()
        sys.exit(rc or 0)
    except Exit as e:
        try:
            sys.stdout.flush()
        except Exception:
            pass
        sys.exit(e.code)
    except BrokenPipeError:
        sys.exit(1)


def getopt_long(prog, argv, spec, longs, usage, code=1, permute=True):
    """FreeBSD libc getopt_long(3) (lib/libc/stdlib/getopt_long.c, built GNU_COMPATIBLE):
    permutes operands to the end unless POSIXLY_CORRECT is set or spec starts with '+';
    '--' ends options; long options may be abbreviated (unambiguous prefix); errors use its
    texts ("invalid option -- x", "option requires an argument -- x", "unrecognized option
    `--foo'", "option `--foo' requires an argument", "option `--foo' doesn't allow an
    argument", "option `--fo' is ambiguous"), then usage() and exit CODE.
    longs: {name: (has_arg, key)}; returns ([(key, value)], operands)."""
    if spec.startswith('+'):
        permute = False
        spec = spec[1:]
    if os.environ.get('POSIXLY_CORRECT') is not None:
        permute = False
    posix = os.environ.get('POSIXLY_CORRECT') is not None

    def fail(msg):
        warnx(prog, msg)
        usage()
        raise Exit(code)
    opts, operands = [], []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == '--':
            operands += argv[i + 1:]
            break
        if not a.startswith('-') or a == '-':
            if not permute:
                operands += argv[i:]
                break
            operands.append(a)
            i += 1
            continue
        if a.startswith('--'):
            name, eq, val = a[2:].partition('=')
            exact = [n for n in longs if n == name]
            cands = exact or [n for n in longs if n.startswith(name)]
            if not exact and len(set(longs[n] for n in cands)) > 1:
                fail("option `--%s' is ambiguous" % name)
            if not cands:
                fail("unrecognized option `--%s'" % name)
            has_arg, key = longs[cands[0]]
            if not has_arg and eq:
                fail("option `--%s' doesn't allow an argument" % name)
            if has_arg and not eq:
                i += 1
                if i >= len(argv):
                    fail("option `--%s' requires an argument" % name)
                val = argv[i]
            opts.append((key, val if has_arg else None))
            i += 1
            continue
        j = 1
        while j < len(a):
            c = a[j]
            k = spec.find(c)
            if k < 0 or c in ':-':
                fail(('illegal option -- %s' if posix else 'invalid option -- %s') % c)
            if spec[k + 1:k + 2] == ':':
                if j + 1 < len(a):
                    opts.append((c, a[j + 1:]))
                else:
                    i += 1
                    if i >= len(argv):
                        fail('option requires an argument -- %s' % c)
                    opts.append((c, argv[i]))
                break
            opts.append((c, None))
            j += 1
        i += 1
    return opts, operands
