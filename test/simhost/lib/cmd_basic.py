"""uname freebsd-version sysctl kldload kldstat chflags route sha256 stat sed tar fetch mount umount"""
import os
import re
import stat as statmod
import sys
import time

import simlib
from simlib import Exit, die, warnx, out, getopt_bsd

REAL_SED = '/usr/libexec/simhost/real/sed'
VERSION = 'FreeBSD 14.3-RELEASE releng/14.3-n271432-8c9ce319fef7 GENERIC'
OSRELDATE = '1403000'


def hostname():
    return os.uname().nodename


# ------------------------------------------------------------------ uname
def uname(argv):
    def usage():
        sys.stderr.write('usage: uname [-abiKmnoprsUv]\n')
    opts, rest = getopt_bsd('uname', argv, 'abiKmnoprsUv', usage)
    if rest:
        usage()
        raise Exit(1)
    flags = set(o for o, _ in opts)
    if 'a' in flags:
        flags |= set('mnrsv')
    if 'o' in flags:
        flags.add('s')
    if not flags:
        flags = set('s')
    parts = []
    for f, val in (('s', 'FreeBSD'), ('n', hostname()), ('r', simlib.OSRELEASE), ('v', VERSION),
                   ('m', 'amd64'), ('p', 'amd64'), ('i', 'GENERIC'), ('K', OSRELDATE), ('U', OSRELDATE),
                   ('b', '8c9ce319fef7a1b2c3d4e5f60718293a4b5c6d7e')):
        if f in flags:
            parts.append(val)
    out(' '.join(parts) + '\n')


def freebsd_version(argv):
    def usage():
        sys.stderr.write('usage: freebsd-version [-kru] [-j jail]\n')
    opts, rest = getopt_bsd('freebsd-version', argv, 'krj:u', usage)
    if rest:
        usage()
        raise Exit(1)
    if not opts:
        opts = [('u', None)]
    for o, v in opts:
        if o == 'j':
            import cmd_jail
            if not cmd_jail.find_jail(v):
                die('freebsd-version', 'jail "%s" not found' % v if not v.isdigit() else 'jail %s not found' % v)
        out(simlib.OSRELEASE + '\n')


# ------------------------------------------------------------------ sysctl
def sysctl_values():
    jailed = 0 if simlib.in_host() else 1
    try:
        mem = os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES')
    except (ValueError, OSError):
        mem = 4 << 30
    v = {
        'kern.ostype': 'FreeBSD', 'kern.osrelease': simlib.OSRELEASE, 'kern.osrevision': '199506',
        'kern.osreldate': OSRELDATE, 'kern.version': VERSION + '\n', 'kern.hostname': hostname(),
        'kern.securelevel': '-1', 'kern.maxfiles': '1048576', 'kern.ident': 'GENERIC',
        'hw.machine': 'amd64', 'hw.machine_arch': 'amd64', 'hw.ncpu': str(os.cpu_count() or 1),
        'hw.physmem': str(mem), 'hw.realmem': str(mem), 'hw.pagesize': '4096',
        'hw.model': 'Simulated CPU (simhost)', 'security.jail.jailed': str(jailed),
        'security.jail.enforce_statfs': '2', 'security.jail.param.allow.mount.': '0',
        'net.inet.ip.forwarding': '0', 'net.inet6.ip6.forwarding': '0', 'kern.boottime': '',
        # IPV6_V6ONLY default for new AF_INET6 sockets (inet6(4)); 1 on FreeBSD (rc.conf
        # ipv6_ipv4mapping="NO"). Applied as net.ipv6.bindv6only in the host's and jails' netns.
        'net.inet6.ip6.v6only': '1',
        'vm.overcommit': '0', 'kern.ipc.somaxconn': '128', 'kern.ipc.soacceptqueue': '128',
        # security(7): 0 hides processes in jails from unprivileged processes of the host
        'security.bsd.see_jail_proc': '1',
    }
    try:
        st = simlib.read_json(simlib.RUN + '/sysctl.json', {})
        v.update(st)
    except Exception:
        pass
    bt = int(time.time() - float(open('/proc/uptime').read().split()[0])) if os.path.exists('/proc/uptime') else 0
    v['kern.boottime'] = '{ sec = %d, usec = 0 } %s' % (bt, time.strftime('%a %b %e %H:%M:%S %Y', time.localtime(bt)))
    return v


WRITABLE = {'net.inet.ip.forwarding', 'net.inet6.ip6.forwarding', 'kern.ipc.somaxconn', 'net.inet6.ip6.v6only',
            'kern.ipc.soacceptqueue', 'kern.maxfiles', 'vm.overcommit', 'security.bsd.see_jail_proc'}


def proc_hidden():
    """Whether this host's /proc is the hidepid mount see_jail_proc=0 stacks on it."""
    with open('/proc/self/mountinfo') as f:
        for line in f:
            parts = line.split()
            if parts[4] == '/proc':
                last = parts
    return 'hidepid=' in last[-1] and 'hidepid=off' not in last[-1]


def set_see_jail_proc(v):
    """security.bsd.see_jail_proc=0 hides jailed processes from the host's unprivileged users.
    Linux has no per-jail visibility: a proc instance mounted with hidepid=invisible on the host's
    /proc hides every other uid's processes from an unprivileged user (jailed ones included, as
    FreeBSD does; unlike FreeBSD, also the host's own). Root sees everything, as on FreeBSD."""
    hidden = proc_hidden()
    if v == '0' and not hidden:
        simlib.sys_mount('proc', '/proc', 'proc', simlib.MS_NOSUID | simlib.MS_NODEV | simlib.MS_NOEXEC, 'hidepid=invisible')
    elif v != '0' and hidden:
        simlib.sys_umount('/proc', simlib.MNT_DETACH)


