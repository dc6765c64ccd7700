"""pw(8) for the simulated host: FreeBSD 14's usr.sbin/pw (pw.c, pw_user.c, pw_group.c, pw_utils.c).

Keywords as pw.c parses them (`useradd`, `adduser`, `user add` ...; `-R rootdir` / `-V etcdir`
before or between them, once), then the mode's own getopt (an unknown option is reported and
skipped, as pw's getopt loops have no default case). Simulated: useradd, usershow, groupadd,
groupshow with pw_checkname, pw_checkid, the uid/gid policies (1000-32000, next after the highest
used; a user's own group with gid == uid when that gid is free), -N (print, change nothing), -q,
the errors and sysexits codes of the source. Files: ETC/master.passwd (0600), ETC/passwd (v7 lines
as `pwd_mkdb -p` writes them, 0644), ETC/group (0644), written through a temp file and rename(2),
under flock(2) of master.passwd; ETC is ROOT/etc with -R, the -V directory, else /etc.
Differences: no pwd.db/spwd.db (Linux libc reads ETC/passwd); pw.conf is not read (pw_conf.c's
defaults: home /home, shell /bin/sh, password `*`); /var/log/userlog is not written; a tree
without master.passwd (the simulated base.txz has none) gets one made from its passwd; the other
modes (userdel, usermod, lock ...) and useradd -D/-e/-p/-h/-H/-w/-Y exit 1 saying they are not
simulated.
"""
import fcntl
import os
import sys

from simlib import Exit, die, out, warnx

PROG = 'pw'
EX_USAGE, EX_DATAERR, EX_NOUSER, EX_SOFTWARE, EX_OSFILE, EX_IOERR, EX_NOPERM, EX_CONFIG = 64, 65, 67, 70, 72, 74, 77, 78
MODES = ['add', 'del', 'mod', 'show', 'next']
WHICH = ['user', 'group']
COMBO1 = ['useradd', 'userdel', 'usermod', 'usershow', 'usernext', 'lock', 'unlock',
          'groupadd', 'groupdel', 'groupmod', 'groupshow', 'groupnext']
COMBO2 = ['adduser', 'deluser', 'moduser', 'showuser', 'nextuser', 'lock', 'unlock',
          'addgroup', 'delgroup', 'modgroup', 'showgroup', 'nextgroup']
M_NUM = 7  # pw.h: M_ADD M_DELETE M_UPDATE M_PRINT M_NEXT M_LOCK M_UNLOCK
LOGNAMESIZE = 32  # MAXLOGNAME - 1
MIN_ID, MAX_ID = 1000, 32000  # pw_conf.c defaults
ID_MAX = 0xFFFFFFFF - 1  # UID_MAX / GID_MAX


def pw(argv):
    etc, root, mode, which, arg1, relocated = '/etc', '/', None, None, None, False
    args = list(argv)
    while args:
        a = args[0]
        if a.startswith('-'):
            if a[1:2] not in ('V', 'R'):
                break
            if relocated:
                die(PROG, "Both '-R' and '-V' specified, only one accepted")
            relocated = True
            val = a[2:]
            if not val:
                if len(args) < 2 or not os.path.exists(args[1]):
                    die(PROG, "no such directory `%s'" % (args[1] if len(args) > 1 else '(null)'), EX_OSFILE)
                if not os.path.isdir(args[1]):
                    die(PROG, "`%s' not a directory" % args[1], EX_OSFILE)
                val = args.pop(1)
            if a[1] == 'R':
                root, etc = val, val.rstrip('/') + '/etc'
            else:
                etc = val
        elif mode is None and a in MODES:
            mode = MODES.index(a)
        elif which is None and a in WHICH:
            which = WHICH.index(a)
        elif mode is None and which is None and (a in COMBO1 or a in COMBO2):
            which, mode = divmod(COMBO1.index(a) if a in COMBO1 else COMBO2.index(a), M_NUM)
        elif a == 'help' and len(args) == 1:
            _help(mode, which)
        elif which is not None and mode is not None:
            arg1 = a
        else:
            die(PROG, "unknown keyword `%s'" % a, EX_USAGE)
        args.pop(0)
    if mode is None or which is None:
        _help(mode, which)
    if not os.path.isdir(root):
        die(PROG, "Unable to open '%s'" % root)
    db = Db(etc, root)
    if (which, mode) == (0, 0):
        return user_add(db, args, arg1)
    if (which, mode) == (0, 3):
        return user_show(db, args, arg1)
    if (which, mode) == (1, 0):
        return group_add(db, args, arg1)
    if (which, mode) == (1, 3):
        return group_show(db, args, arg1)
    die(PROG, 'simhost: pw %s is not simulated' % (WHICH[which] + MODES[mode] if mode < 5 else ['lock', 'unlock'][mode - 5]))