def sysctl_file(path):
    """sysctl(8) -f: name=value pairs, one per line; # starts a comment; blank lines skipped."""
    try:
        with open(path) as f:
            lines = f.read().split('\n')
    except OSError as e:
        warnx('sysctl', '%s: %s' % (path, e.strerror))
        raise Exit(1)
    pairs = []
    for line in lines:
        line = line.split('#', 1)[0].strip()
        if line:
            pairs.append(line)
    return pairs


def sysctl(argv):
    def usage():
        sys.stderr.write('usage: sysctl [-bdehiNnoqTtWx] [ -B <bufsize> ] [-f filename] name[=value] ...\n'
                         '       sysctl [-bdehNnoqTtWx] [ -B <bufsize> ] -a\n')
    opts, rest = getopt_bsd('sysctl', argv, 'AaB:bdef:hiNnoqtTwWxX', usage)
    flags = set(o for o, _ in opts)
    vals = sysctl_values()
    # -f: the file's pairs first, then those of the command line
    rest = [p for o, f in opts if o == 'f' for p in sysctl_file(f)] + rest
    if 'a' in flags or 'A' in flags:
        for k in sorted(vals):
            out(('%s\n' % vals[k]) if 'n' in flags else ('%s: %s\n' % (k, vals[k])))
        return 0
    if not rest and 'f' not in flags:
        usage()
        raise Exit(1)
    rc = 0
    for a in rest:
        if '=' in a:
            k, nv = a.split('=', 1)
            if k not in vals and not any(x.startswith(k + '.') for x in vals):
                if 'i' not in flags:
                    warnx('sysctl', "unknown oid '%s'" % k)
                rc = 1
                continue
            if not simlib.in_host():
                warnx('sysctl', '%s=%s: Operation not permitted' % (k, nv))
                rc = 1
                continue
            if k not in WRITABLE:
                warnx('sysctl', "oid '%s' is read only" % k)
                rc = 1
                continue
            with simlib.Lock():
                st = simlib.read_json(simlib.RUN + '/sysctl.json', {})
                st[k] = nv
                simlib.write_json(simlib.RUN + '/sysctl.json', st)
                if k == 'security.bsd.see_jail_proc':
                    set_see_jail_proc(nv)
                if k == 'net.inet6.ip6.v6only':
                    # non-vnet jails share the host's value
                    import cmd_jail
                    v = cmd_jail.v6only()
                    cmd_jail.set_bindv6only(None, v)
                    for j in cmd_jail.all_jails(reap=False):
                        if j.get('netns_path'):
                            cmd_jail.set_bindv6only(j['netns_path'], v)
            if 'q' not in flags:
                out('%s: %s -> %s\n' % (k, vals[k], nv) if 'n' not in flags else '%s -> %s\n' % (vals[k], nv))
            continue
        keys = [a] if a in vals else sorted(x for x in vals if x.startswith(a + '.'))
        if not keys:
            if 'i' not in flags and 'q' not in flags:
                warnx('sysctl', "unknown oid '%s'" % a)
            rc = 1
            continue
        for k in keys:
            if 'N' in flags:
                out(k + '\n')
            elif 'n' in flags:
                out(vals[k] + ('' if vals[k].endswith('\n') else '\n'))
            else:
                out('%s: %s\n' % (k, vals[k].rstrip('\n')))
    return rc


# ------------------------------------------------------------------ kld
KMODS = {'pf', 'pflog', 'pfsync', 'linux', 'linux64', 'linux_common', 'nullfs', 'fdescfs', 'tmpfs',
         'zfs', 'if_bridge', 'if_epair', 'if_tuntap', 'vmm', 'accf_http', 'accf_data', 'accf_dns',
         'carp', 'dummynet', 'ipfw', 'ipfw_nat', 'linprocfs', 'linsysfs', 'cryptodev', 'aesni',
         'coretemp', 'amdtemp', 'fusefs', 'mac_portacl', 'sem', 'mqueuefs', 'opensolaris', 'if_wg'}
KLD_STATE = simlib.RUN + '/kld.json'


def _kld_loaded():
    return simlib.read_json(KLD_STATE, ['kernel'])


def kldload(argv):
    def usage():
        sys.stderr.write('usage: kldload [-nqv] file ...\n')
    opts, rest = getopt_bsd('kldload', argv, 'nqv', usage)
    flags = set(o for o, _ in opts)
    if not rest:
        usage()
        raise Exit(1)
    if not simlib.in_host():
        for f in rest:
            warnx('kldload', "can't load %s: Operation not permitted" % f)
        raise Exit(1)
    rc = 0
    with simlib.Lock():
        loaded = _kld_loaded()
        for f in rest:
            m = os.path.basename(f)
            if m.endswith('.ko'):
                m = m[:-3]
            if m not in KMODS:
                if 'q' not in flags:
                    warnx('kldload', "can't load %s: No such file or directory" % f)
                rc = 1
                continue
            if m in loaded:
                if 'n' in flags:
                    continue
                if 'q' not in flags:
                    warnx('kldload', "can't load %s: module already loaded or in kernel" % f)
                rc = 1
                continue
            loaded.append(m)
            if 'v' in flags:
                out('Loaded %s, id=%d\n' % (m, len(loaded)))
        simlib.write_json(KLD_STATE, loaded)
    return rc


def kld_mark_loaded(m):
    with simlib.Lock():
        loaded = _kld_loaded()
        if m not in loaded:
            loaded.append(m)
            simlib.write_json(KLD_STATE, loaded)


def kldstat(argv):
    def usage():
        sys.stderr.write('usage: kldstat [-dhqv] [-i id] [-n filename]\n       kldstat [-dq] [-m modname]\n')
    opts, rest = getopt_bsd('kldstat', argv, 'dhi:m:n:qv', usage)
    if rest:
        usage()
        raise Exit(1)
    d = dict(opts)
    loaded = _kld_loaded()
    if 'm' in d:
        if d['m'] not in loaded:
            if 'q' not in d:
                warnx('kldstat', "can't find module %s: No such file or directory" % d['m'])
            raise Exit(1)
        if 'q' not in d:
            out('Id  Refs Name\n%3d %5d %s\n' % (loaded.index(d['m']) + 1, 1, d['m']))
        return 0
    sel = loaded
    if 'n' in d:
        n = d['n'][:-3] if d['n'].endswith('.ko') else d['n']
        if n not in loaded:
            if 'q' not in d:
                warnx('kldstat', "can't find file %s: No such file or directory" % d['n'])
            raise Exit(1)
        sel = [n]
        if 'q' in d:
            return 0
    out('Id Refs Address                Size Name\n')
    for m in sel:
        i = loaded.index(m) + 1
        out('%2d %4d 0x%016x %8x %s\n' % (i, 1 if i > 1 else len(loaded) + 10,
                                          0xffffffff80200000 + i * 0x100000, 0x1f3e2d0 if i == 1 else 0x20000 + i,
                                          'kernel' if m == 'kernel' else m + '.ko'))
    return 0


# ------------------------------------------------------------------ chflags
# FreeBSD's file flags (sys/stat.h) and lib/libc/gen/strtofflags.c's table, in its order
# (fflagstostr prints the first name of each flag set, in this order).
UF_NODUMP, UF_IMMUTABLE, UF_APPEND, UF_OPAQUE, UF_NOUNLINK = 0x1, 0x2, 0x4, 0x8, 0x10
UF_SYSTEM, UF_SPARSE, UF_OFFLINE, UF_REPARSE, UF_ARCHIVE, UF_READONLY, UF_HIDDEN = \
    0x80, 0x100, 0x200, 0x400, 0x800, 0x1000, 0x8000
SF_ARCHIVED, SF_IMMUTABLE, SF_APPEND, SF_NOUNLINK, SF_SNAPSHOT = 0x10000, 0x20000, 0x40000, 0x100000, 0x200000
FFLAGS = [('nosappnd', SF_APPEND, 0), ('nosappend', SF_APPEND, 0), ('noarch', SF_ARCHIVED, 0),
          ('noarchived', SF_ARCHIVED, 0), ('noschg', SF_IMMUTABLE, 0), ('noschange', SF_IMMUTABLE, 0),
          ('nosimmutable', SF_IMMUTABLE, 0), ('nosunlnk', SF_NOUNLINK, 0), ('nosunlink', SF_NOUNLINK, 0),
          ('nosnapshot', SF_SNAPSHOT, 0), ('nouappnd', UF_APPEND, 0), ('nouappend', UF_APPEND, 0),
          ('nouarch', UF_ARCHIVE, 0), ('nouarchive', UF_ARCHIVE, 0), ('nohidden', UF_HIDDEN, 0),
          ('nouhidden', UF_HIDDEN, 0), ('nouchg', UF_IMMUTABLE, 0), ('nouchange', UF_IMMUTABLE, 0),
          ('nouimmutable', UF_IMMUTABLE, 0), ('nodump', UF_NODUMP, 1), ('nouunlnk', UF_NOUNLINK, 0),
          ('nouunlink', UF_NOUNLINK, 0), ('nooffline', UF_OFFLINE, 0), ('nouoffline', UF_OFFLINE, 0),
          ('noopaque', UF_OPAQUE, 0), ('nordonly', UF_READONLY, 0), ('nourdonly', UF_READONLY, 0),
          ('noreadonly', UF_READONLY, 0), ('noureadonly', UF_READONLY, 0), ('noreparse', UF_REPARSE, 0),
          ('noureparse', UF_REPARSE, 0), ('nosparse', UF_SPARSE, 0), ('nousparse', UF_SPARSE, 0),
          ('nosystem', UF_SYSTEM, 0), ('nousystem', UF_SYSTEM, 0)]
# The flags simulated, as the Linux inode flags the kernel enforces the same way (schg: no
# write, rename or unlink, even by root; sappnd: append only); the others are accepted and
# not kept.
LINUX_FLAG = {SF_IMMUTABLE: simlib.FS_IMMUTABLE_FL, SF_APPEND: simlib.FS_APPEND_FL, UF_NODUMP: simlib.FS_NODUMP_FL}


def strtofflags(spec):
    """(set, clear) or the first unknown keyword (strtofflags(3): separated by tab, space, comma)."""
    setf = clr = 0
    for p in re.split(r'[\t ,]', spec):
        if not p:
            continue
        for name, flag, invert in FFLAGS:
            if p == name[2:]:
                clr, setf = (clr | flag, setf) if invert else (clr, setf | flag)
                break
            if p == name:
                clr, setf = (clr, setf | flag) if invert else (clr | flag, setf)
                break
        else:
            return p
    return setf, clr


def fflagstostr(flags):
    names = []
    for name, flag, invert in FFLAGS:
        if flags & flag:
            names.append(name if invert else name[2:])
            flags &= ~flag
    return ','.join(names)