def _help(mode, which):
    if which is None:
        sys.stderr.write('usage:\n  pw [user|group|lock|unlock] [add|del|mod|show|next] [help|switches/values]\n')
    elif mode is None:
        sys.stderr.write('usage:\n  pw %s [add|del|mod|show|next] [help|switches/values]\n' % WHICH[which])
    else:
        sys.stderr.write('usage: pw %s%s [%s] [switches]\n' % (WHICH[which], MODES[mode] if mode < 5 else '', 'name' if mode == 0 else 'uid|name'))
    raise Exit(1)


def getopt(argv, spec):
    """libc getopt(3) as pw's mode functions use it: stops at the first non-option; an unknown
    option is reported and then ignored (their switch statements have no default case)."""
    opts, i = [], 0
    while i < len(argv):
        a = argv[i]
        if a == '--':
            break
        if not a.startswith('-') or a == '-':
            break
        j = 1
        while j < len(a):
            c = a[j]
            k = spec.find(c)
            if k < 0 or c == ':':
                warnx(PROG, 'illegal option -- %s' % c)
                j += 1
                continue
            if spec[k + 1:k + 2] == ':':
                if j + 1 < len(a):
                    opts.append((c, a[j + 1:]))
                elif i + 1 < len(argv):
                    i += 1
                    opts.append((c, argv[i]))
                else:
                    warnx(PROG, 'option requires an argument -- %s' % c)
                break
            opts.append((c, None))
            j += 1
        i += 1
    return opts


def quiet():
    fd = os.open('/dev/null', os.O_WRONLY)
    os.dup2(fd, 2)
    os.close(fd)


def checkname(name, gecos=False):
    """pw_checkname: the characters a user/group name (or a gecos field) may hold."""
    bad = ':' if gecos else ' ,\t:+&#%$^()!@~*?<>=|\\/"'
    pos, reject = 0, (not gecos and name.startswith('-'))
    if not reject:
        for pos, ch in enumerate(name):
            o = ord(ch)
            if ch in bad or (not gecos and o < 32) or o == 127 or (not gecos and o > 127):
                reject = True
                break
        else:
            pos = len(name)
    if reject and not gecos and name[pos:] == '$':
        reject, pos = False, len(name)
    if reject:
        ch = name[pos] if pos < len(name) else '\0'
        show = "`%s'" % ch if 32 <= ord(ch) < 127 else '0x%02x' % (ord(ch) & 0xff)
        die(PROG, 'invalid character %s at position %d in %s' % (show, pos, 'gecos field' if gecos else 'userid/group name'), EX_DATAERR)
    if not gecos and len(name) > LOGNAMESIZE:
        die(PROG, "name too long `%s' (max is %d)" % (name, LOGNAMESIZE), EX_USAGE)
    return name


def checkid(s):
    """pw_checkid: strtounum(3) in base 0 up to UID_MAX/GID_MAX."""
    try:
        v = int(s, 0) if not (s.startswith('0') and len(s) > 1 and s[1:2].isdigit()) else int(s, 8)
    except ValueError:
        die(PROG, "Bad id '%s': invalid" % s, EX_USAGE)
    if v < 0:
        die(PROG, "Bad id '%s': too small" % s, EX_USAGE)
    if v > ID_MAX:
        die(PROG, "Bad id '%s': too large" % s, EX_USAGE)
    return v


def name_or_id(arg1):
    if arg1 is None:
        return None, -1
    if arg1.isdigit():
        return None, checkid(arg1)
    return arg1, -1