def file_flags(path, follow=False):
    """st_flags as FreeBSD reports it (only the simulated flags can be set)."""
    try:
        lf = simlib.inode_flags(path, follow)
    except OSError:
        return 0
    return sum(f for f, l in LINUX_FLAG.items() if lf & l)


def _walk_post(path, st, recurse, follow_all, dev):
    """fts(3) post-order: a directory after what it holds (chflags changes it at FTS_DP)."""
    if recurse and statmod.S_ISDIR(st.st_mode) and (dev is None or st.st_dev == dev):
        try:
            names = sorted(os.listdir(path))
        except OSError as e:
            warnx('chflags', '%s: %s' % (path, e.strerror))
            names = []
        for n in names:
            p = os.path.join(path, n)
            try:
                cst = os.stat(p) if follow_all else os.lstat(p)
            except OSError as e:
                yield p, None, e
                continue
            yield from _walk_post(p, cst, recurse, follow_all, dev)
    yield path, st, None


def chflags(argv):
    def usage():
        sys.stderr.write('usage: chflags [-fhvx] [-R [-H | -L | -P]] flags file ...\n')
    opts, rest = getopt_bsd('chflags', argv, 'HLPRfhvx', usage)
    H = L = R = f = h = x = False
    v = 0
    for o, _ in opts:
        if o == 'H':
            H, L = True, False
        elif o == 'L':
            H, L = False, True
        elif o == 'P':
            H = L = False
        elif o == 'R':
            R = True
        elif o == 'f':
            f = True
        elif o == 'h':
            h = True
        elif o == 'v':
            v += 1
        elif o == 'x':
            x = True
    if len(rest) < 2:
        usage()
        raise Exit(1)
    if R and h:
        die('chflags', 'the -R and -h options may not be specified together.')
    # bin/chflags/chflags.c: FTS_LOGICAL unless -R (physical; -H follows the operands, -L all) or -h
    follow_all = L if R else not h
    follow_operand = follow_all or (R and H)
    spec = rest[0]
    if re.match('[0-7]', spec):
        if not re.fullmatch('[0-7]+', spec):
            die('chflags', 'invalid flags: %s' % spec)
        setf, clr, octal = int(spec, 8), 0, True
    else:
        parsed = strtofflags(spec)
        if isinstance(parsed, str):
            die('chflags', 'invalid flag: %s' % parsed)
        (setf, clr), octal = parsed, False
    rc = 0
    for operand in rest[1:]:
        try:
            st = os.stat(operand) if follow_operand else os.lstat(operand)
        except OSError as e:
            warnx('chflags', '%s: %s' % (operand, e.strerror))
            rc = 1
            continue
        for p, pst, err in _walk_post(operand, st, R, follow_all, st.st_dev if x else None):
            if err is not None:
                warnx('chflags', '%s: %s' % (p, err.strerror))
                rc = 1
                continue
            follow = follow_all or (p == operand and follow_operand)
            old = file_flags(p, follow)
            new = setf if octal else (old | setf) & ~clr
            if new == old:
                continue
            try:
                if not (statmod.S_ISREG(pst.st_mode) or statmod.S_ISDIR(pst.st_mode)):
                    continue  # simhost keeps flags on files and directories only
                simlib.set_inode_flags(p, sum(l for fl, l in LINUX_FLAG.items() if new & fl), follow)
            except OSError as e:
                if not f:
                    warnx('chflags', '%s: %s' % (p, e.strerror))
                    rc = 1
                continue
            if v:
                out('%s%s\n' % (p, ': 0%o -> 0%o' % (old, new) if v > 1 else ''))
    return rc


# ------------------------------------------------------------------ route
def route(argv):
    def usage():
        sys.stderr.write('usage: route [-46dnqtv] command [[modifiers] args]\n')
    opts, rest = getopt_bsd('route', argv, '46dnqtvF:j:', usage)
    if not rest:
        usage()
        raise Exit(64)
    cmd = rest[0]
    h = simlib.host_conf()
    gw = h.get('gw', '10.213.0.1')
    if cmd == 'get':
        if len(rest) < 2:
            usage()
            raise Exit(64)
        dst = rest[-1]
        if dst in ('default', '0.0.0.0', '0/0'):
            out('   route to: default\ndestination: default\n       mask: default\n    gateway: %s\n'
                '        fib: 0\n  interface: vtnet0\n      flags: <UP,GATEWAY,DONE,STATIC>\n'
                ' recvpipe  sendpipe  ssthresh  rtt,msec    mtu        weight    expire\n'
                '       0         0         0         0      1500         1         0 \n' % gw)
        else:
            out('   route to: %s\ndestination: %s\n  interface: vtnet0\n      flags: <UP,HOST,DONE,STATIC>\n'
                ' recvpipe  sendpipe  ssthresh  rtt,msec    mtu        weight    expire\n'
                '       0         0         0         0      1500         1         0 \n' % (dst, dst))
        return 0
    if cmd in ('show',):
        return route(['get'] + rest[1:])
    if cmd in ('add', 'delete', 'change', 'flush', 'monitor'):
        if not simlib.in_host():
            die('route', 'writing to routing socket: Operation not permitted')
        die('route', 'writing to routing socket: Operation not permitted (simhost: routes are fixed)')
    usage()
    raise Exit(64)