class Db(object):
    """master.passwd and group of one etc directory: read at start, written whole."""

    def __init__(self, etc, root):
        self.etc, self.root = etc, root
        self.master = os.path.join(etc, 'master.passwd')
        self.load()

    def load(self):
        etc = self.etc
        if os.path.exists(self.master):
            self.users = [l.split(':') for l in _lines(self.master)]
        else:
            # the simulated base.txz ships only passwd: its entries, as master.passwd holds them
            self.users = [[f[0], f[1], f[2], f[3], '', '0', '0', f[4], f[5], f[6]]
                          for f in (l.split(':') for l in _lines(os.path.join(etc, 'passwd'))) if len(f) >= 7]
        self.users = [u for u in self.users if len(u) >= 10]
        self.groups = [l.split(':') for l in _lines(os.path.join(etc, 'group'))]
        self.groups = [g for g in self.groups if len(g) >= 4]

    def user(self, name=None, uid=None):
        for u in self.users:
            if (name is not None and u[0] == name) or (name is None and int(u[2]) == uid):
                return u
        return None

    def group(self, name=None, gid=None):
        for g in self.groups:
            if (name is not None and g[0] == name) or (name is None and int(g[2]) == gid):
                return g
        return None

    def lock(self):
        """flock(2) for an update, then the files as they are now."""
        fd = os.open(self.master if os.path.exists(self.master) else self.etc, os.O_RDONLY)
        fcntl.flock(fd, fcntl.LOCK_EX)
        self.load()
        return fd

    def save_users(self):
        try:
            _write(self.master, ''.join(':'.join(u) + '\n' for u in self.users), 0o600)
            # pwd_mkdb -p: the Version 7 file, without passwords
            _write(os.path.join(self.etc, 'passwd'),
                   ''.join('%s:*:%s:%s:%s:%s:%s\n' % (u[0], u[2], u[3], u[7], u[8], u[9]) for u in self.users), 0o644)
        except OSError as e:
            die(PROG, 'passwd file update: %s' % e.strerror, EX_IOERR)

    def save_groups(self):
        try:
            _write(os.path.join(self.etc, 'group'), ''.join(':'.join(g) + '\n' for g in self.groups), 0o644)
        except OSError as e:
            die(PROG, 'group update: %s' % e.strerror, EX_IOERR)


def _lines(path):
    try:
        with open(path) as f:
            return [l.rstrip('\n') for l in f if l.strip() and not l.startswith('#')]
    except OSError:
        return []


def _write(path, text, mode):
    tmp = '%s.pw.%d' % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, 'w') as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.rename(tmp, path)


def _next_id(used, what='uid'):
    """The uid/gid policies: one past the highest id in use in 1000-32000, else the first free."""
    inrange = sorted(i for i in used if MIN_ID <= i <= MAX_ID)
    nxt = inrange[-1] + 1 if inrange else MIN_ID
    if nxt > MAX_ID:
        nxt = next((i for i in range(MIN_ID, MAX_ID + 1) if i not in inrange), MAX_ID + 1)
    if nxt > MAX_ID:
        die(PROG, 'unable to allocate a new %s - range fully used' % what, EX_SOFTWARE)
    return nxt


def _need_root(dryrun):
    if os.geteuid() != 0 and not dryrun:
        die(PROG, 'you must be root', EX_NOPERM)


def user_add(db, argv, arg1):
    name, uid = None, -1
    if arg1 is not None:
        if arg1.isdigit():
            uid = checkid(arg1)
        else:
            name = checkname(arg1)
    o = {'G': []}
    for c, v in getopt(argv, 'C:qn:u:c:d:e:p:g:G:mM:k:s:oL:i:w:h:H:Db:NPy:Y'):
        if c == 'n':
            name = checkname(v)
        elif c == 'c':
            o['c'] = checkname(v, gecos=True)
        elif c == 'g':
            o['g'] = _group_of(db, v)[0] if v else ''
        elif c == 'G':
            o['G'] += [_group_of(db, x)[0] for x in v.replace('\t', ' ').replace(',', ' ').split()]
        elif c == 'L':
            o['L'] = checkname(v)
        elif c == 'k':
            p = os.path.join(db.root, v.lstrip('/'))
            if not os.path.exists(p):
                die(PROG, "skeleton `%s' does not exists" % v, EX_OSFILE)
            if not os.path.isdir(p):
                die(PROG, "skeleton `%s' is not a directory" % v, EX_OSFILE)
            o['k'] = v
        elif c in 'DehHwYy':
            die(PROG, 'simhost: pw useradd -%s is not simulated' % c)
        else:
            o[c] = v
    dryrun = 'N' in o
    _need_root(dryrun)
    if 'q' in o:
        quiet()
    if 'u' in o:
        uid = checkid(o['u'])
    fd = None if dryrun else db.lock()
    if uid < 0 and name is None:
        die(PROG, 'user name or id required', EX_DATAERR)
    if name is None:
        die(PROG, 'login name required', EX_DATAERR)
    if db.user(name=name):
        die(PROG, "login name `%s' already exists" % name, EX_DATAERR)
    if uid >= 0:
        if db.user(uid=uid) and 'o' not in o:
            die(PROG, "uid `%d' has already been allocated" % uid, EX_DATAERR)
    else:
        uid = _next_id(int(u[2]) for u in db.users)
    grname = o.get('g')
    if grname:
        gid = int(db.group(name=grname)[2])
    else:
        own = db.group(name=name)
        if own and not own[3]:
            gid = int(own[2])  # "Already created? Use it anyway..."
        else:
            # a group of the user's own, gid == uid when that gid is free
            gid = uid if not db.group(gid=uid) else _next_id((int(g[2]) for g in db.groups), 'gid')
            if not dryrun:
                if own:  # groupadd(): addgrent() finds it
                    die(PROG, "group '%s' already exists" % name, EX_IOERR)
                db.groups.append([name, '*', str(gid), ''])
                db.save_groups()
    shell = o.get('s', 'sh')
    if shell and not shell.startswith('/'):
        found = [d + '/' + shell for d in ('/bin',) if os.access(d + '/' + shell, os.X_OK)]
        if not found:
            die(PROG, 'no default shell available or defined', EX_CONFIG)
        shell = found[0]
    home = o.get('d') or '/home/' + name
    entry = [name, '*', str(uid), str(gid), o.get('L', ''), '0', '0', o.get('c', 'User &'), home, shell]
    if dryrun:
        out(':'.join(entry) + '\n')
        return 0
    db.users.append(entry)
    db.save_users()
    for g in db.groups:
        if g[0] in o['G']:
            mem = [m for m in g[3].split(',') if m]
            if name not in mem:
                g[3] = ','.join(mem + [name])
    if o['G']:
        db.save_groups()
    mail = os.path.join(db.root, 'var/mail')
    if os.path.isdir(mail):
        p = os.path.join(mail, name)
        os.close(os.open(p, os.O_RDWR | os.O_CREAT, 0o600))
        os.lchown(p, uid, gid)
    if 'm' in o and home.startswith('/') and len(home) > 1:
        _make_home(db.root, home, o.get('k', '/usr/share/skel'), o.get('M'), uid, gid)
    os.close(fd)
    return 0


def _group_of(db, v):
    g = db.group(name=v)
    if g is None and v.isdigit():
        g = db.group(gid=int(v))
    if g is None:
        die(PROG, "group `%s' does not exist" % v, EX_NOUSER)
    return g


def _make_home(root, home, skel, mode, uid, gid):
    """create_and_populate_homedir: parents 0755 root, the home with the mode (umask applied),
    skeleton files named dot.X copied as .X, all owned by the user."""
    path = os.path.join(root, home.lstrip('/'))
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    m = int(mode, 8) if mode else 0o777
    try:
        os.mkdir(path, m)
    except FileExistsError:
        pass
    os.chown(path, uid, gid)
    sk = os.path.join(root, skel.lstrip('/'))
    if os.path.isdir(sk):
        for f in sorted(os.listdir(sk)):
            dst = os.path.join(path, '.' + f[4:] if f.startswith('dot.') else f)
            if os.path.isfile(os.path.join(sk, f)) and not os.path.exists(dst):
                with open(os.path.join(sk, f), 'rb') as a, open(dst, 'wb') as b:
                    b.write(a.read())
                os.chown(dst, uid, gid)


def user_show(db, argv, arg1):
    name, uid = name_or_id(arg1)
    o = {}
    for c, v in getopt(argv, 'C:qn:u:FPa7'):
        if c == 'n':
            name = v
        elif c == 'u':
            uid = checkid(v)
        else:
            o[c] = v
    if 'q' in o:
        quiet()
    if 'a' in o:
        for u in db.users:
            _print_user(db, u, 'P' in o, '7' in o)
        return 0
    if uid < 0 and name is None:
        die(PROG, 'username or id required', EX_DATAERR)
    u = db.user(name=checkname(name)) if name is not None else db.user(uid=uid)
    if u is None:
        if 'F' not in o:
            if name is None:
                die(PROG, "no such uid `%d'" % uid, EX_NOUSER)
            die(PROG, "no such user `%s'" % name, EX_NOUSER)
        u = ['nouser', '*', '-1', '-1', '', '0', '0', 'User &', '/nonexistent', '/bin/sh']
    _print_user(db, u, 'P' in o, '7' in o)
    return 0