# ------------------------------------------------------------------ sha256
def sha256(argv):
    import hashlib
    def usage():
        sys.stderr.write('usage: sha256 [-pqrtx] [-c string] [-s string] [files ...]\n')
    opts, rest = getopt_bsd('sha256', argv, 'c:pqrs:tx', usage)
    d = {}
    for o, v in opts:
        d[o] = v
    rc = 0

    def emit(label, digest, is_str=False):
        nonlocal rc
        if 'q' in d:
            out(digest + '\n')
        elif 'r' in d:
            out('%s %s\n' % (digest, ('"%s"' % label) if is_str else label))
        else:
            out('SHA256 (%s) = %s\n' % (('"%s"' % label) if is_str else label, digest))
        if 'c' in d and d['c'].lower() != digest:
            rc = 2
    if 's' in d:
        emit(d['s'], hashlib.sha256(d['s'].encode()).hexdigest(), True)
        return rc
    if not rest:
        emit('-', hashlib.sha256(sys.stdin.buffer.read()).hexdigest())
        return rc
    for f in rest:
        try:
            h = hashlib.sha256()
            with open(f, 'rb') as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b''):
                    h.update(chunk)
        except IsADirectoryError:
            warnx('sha256', '%s: Is a directory' % f)
            rc = 1
            continue
        except OSError as e:
            warnx('sha256', '%s: %s' % (f, e.strerror))
            rc = 1
            continue
        emit(f, h.hexdigest())
    return rc


# ------------------------------------------------------------------ stat (BSD)
def _perm_string(m):
    t = {statmod.S_IFDIR: 'd', statmod.S_IFLNK: 'l', statmod.S_IFCHR: 'c', statmod.S_IFBLK: 'b',
         statmod.S_IFIFO: 'p', statmod.S_IFSOCK: 's'}.get(statmod.S_IFMT(m), '-')
    return statmod.filemode(m)[:0] + t + statmod.filemode(m)[1:]


def _fmt_time(t):
    return time.strftime('%b %e %H:%M:%S %Y', time.localtime(t))


def _stat_field(st, path, spec, sub, outfmt, follow=False):
    import pwd
    import grp
    def uname_(uid):
        try:
            return pwd.getpwuid(uid).pw_name
        except KeyError:
            return str(uid)

    def gname(gid):
        try:
            return grp.getgrgid(gid).gr_name
        except KeyError:
            return str(gid)
    if spec == 'p':
        m = st.st_mode
        if outfmt == 'S':
            return _perm_string(m)
        if sub == 'L':
            v = m & 0o777
        elif sub == 'M':
            v = (m >> 9) & 0o7
        elif sub == 'H':
            v = statmod.S_IFMT(m) >> 12
        else:
            v = m
        if outfmt in ('D',):
            return str(v)
        if outfmt == 'X':
            return '%x' % v
        return '%o' % v
    if spec == 'z':
        return str(st.st_size)
    if spec == 'u':
        return uname_(st.st_uid) if outfmt == 'S' else str(st.st_uid)
    if spec == 'g':
        return gname(st.st_gid) if outfmt == 'S' else str(st.st_gid)
    if spec == 'i':
        return str(st.st_ino)
    if spec == 'l':
        return str(st.st_nlink)
    if spec == 'd':
        return str(st.st_dev)
    if spec == 'r':
        return str(st.st_rdev)
    if spec == 'k':
        return str(st.st_blksize)
    if spec == 'b':
        return str(st.st_blocks)
    if spec == 'f':
        # stat.c SHOW_st_flags: fflagstostr(3) for S ("-" when none), else unsigned by default
        flags = file_flags(path, follow)
        if outfmt == 'S':
            return fflagstostr(flags) or '-'
        return {'O': '%o', 'X': '%x'}.get(outfmt, '%d') % flags
    if spec == 'v':
        return '0'
    if spec in 'amcB':
        t = {'a': st.st_atime, 'm': st.st_mtime, 'c': st.st_ctime, 'B': st.st_ctime}[spec]
        return _fmt_time(t) if outfmt == 'S' else str(int(t))
    if spec == 'N':
        return path
    if spec == 'Y':
        try:
            return os.readlink(path) if outfmt != 'S' else ' -> ' + os.readlink(path)
        except OSError:
            return ''
    if spec == 'T':
        m = st.st_mode
        if outfmt == 'S':
            return {statmod.S_IFDIR: 'Directory', statmod.S_IFLNK: 'Symbolic Link',
                    statmod.S_IFREG: 'Regular File', statmod.S_IFCHR: 'Character Device',
                    statmod.S_IFBLK: 'Block Device', statmod.S_IFIFO: 'Fifo File',
                    statmod.S_IFSOCK: 'Socket'}.get(statmod.S_IFMT(m), '???')
        return {statmod.S_IFDIR: '/', statmod.S_IFLNK: '@', statmod.S_IFIFO: '|',
                statmod.S_IFSOCK: '='}.get(statmod.S_IFMT(m), '*' if m & 0o111 else '')
    return None