def _print_user(db, u, pretty, v7):
    if not pretty:
        out(':'.join([u[0], '*', u[2], u[3], u[7], u[8], u[9]] if v7 else u) + '\n')
        return
    g = db.group(gid=int(u[3]))
    parts = (u[7].split(',', 3) + ['[None]'] * 4)[:4]
    uname = parts[0] or 'User &'
    if '&' in uname:
        uname = uname.replace('&', u[0][:1].upper() + u[0][1:], 1)
    out('Login Name: %-15s   #%-12s Group: %-15s   #%s\n'
        ' Full Name: %s\n'
        '      Home: %-26.26s      Class: %s\n'
        '     Shell: %-26.26s     Office: %s\n'
        'Work Phone: %-26.26s Home Phone: %s\n'
        'Acc Expire: %-26.26s Pwd Expire: %s\n'
        % (u[0], u[2], g[0] if g else '(invalid)', u[3], uname, u[8], u[4], u[9], parts[1],
           parts[2], parts[3], '[None]', '[None]'))
    member = [g[0] for g in db.groups if u[0] in g[3].split(',')]
    if member:
        out('    Groups: %s\n' % ','.join(member))


def group_add(db, argv, arg1):
    name, gid = name_or_id(arg1)
    o = {}
    for c, v in getopt(argv, 'C:qn:g:h:H:M:oNPY'):
        if c == 'n':
            name = v
        elif c == 'g':
            gid = checkid(v)
        elif c in 'hHY':
            die(PROG, 'simhost: pw groupadd -%s is not simulated' % c)
        else:
            o[c] = v
    if 'q' in o:
        quiet()
    if name is None:
        die(PROG, 'group name required', EX_DATAERR)
    if db.group(name=name):
        die(PROG, "group name `%s' already exists" % name, EX_DATAERR)
    if gid > 0:
        if db.group(gid=gid) and 'o' not in o:
            die(PROG, "gid `%d' has already been allocated" % gid, EX_DATAERR)
    else:
        gid = _next_id((int(g[2]) for g in db.groups), 'gid')
    entry = [checkname(name), '*', str(gid), '']
    members = []
    for m in (o.get('M') or '').replace('\t', ' ').replace(',', ' ').split():
        u = db.user(name=m) or (db.user(uid=int(m)) if m.isdigit() else None)
        if u is None:
            die(PROG, "user `%s' does not exist" % m, EX_NOUSER)
        if u[0] not in members:
            members.append(u[0])
    entry[3] = ','.join(members)
    if 'N' in o:
        out(':'.join(entry) + '\n')
        return 0
    fd = db.lock()
    if db.group(name=name):
        die(PROG, "group '%s' already exists" % name, EX_IOERR)
    db.groups.append(entry)
    db.save_groups()
    os.close(fd)
    return 0


def group_show(db, argv, arg1):
    name, gid = name_or_id(arg1)
    o = {}
    for c, v in getopt(argv, 'C:qn:g:FPa'):
        if c == 'n':
            name = v
        elif c == 'g':
            gid = checkid(v)
        else:
            o[c] = v
    if 'q' in o:
        quiet()
    groups = db.groups if 'a' in o else None
    if groups is None:
        if gid < 0 and name is None:
            die(PROG, 'groupname or id required', EX_DATAERR)
        g = db.group(name=name) if name is not None else db.group(gid=gid)
        if g is None:
            if 'F' not in o:
                die(PROG, "unknown gid `%d'" % gid if name is None else "unknown group `%s'" % name, EX_DATAERR)
            g = ['nogroup', '*', '-1', '']
        groups = [g]
    for g in groups:
        if 'P' in o:
            out('Group Name: %-15s   #%s\n   Members: %s\n\n' % (g[0], g[2], g[3]))
        else:
            out(':'.join(g) + '\n')
    return 0