def _stat_format(fmt, st, path, follow=False):
    res = ''
    i = 0
    while i < len(fmt):
        c = fmt[i]
        if c != '%':
            res += c
            i += 1
            continue
        i += 1
        if i >= len(fmt):
            break
        if fmt[i] == '%':
            res += '%'
            i += 1
            continue
        if fmt[i] == 'n':
            res += '\n'
            i += 1
            continue
        if fmt[i] == 't':
            res += '\t'
            i += 1
            continue
        flags = ''
        while i < len(fmt) and fmt[i] in '#+-0 ':
            flags += fmt[i]
            i += 1
        width = ''
        while i < len(fmt) and fmt[i].isdigit():
            width += fmt[i]
            i += 1
        if i < len(fmt) and fmt[i] == '.':
            i += 1
            while i < len(fmt) and fmt[i].isdigit():
                i += 1
        outfmt = ''
        if i < len(fmt) and fmt[i] in 'DOUXFS':
            outfmt = fmt[i]
            i += 1
        sub = ''
        if i < len(fmt) and fmt[i] in 'HLM':
            sub = fmt[i]
            i += 1
        if i >= len(fmt):
            die('stat', '%.*s: bad format' % (len(fmt), fmt) if False else 'missing field')
        spec = fmt[i]
        i += 1
        v = _stat_field(st, path, spec, sub, outfmt, follow)
        if v is None:
            die('stat', '%c: bad format' % spec)
        base = outfmt or ('O' if spec == 'p' else '')
        if '#' in flags and base in ('O', 'X') and v != '0':
            v = ('0' if base == 'O' else '0x') + v  # stat(1) "#": alternate form of octal/hex output
        if width:
            v = v.ljust(int(width)) if '-' in flags else v.rjust(int(width), '0' if '0' in flags else ' ')
        res += v
    return res


def stat(argv):
    def usage():
        sys.stderr.write('usage: stat [-FLnq] [-f format | -l | -r | -s | -x] [-t timefmt] [file|handle ...]\n')
    opts, rest = getopt_bsd('stat', argv, 'f:FHlLnqrst:x', usage)
    d = {}
    for o, v in opts:
        d[o] = v
    fmt = d.get('f')
    if fmt is None:
        if 'l' in d:
            fmt = '%Sp %l %Su %Sg %Z %Sm %N%SY'
        elif 's' in d:
            fmt = 'st_dev=%d st_ino=%i st_mode=%#p st_nlink=%l st_uid=%u st_gid=%g st_rdev=%r st_size=%z st_atime=%a st_mtime=%m st_ctime=%c st_birthtime=%B st_blksize=%k st_blocks=%b st_flags=%f'
        else:
            fmt = '%d %i %Sp %l %Su %Sg %r %z "%Sa" "%Sm" "%Sc" "%SB" %k %b %#Xf %N'
    nl = '' if 'n' in d else '\n'
    rc = 0
    for p in rest or ['/dev/stdin']:
        try:
            st = os.stat(p) if 'L' in d else os.lstat(p)
        except OSError as e:
            if 'q' not in d:
                warnx('stat', '%s: %s: %s' % (p, 'stat' if 'L' in d else 'lstat', e.strerror))
            rc = 1
            continue
        out(_stat_format(fmt.replace('%Z', '%z'), st, p, 'L' in d) + nl)
    return rc


# ------------------------------------------------------------------ sed (BSD semantics on GNU sed)
SED_CMDS = set('{}!=:#abcdDgGhHilnNpPqrstwxy')


def _sed_check_script(script):
    s = script.lstrip()
    # skip addresses
    i = 0
    n = len(s)

    def skip_addr(i):
        if i < n and s[i] == '/':
            i += 1
            while i < n and s[i] != '/':
                if s[i] == '\\':
                    i += 1
                i += 1
            return i + 1
        if i < n and s[i] == '\\' and i + 1 < n:
            d = s[i + 1]
            i += 2
            while i < n and s[i] != d:
                i += 1
            return i + 1
        while i < n and (s[i].isdigit() or s[i] == '$'):
            i += 1
        return i
    i = skip_addr(i)
    if i < n and s[i] == ',':
        i = skip_addr(i + 1)
    while i < n and s[i] in ' \t!':
        i += 1
    if i < n and s[i] not in SED_CMDS and s[i] not in ';\n':
        die('sed', '1: "%s": invalid command code %s' % (script, s[i]))


def sed(argv):
    def usage():
        sys.stderr.write('usage: sed script [-Ealnru] [-i extension] [file ...]\n'
                         '\tsed [-Ealnu] [-i extension] [-e script] ... [-f script_file] ... [file ...]\n')
    opts, rest = getopt_bsd('sed', argv, 'EI:ae:f:i:lnru', usage)
    gnu = []
    scripts = False
    inplace = None
    for o, v in opts:
        if o in ('E', 'r'):
            gnu.append('-E')
        elif o == 'n':
            gnu.append('-n')
        elif o in ('l', 'u'):
            gnu.append('-u')
        elif o == 'e':
            _sed_check_script(v)
            gnu += ['-e', v]
            scripts = True
        elif o == 'f':
            if not os.path.exists(v):
                die('sed', '%s: No such file or directory' % v)
            gnu += ['-f', v]
            scripts = True
        elif o in ('i', 'I'):
            inplace = (o, v)
    if not scripts:
        if not rest:
            usage()
            raise Exit(1)
        _sed_check_script(rest[0])
        gnu += ['-e', rest[0]]
        rest = rest[1:]
    if inplace:
        if not rest:
            die('sed', '-I or -i may not be used with stdin')
        o, ext = inplace
        gnu.append('--in-place=' + ext if ext else '--in-place')
        if o == 'i':
            gnu.append('-s')
    for f in rest:
        if not os.path.exists(f):
            die('sed', '%s: No such file or directory' % f)
    real = REAL_SED if os.path.exists(REAL_SED) else '/bin/sed'
    sys.stdout.flush()
    os.execv(real, ['sed'] + gnu + ['--'] + rest)


# ------------------------------------------------------------------ tar = bsdtar
def tar(argv):
    # Debian's libarchive is 3.6.2; FreeBSD 14.3 has 3.7.x, which added --owner/--group
    # (NAME[:ID]). Translate those so the simulation is not stricter than FreeBSD.
    res = []
    i = 0
    while i < len(argv):
        a = argv[i]
        for opt, name_o, id_o in (('--owner', '--uname', '--uid'), ('--group', '--gname', '--gid')):
            if a == opt or a.startswith(opt + '='):
                if a == opt:
                    i += 1
                    val = argv[i] if i < len(argv) else ''
                else:
                    val = a.split('=', 1)[1]
                nm, _, num = val.partition(':')
                if nm.isdigit() and not num:
                    res += [id_o, nm]
                else:
                    res += [name_o, nm] + ([id_o, num] if num else [])
                break
        else:
            res.append(a)
        i += 1
    sys.stdout.flush()
    os.execv('/usr/bin/bsdtar', ['tar'] + res)


# fetch: see cmd_fetch.py


# ------------------------------------------------------------------ mount / umount
MOUNTS = simlib.RUN + '/mounts.json'
FSTYPES = {'nullfs', 'devfs', 'tmpfs', 'linprocfs', 'linsysfs', 'procfs', 'fdescfs'}


def devfs_populate(target):
    """Minimal devfs: tmpfs with bind-mounted character devices (+ devpts)."""
    simlib.sys_mount('devfs', target, 'tmpfs', simlib.MS_NOSUID | simlib.MS_NOEXEC, 'mode=755,size=64k')
    made = [target]
    for dev in ('null', 'zero', 'random', 'urandom', 'full', 'tty'):
        p = os.path.join(target, dev)
        open(p, 'w').close()
        simlib.sys_mount('/dev/' + dev, p, None, simlib.MS_BIND)
        made.append(p)
    os.makedirs(os.path.join(target, 'pts'))
    try:
        simlib.sys_mount('devpts', os.path.join(target, 'pts'), 'devpts', simlib.MS_NOSUID | simlib.MS_NOEXEC,
                         'newinstance,ptmxmode=0666,mode=620')
        made.append(os.path.join(target, 'pts'))
        os.symlink('pts/ptmx', os.path.join(target, 'ptmx'))
    except OSError:
        pass
    os.symlink('/proc/self/fd', os.path.join(target, 'fd'))
    for i, n in enumerate(('stdin', 'stdout', 'stderr')):
        os.symlink('/proc/self/fd/%d' % i, os.path.join(target, n))
    os.makedirs(os.path.join(target, 'shm'))
    return made


def do_mount(fstype, src, target, ro=False):
    """Returns list of mount points created (for reverse unmount)."""
    if fstype == 'nullfs':
        if ro:
            simlib.bind_ro(src, target)
        else:
            simlib.sys_mount(src, target, None, simlib.MS_BIND)
        return [target]
    if fstype == 'devfs':
        return devfs_populate(target)
    if fstype == 'tmpfs':
        simlib.sys_mount('tmpfs', target, 'tmpfs', simlib.MS_RDONLY if ro else 0, 'mode=1777')
        return [target]
    if fstype in ('linprocfs', 'procfs'):
        simlib.sys_mount('proc', target, 'proc', simlib.MS_NOSUID | simlib.MS_NODEV | simlib.MS_NOEXEC)
        return [target]
    if fstype == 'linsysfs':
        simlib.sys_mount('sysfs', target, 'sysfs', simlib.MS_RDONLY | simlib.MS_NOSUID)
        return [target]
    if fstype == 'fdescfs':
        simlib.sys_mount('/proc/self/fd', target, None, simlib.MS_BIND) if os.path.isdir('/proc/self/fd') else None
        return [target]
    raise OSError(95, 'Operation not supported by device')


def undo_mounts(points):
    for p in reversed(points):
        try:
            simlib.sys_umount(p)
        except OSError:
            try:
                simlib.sys_umount(p, simlib.MNT_DETACH)
            except OSError:
                pass


# prmount(): devfs and fdescfs are not MNT_LOCAL ("devfs on /dev (devfs)")
NONLOCAL = {'devfs', 'fdescfs'}


def mount_table():
    """(from, on, type, read-only) of each mounted file system, in mount order (getmntinfo(3))."""
    rows = [('/dev/gpt/rootfs', '/', 'ufs', False), ('devfs', '/dev', 'devfs', False)]
    if not simlib.in_host():
        # jail(8) enforce_statfs=2 (the default): only the file system holding the jail's root, as "/"
        return rows[:1]
    import cmd_jail
    ms = simlib.read_json(MOUNTS, []) + [m for j in cmd_jail.all_jails() for m in j.get('fsmounts', [])]
    ms.sort(key=lambda m: m.get('t', 0))
    return rows + [(m['src'], m['target'], m['type'], bool(m.get('ro'))) for m in ms]


def prmount_line(frm, on, typ, ro):
    """mount.c prmount(): `from on mountpoint (type, flags)`."""
    flags = ([] if typ in NONLOCAL else ['local']) + (['read-only'] if ro else []) + (['soft-updates'] if on == '/' else [])
    return '%s on %s (%s)\n' % (frm, on, ', '.join([typ] + flags))


def fstab_line(frm, on, typ, ro):
    """mount.c putfsent() (`mount -p`): fstab(5) fields padded with tabs to 8/16/24 columns."""
    def pad(f):
        n = len(f)
        return f + ('\t' if n < 8 else '') + ('\t' if n < 16 else '') + ('\t' if n < 24 else ' ')
    opts = 'ro' if ro else 'rw'
    passno = ('1 1' if on == '/' else '2 2') if typ == 'ufs' else '0 0'
    return '%s%s%s\t%s%s\t%s\n' % (pad(frm), pad(on), typ, opts, '\t' if len(opts) < 8 else ' ', passno)


def vfs_skip(typ, spec):
    """vfslist.c checkvfsname(): -t a,b lists only those types, -t noa,b all but those."""
    if not spec:
        return False
    neg = spec.startswith('no')
    return (typ in (spec[2:] if neg else spec).split(',')) == neg


def mount(argv):
    def usage():
        sys.stderr.write('usage: mount [-adflNpruvw] [-F fstab] [-o options] [-t ufs | external_type]\n'
                         '       mount [-dfpruvw] special | node\n'
                         '       mount [-dfpruvw] [-o options] [-t ufs | external_type] special node\n')
    opts, rest = getopt_bsd('mount', argv, 'adF:fLlno:prt:uvw', usage)
    d = {}
    oo = []
    for o, v in opts:
        if o == 'o':
            oo += v.split(',')
        d[o] = v
    if not rest:
        for frm, on, typ, ro in mount_table():
            if not vfs_skip(typ, d.get('t')):
                out(fstab_line(frm, on, typ, ro) if 'p' in d else prmount_line(frm, on, typ, ro))
        return 0
    if len(rest) != 2:
        usage()
        raise Exit(1)
    fstype = d.get('t', 'ufs')
    src, target = rest
    if not simlib.in_host():
        die('mount', '%s: Operation not permitted' % target)
    if fstype not in FSTYPES:
        die('mount', '%s: Operation not supported by device' % src)
    if not os.path.isdir(target):
        die('mount', '%s: No such file or directory' % target)
    target = os.path.realpath(target)
    if fstype == 'nullfs' and not os.path.exists(src):
        die('mount', '%s: No such file or directory' % src)
    try:
        points = do_mount(fstype, os.path.realpath(src) if fstype == 'nullfs' else src, target, 'ro' in oo or 'r' in d)
    except OSError as e:
        die('mount', '%s: %s' % (src, e.strerror))
    with simlib.Lock():
        mounts = simlib.read_json(MOUNTS, [])
        mounts.append({'type': fstype, 'src': os.path.realpath(src) if fstype == 'nullfs' else src, 'target': target,
                       'points': points, 'ro': 'ro' in oo or 'r' in d, 't': time.time()})
        simlib.write_json(MOUNTS, mounts)
    return 0


def umount(argv):
    def usage():
        sys.stderr.write('usage: umount [-fNnv] special ... | node ... | fsid ...\n'
                         '       umount -a | -A [-F fstab] [-fnv] [-h host] [-t type]\n')
    opts, rest = getopt_bsd('umount', argv, 'AaF:fh:Nnt:v', usage)
    if not rest:
        usage()
        raise Exit(1)
    if not simlib.in_host():
        die('umount', '%s: Operation not permitted' % rest[0])
    rc = 0
    with simlib.Lock():
        mounts = simlib.read_json(MOUNTS, [])
        for t in rest:
            rt = os.path.realpath(t) if os.path.exists(t) else t
            m = None
            for x in reversed(mounts):
                if x['target'] == rt or x['src'] == t:
                    m = x
                    break
            if not m:
                import cmd_jail
                hit = False
                for j in cmd_jail.all_jails():
                    for fm in j.get('fsmounts', []):
                        if fm['target'] == rt:
                            hit = True
                            undo_mounts(fm['points'])
                            j['fsmounts'].remove(fm)
                            cmd_jail.save_jail(j)
                            break
                    if hit:
                        break
                if not hit:
                    warnx('umount', '%s: not a file system root directory' % t)
                    rc = 1
                continue
            undo_mounts(m['points'])
            mounts.remove(m)
        simlib.write_json(MOUNTS, mounts)
    return rc


# ------------------------------------------------------------------ mktemp (BSD)
def mktemp(argv):
    import random
    def usage():
        sys.stderr.write('usage: mktemp [-d] [-p tmpdir] [-q] [-t prefix] [-u] template ...\n'
                         '       mktemp [-d] [-p tmpdir] [-q] [-u] -t prefix \n')
    opts, rest = getopt_bsd('mktemp', argv, 'dp:qt:u', usage)
    d = {}
    for o, v in opts:
        d[o] = v
    tmpdir = d.get('p') or os.environ.get('TMPDIR') or '/tmp'
    templates = list(rest)
    if 't' in d and not templates:
        templates = [os.path.join(tmpdir, d['t'] + '.XXXXXXXX')]
    elif not templates:
        if 't' not in d and not opts:
            templates = [os.path.join(tmpdir, 'tmp.XXXXXXXX')]
        else:
            usage()
            raise Exit(1)
    elif 'p' in d:
        templates = [t if os.path.isabs(t) else os.path.join(d['p'], t) for t in templates]
    chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
    rc = 0
    for t in templates:
        n = len(t) - len(t.rstrip('X'))
        for _ in range(100):
            name = t[:len(t) - n] + ''.join(random.choice(chars) for _ in range(n))
            try:
                if 'u' in d:
                    if os.path.lexists(name):
                        continue
                elif 'd' in d:
                    os.mkdir(name, 0o700)
                else:
                    os.close(os.open(name, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600))
                out(name + '\n')
                break
            except FileExistsError:
                if n == 0:
                    break
                continue
            except OSError as e:
                if 'q' not in d:
                    warnx('mktemp', '%s failed on %s: %s' % ('mkdtemp' if 'd' in d else 'mkstemp', t, e.strerror))
                rc = 1
                break
        else:
            rc = 1
    return rc
