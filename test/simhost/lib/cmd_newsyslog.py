"""newsyslog(8) of FreeBSD 14 (usr.sbin/newsyslog/newsyslog.c, ptimes.c; newsyslog.conf(5)).

Reads /etc/newsyslog.conf (and its <include>s), rotates the logs that are due (size in kB,
interval in hours, @ISO8601 / $DWM at-times) or all of them with -F, or only the files named
on the command line; FILE -> FILE.0 -> FILE.1 ... up to count, compressed with bzip2/gzip/xz/zstd
(J/Z/X/Y) after the daemons were signalled (pid file, default SIGHUP, then a 10 s pause as
FreeBSD's newsyslog does).  Runs on the host and inside a jail (its own /etc and /var).
"""
import fnmatch
import glob
import grp
import os
import pwd
import re
import signal
import socket
import subprocess
import sys
import time

import simlib
from simlib import Exit, warnx, out

PROG = 'newsyslog'
PATH_CONF = '/etc/newsyslog.conf'
PATH_SYSLOGPID = '/var/run/syslog.pid'

CE_BINARY = 0x0008
CE_NOSIGNAL = 0x0010
CE_TRIMAT = 0x0020
CE_GLOB = 0x0040
CE_SIGNALGROUP = 0x0080
CE_CREATE = 0x0100
CE_NODUMP = 0x0200
CE_PID2CMD = 0x0400
CE_PLAIN0 = 0x0800
CE_RFC5424 = 0x1000

# flag, suffix, program path (pathnames.h), flags
COMPRESS = [('', '', '', []),
            ('Z', '.gz', '/usr/bin/gzip', ['-f']),
            ('J', '.bz2', '/usr/bin/bzip2', ['-f']),
            ('X', '.xz', '/usr/bin/xz', ['-f']),
            ('Y', '.zst', '/usr/bin/zstd', ['-q', '--rm'])]
MIN_PID = 5
# FreeBSD's PID_MAX is 99999; Linux pids may be larger (kernel.pid_max)
try:
    MAX_PID = max(99999, int(open('/proc/sys/kernel/pid_max').read()))
except (OSError, ValueError):
    MAX_PID = 99999
DEFAULT_TIMEFNAME_FMT = '%Y%m%dT%H%M%S'


class Opts(object):
    archtodir = False
    archdirname = None
    destdir = None
    conf = None
    noaction = 0
    needroot = True
    nosignal = False
    timefnamefmt = None
    verbose = 0
    createlogs = 0
    dbg_at_times = 0
    force = 0
    norotate = 0
    enforcepid = 0
    rotatereq = 0
    requestor = None
    path_syslogpid = PATH_SYSLOGPID
    timenow = None


O = Opts()


def errx(msg, code=1):
    sys.stdout.flush()
    warnx(PROG, msg)
    raise Exit(code)


def err(msg, e, code=1):
    errx('%s: %s' % (msg, e.strerror if isinstance(e, OSError) else e), code)


def warn(msg, e):
    sys.stdout.flush()
    warnx(PROG, '%s: %s' % (msg, e.strerror if isinstance(e, OSError) else e))


def usage():
    sys.stderr.write('usage: newsyslog [-CFNPnrsv] [-a directory] [-d directory] [-f config_file]\n'
                     '                 [-S pidfile] [-t timefmt] [[-R tagname] file ...]\n')
    raise Exit(1)


def ctime(t):
    return time.strftime('%a %b %e %H:%M:%S %Y', time.localtime(t)) + '\n'


# ---------------------------------------------------------------- ptimes.c
class PTime(object):
    def __init__(self):
        self.tsecs = 0
        self.tm = None
        self.spec = set()


def _days_pmonth(mon, year):
    mtab = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    n = mtab[mon % 12]
    if mon % 12 == 1 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        n += 1
    return n


def _strtol(s):
    m = re.match(r'^\d*', s)
    return (int(m.group(0)) if m.group(0) else 0), len(m.group(0))


def ptime_relparse(dwm, base, s):
    """-> PTime, or -1 (malformed) / -2 (nonexistent time)."""
    lt = time.localtime(base)
    tm = {'year': lt.tm_year, 'mon': lt.tm_mon - 1, 'mday': lt.tm_mday, 'hour': 0, 'min': 0, 'sec': 0,
          'wday': (lt.tm_wday + 1) % 7}
    pt = PTime()
    pt.spec = {'hour'}
    if dwm:
        daysmon = _days_pmonth(tm['mon'], tm['year'])
        dseen = wmseen = False
        while True:
            if not s:
                return -1
            c, s = s[0], s[1:]
            if c == 'D':
                if dseen:
                    return -1
                dseen = True
                v, n = _strtol(s)
                if v > 23:
                    return -1
                tm['hour'] = v
            elif c == 'W':
                if wmseen:
                    return -1
                wmseen = True
                pt.spec.add('wday')
                v, n = _strtol(s)
                if v > 6:
                    return -1
                if v != tm['wday']:
                    tm['mday'] += (6 - tm['wday'] + v + 1) if v < tm['wday'] else v - tm['wday']
                    if tm['mday'] > daysmon:
                        tm['mon'] += 1
                        tm['mday'] -= daysmon
            elif c == 'M':
                if wmseen:
                    return -1
                wmseen = True
                pt.spec.add('mday')
                if s[:1].lower() == 'l':
                    pt.spec.add('lday')
                    tm['mday'] = daysmon
                    n = 1
                else:
                    v, n = _strtol(s)
                    if v < 1 or v > 31 or v > daysmon:
                        return -1
                    tm['mday'] = v
            else:
                return -1
            s = s[n:]
            if not s or s[0].isspace():
                break
    else:
        v, n = _strtol(s)
        rest = s[n:]
        if rest and rest[0] != 'T':
            return -1
        if n == 8:
            tm['year'] = v // 10000
            v %= 10000
            n = 4
            pt.spec.add('year')
        elif n == 6:
            tm['year'] = tm['year'] - tm['year'] % 100 + v // 10000
            v %= 10000
            n = 4
            pt.spec.add('year')
        if n == 4:
            pt.spec.add('mon')
            tm['mon'] = v // 100 - 1
            v %= 100
            n = 2
        if n == 2:
            pt.spec.add('mday')
            tm['mday'] = v
        elif n != 0:
            return -1
        if tm['year'] < 1970 or tm['mon'] < 0 or tm['mon'] > 12 or tm['mday'] < 1 or tm['mday'] > 31:
            return -1
        if rest:
            v, n = _strtol(rest[1:])
            r2 = rest[1 + n:]
            if r2 and not r2[0].isspace():
                return -1
            if n not in (0, 2, 4, 6):
                return -1
            if n == 6:
                tm['sec'] = v % 100
                v //= 100
                n = 4
            if n == 4:
                tm['min'] = v % 100
                v //= 100
                n = 2
            if n == 2:
                tm['hour'] = v
            if not (0 <= tm['sec'] <= 60 and 0 <= tm['min'] <= 59 and 0 <= tm['hour'] <= 23):
                return -1
    if 'mday' in pt.spec and tm['mday'] > _days_pmonth(tm['mon'], tm['year']):
        # PTM_PARSE_MATCHDOM: the next month that has that day
        while tm['mday'] > _days_pmonth(tm['mon'], tm['year']):
            tm['mon'] += 1
            if tm['mon'] > 11:
                tm['mon'] = 0
                tm['year'] += 1
    try:
        pt.tsecs = time.mktime((tm['year'], tm['mon'] + 1, tm['mday'], tm['hour'], tm['min'], tm['sec'], 0, 0, -1))
    except (OverflowError, ValueError):
        return -2
    pt.tm = tm
    return pt


def ptime_nxtime(pt):
    """The next matching time after a past one (ptimeset_nxtime, to the hour)."""
    if 'year' in pt.spec:
        return
    lt = time.localtime(pt.tsecs)
    if 'mon' in pt.spec:
        pt.tsecs = time.mktime((lt.tm_year + 1,) + tuple(lt)[1:6] + (0, 0, -1))
        return
    days = 0
    if 'lday' in pt.spec:
        days = _days_pmonth(lt.tm_mon % 12, lt.tm_year)
    elif 'mday' in pt.spec:
        days = _days_pmonth(lt.tm_mon - 1, lt.tm_year)
    elif 'wday' in pt.spec:
        days = 7
    elif 'hour' in pt.spec:
        days = 1
    pt.tsecs += 86400 * days


# ---------------------------------------------------------------- config
class Entry(object):
    def __init__(self, log, src=None):
        self.log = log if (O.destdir is None or not log.startswith('/')) else O.destdir + log
        self.r_reason = None
        self.firstcreate = False
        self.rotate = False
        self.fsize = -1
        if src is not None:
            for k in ('pid_cmd_file', 'uid', 'gid', 'numlogs', 'trsize', 'hours', 'trim_at', 'permissions',
                      'flags', 'compress', 'sig', 'def_cfg'):
                setattr(self, k, getattr(src, k))
        else:
            self.pid_cmd_file = None
            self.uid = -1
            self.gid = -1
            self.numlogs = 1
            self.trsize = -1
            self.hours = -1
            self.trim_at = None
            self.permissions = 0
            self.flags = 0
            self.compress = 0
            self.sig = signal.SIGHUP
            self.def_cfg = False


def _isnumber(s):
    return s.isdigit() or s == ''


def _fields(line):
    """sob/son: words split at whitespace, with the position each starts."""
    return line.split()


def parse_signal(s):
    if re.match(r'^\d+$', s):
        v = int(s)
        return v if 1 <= v < signal.NSIG else -1
    name = s[3:] if s[:3].upper() == 'SIG' else s
    for sig in signal.Signals:
        if sig.name[3:].upper() == name.upper() and not sig.name.startswith('SIG_'):
            return int(sig)
    return -1


def parse_file(f, fname, work, globs, state, inclist):
    for raw in f:
        if raw.startswith('\n') or raw.startswith('#') or raw == '':
            continue
        errline = raw if raw.endswith('\n') else raw
        # '#' starts a comment except at the very start (handled) or escaped as '\#'
        line = raw[0]
        k = 1
        while k < len(raw):
            c = raw[k]
            if c == '#':
                if line.endswith('\\'):
                    line = line[:-1] + '#'
                    k += 1
                    continue
                break
            line += c
            k += 1
        words = line.split()
        # sob()/son() on the C string: a field is "malformed" when nothing (not even the
        # newline fgets kept) follows it where more fields are required
        trailing = bool(words) and not line.endswith(words[-1])

        def after(k):
            return k < len(words) - 1 or trailing

        def field(k):
            if k >= len(words):
                errx('missing field in config file:\n%s' % errline)
            if not after(k):
                errx('malformed line (missing fields):\n%s' % errline)
            return words[k]
        q = field(0)
        if q.lower() == '<debug>':
            if len(words) < 2:
                errx('missing field in config file:\n%s' % errline)
            if not after(1):
                warnx(PROG, 'debug line specifies no option:\n%s' % errline)
            else:
                parse_doption(words[1])
            continue
        if q.lower() == '<include>':
            if O.verbose:
                out('Found: %s' % errline)
            if len(words) < 2:
                errx('missing field in config file:\n%s' % errline)
            if not after(1):
                warnx(PROG, 'include line missing argument:\n%s' % errline)
                continue
            pat = words[1]
            if any(ch in pat for ch in '*?['):
                if O.verbose > 2:
                    out('\t+ Expanding pattern %s\n' % pat)
                for m in sorted(glob.glob(pat)):
                    _add_to_queue(m, inclist)
            else:
                _add_to_queue(pat, inclist)
            continue
        special = False
        w = Entry(q)
        if q.lower() == '<default>':
            special = True
            if state.get('defconf') is not None:
                warnx(PROG, 'Ignoring duplicate entry for %s!' % q)
                continue
            state['defconf'] = w
        i = 1
        q = field(i)
        if ':' in q or '.' in q:
            if ':' in q:
                user, _, group = q.partition(':')
            else:
                user, _, group = q.rpartition('.')
            if user:
                if not user.isdigit():
                    try:
                        w.uid = pwd.getpwnam(user).pw_uid
                    except KeyError:
                        errx('error in config file; unknown user:\n%s' % errline)
                else:
                    w.uid = int(user)
            if group:
                if not group.isdigit():
                    try:
                        w.gid = grp.getgrnam(group).gr_gid
                    except KeyError:
                        errx('error in config file; unknown group:\n%s' % errline)
                else:
                    w.gid = int(group)
            i += 1
            q = field(i)
        m = re.match(r'^[0-7]+', q)
        if not m:
            errx('error in config file; bad permissions:\n%s' % errline)
        w.permissions = int(m.group(0), 8)
        if w.permissions & ~0o666:
            warnx(PROG, 'File mode bits 0%o changed to 0%o in line:\n%s' % (w.permissions, w.permissions & 0o666, errline))
            w.permissions &= 0o666
        i += 1
        q = field(i)
        m = re.match(r'^[-+]?\d+', q)
        if not m or int(m.group(0)) < 0:
            errx('error in config file; bad value for count of logs to save:\n%s' % errline)
        w.numlogs = int(m.group(0))
        i += 1
        q = field(i)
        if q[:1].isdigit():
            w.trsize = int(re.match(r'^\d+', q).group(0))
        elif q == '*':
            w.trsize = -1
        else:
            warnx(PROG, "Invalid value of '%s' for 'size' in line:\n%s" % (q, errline))
            w.trsize = -1
        i += 1
        if i >= len(words):
            errx('missing field in config file:\n%s' % errline)
        q = words[i]
        eol = not after(i)
        m = re.match(r'^\d+', q)
        ep = q[len(m.group(0)):] if m else q
        if not m:
            w.hours = 0
        elif ep.startswith('*'):
            w.hours = -1
        elif int(m.group(0)) > 2147483647:
            errx('interval is too large:\n%s' % errline)
        else:
            w.hours = int(m.group(0))
        if ep not in ('', '*'):
            if ep[0] not in '@$':
                errx('malformed interval/at:\n%s' % errline)
            w.flags |= CE_TRIMAT
            res = ptime_relparse(ep[0] == '$', O.timenow, ep[1:])
            if res == -2:
                errx("nonexistent time for 'at' value:\n%s" % errline)
            elif res == -1:
                errx("malformed 'at' value:\n%s" % errline)
            w.trim_at = res

        def optional():
            # the next optional field: None at the end of the line
            nonlocal i, eol
            if eol:
                return None
            i += 1
            if i >= len(words):
                eol = True
                return ''
            eol = not after(i)
            return words[i]
        q = optional()
        for ch in (q or ''):
            c = ch.lower()
            if c == 'b':
                w.flags |= CE_BINARY
            elif c == 'c':
                w.flags |= CE_CREATE
            elif c == 'd':
                w.flags |= CE_NODUMP
            elif c == 'g':
                w.flags |= CE_GLOB
            elif c == 'j':
                w.compress = 2
            elif c == 'n':
                w.flags |= CE_NOSIGNAL
            elif c == 'p':
                w.flags |= CE_PLAIN0
            elif c == 'r':
                w.flags |= CE_PID2CMD
            elif c == 't':
                w.flags |= CE_RFC5424
            elif c == 'u':
                w.flags |= CE_SIGNALGROUP
            elif c == 'w':
                pass
            elif c == 'x':
                w.compress = 3
            elif c == 'y':
                w.compress = 4
            elif c == 'z':
                w.compress = 1
            elif c == '-':
                pass
            else:
                errx('illegal flag in config file -- %s' % ch)
        q = optional()
        w.pid_cmd_file = None
        sigword = None
        if q:
            if q.startswith('/'):
                w.pid_cmd_file = q
                sigword = optional()
            elif q[0].isalnum():
                sigword = q
            else:
                errx('illegal pid file or signal in config file:\n%s' % errline)
        w.sig = signal.SIGHUP
        if sigword:
            w.sig = parse_signal(sigword)
            if w.sig < 1:
                errx('illegal signal in config file:\n%s' % errline)
        if w.flags & CE_NOSIGNAL:
            if w.pid_cmd_file is not None:
                warnx(PROG, "Ignoring '%s' because flag 'n' was specified in line:\n%s" % (w.pid_cmd_file, errline))
                w.pid_cmd_file = None
        elif w.pid_cmd_file is None:
            if w.flags & CE_SIGNALGROUP:
                warnx(PROG, "Ignoring flag 'U' in line:\n%s" % errline)
                w.flags &= ~CE_SIGNALGROUP
            if O.needroot:
                w.pid_cmd_file = O.path_syslogpid
        if special:
            pass
        elif w.flags & CE_GLOB:
            globs.append(w)
        else:
            work.append(w)


def _add_to_queue(fname, inclist):
    if fname in inclist:
        warnx(PROG, 'duplicate include detected: %s' % fname)
        return
    if O.verbose > 2:
        out('\t+ Adding %s to the processing queue.\n' % fname)
    inclist.append(fname)


def get_worklist(files):
    inclist = [O.conf or PATH_CONF]
    work, globs, state = [], [], {'defconf': None}
    k = 0
    while k < len(inclist):
        name = inclist[k]
        k += 1
        try:
            if name == '-':
                f = sys.stdin
                name = '<stdin>'
            else:
                f = open(name, errors='surrogateescape')
        except OSError as e:
            err(name, e)
        if O.verbose:
            out('Processing %s\n' % name)
        with f:
            parse_file(f, name, work, globs, state, inclist)
    if not files:
        expand_globs(work, globs)
        return work
    defconf = state['defconf']
    if defconf is None:
        defconf = Entry('<default>')
        defconf.numlogs = 3
        defconf.trsize = 50
        defconf.permissions = 0o600
    cmdlist = []
    for given in files:
        matched = [e for e in work if e.log == given]
        if matched:
            if O.verbose > 2:
                out('\t+ Matched entry %s\n' % given)
            cmdlist += [Entry(given, e) for e in matched]
            continue
        if O.verbose > 2:
            out('\t+ Checking globs for %s\n' % given)
        hit = None
        for e in globs:
            if fnmatch_pathname(e.log, given):
                hit = e
                break
        if hit is not None:
            d = Entry(given, hit)
            d.flags &= ~CE_GLOB
            cmdlist.append(d)
            if O.verbose > 2:
                out('\t+ Matched %s via %s\n' % (given, hit.log))
            continue
        if O.verbose > 2:
            out('\t+ No entry matched %s  (will use %s)\n' % (given, '<default>'))
        d = Entry(given, defconf)
        d.def_cfg = True
        cmdlist.append(d)
    return cmdlist


def fnmatch_pathname(pattern, name):
    """fnmatch(3) with FNM_PATHNAME: wildcards never match '/'."""
    pp, nn = pattern.split('/'), name.split('/')
    return len(pp) == len(nn) and all(fnmatch.fnmatchcase(n, p.replace('[!', '[!').replace('[^', '[!'))
                                      for p, n in zip(pp, nn))


def expand_globs(work, globs):
    for g in globs:
        if O.verbose > 2:
            out('\t+ Expanding pattern %s\n' % g.log)
        for m in sorted(glob.glob(g.log)):
            if any(e.log == m for e in work):
                continue
            try:
                st = os.lstat(m)
            except OSError as e:
                warn('Skipping %s - lstat() error' % m, e)
                continue
            import stat as st_
            if not st_.S_ISREG(st.st_mode):
                if O.verbose > 2:
                    out('\t+  . skipping %s (!file)\n' % m)
                continue
            if O.verbose > 2:
                out('\t+  . add file %s\n' % m)
            d = Entry(m, g)
            d.log = m
            d.flags &= ~CE_GLOB
            work.append(d)
        if O.verbose > 2:
            out('\t+ Done with pattern %s\n' % g.log)


def parse_doption(opt):
    if opt.startswith('TN='):
        res = ptime_relparse(False, time.time(), opt[3:])
        if res == -2:
            warnx(PROG, 'Non-existent time specified on -D %s' % opt)
            return False
        if res == -1:
            warnx(PROG, 'Malformed time given on -D %s' % opt)
            return False
        O.timenow = res.tsecs
        sys.stderr.write('Debug: Running as if TimeNow is %s' % ctime(O.timenow))
        return True
    if opt == 'ats':
        O.dbg_at_times += 1
        return True
    if opt in ('neworder', 'oldorder'):
        warnx(PROG, "NOTE: newsyslog always uses 'neworder'.")
        return True
    warnx(PROG, "Unknown -D (debug) option: '%s'" % opt)
    return False


# ---------------------------------------------------------------- rotation
def sizefile(path):
    try:
        return (os.stat(path).st_size + 1023) >> 10
    except OSError:
        return -1


def get_logfile_suffix(path):
    for _, suf, _, _ in COMPRESS:
        if os.path.lexists(path + suf):
            return suf
    return None


def _archive_dir(logpath):
    if not O.archtodir:
        return ''
    if O.archdirname.startswith('/'):
        return O.archdirname
    d = logpath.rsplit('/', 1)[0] + '/' if '/' in logpath else ''
    return d + O.archdirname


def _valid_timelog(dirpath, name, base):
    if not name.startswith(base) or len(name) == len(base):
        return None
    if name[len(base)] != '.':
        if O.verbose:
            out("Ignoring %s which has unexpected extension '%s'\n" % (name, name[len(base):]))
        return None
    rest = name[len(base) + 1:]
    for _, suf, _, _ in sorted(COMPRESS, key=lambda c: -len(c[1])):
        if suf and not rest.endswith(suf):
            continue
        core = rest[:len(rest) - len(suf)] if suf else rest
        try:
            t = time.strptime(core, O.timefnamefmt)
        except ValueError:
            continue
        if os.path.isfile(os.path.join(dirpath, name)) and not os.path.islink(os.path.join(dirpath, name)):
            import calendar
            return calendar.timegm(t)
    if O.verbose:
        out('Ignoring %s which does not match time format\n' % name)
    return None


def age_old_log(path):
    if O.archtodir:
        tmp = _archive_dir(path) + '/' + path.rsplit('/', 1)[-1]
    else:
        tmp = path
    if O.timefnamefmt is not None:
        d, base = os.path.split(tmp)
        best = -1
        try:
            names = os.listdir(d or '.')
        except OSError as e:
            warn("Cannot open log directory '%s'" % d, e)
            return -1
        for n in names:
            if _valid_timelog(d or '.', n, base) is not None:
                best = max(best, os.lstat(os.path.join(d or '.', n)).st_mtime)
        if best == -1:
            return -1
        mtime = best
    else:
        tmp += '.0'
        suf = get_logfile_suffix(tmp)
        if suf is None:
            return -1
        try:
            mtime = os.stat(tmp + suf).st_mtime
        except OSError:
            return -1
    return int((O.timenow - mtime + 1800) / 3600)


def daytime():
    return time.strftime('%b %e %H:%M:%S', time.localtime())


def log_trim(logname, ent):
    try:
        f = open(logname, 'a')
    except OSError:
        return -1
    xtra = ' using <default> rule' if ent.def_cfg else ''
    host = socket.gethostname()
    if ent.firstcreate:
        what = 'logfile first created'
    elif ent.r_reason is not None:
        what = 'logfile turned over' + ent.r_reason
    else:
        what = 'logfile turned over'
    with f:
        if ent.flags & CE_RFC5424:
            ts = time.strftime('%Y-%m-%dT%H:%M:%S', time.localtime())
            off = time.strftime('%z')
            f.write('<%d>1 %s%s:%s %s newsyslog %d - - %s%s\n' % (8 * 1 + 6, ts, off[:3], off[3:], host,
                                                                 os.getpid(), what, xtra))
        else:
            f.write('%s %s newsyslog[%d]: %s%s\n' % (daytime(), host.split('.')[0], os.getpid(), what, xtra))
    return 0


def change_attrs(fname, ent):
    if O.noaction:
        out('\tchmod %o %s\n' % (ent.permissions, fname))
        if ent.uid != -1 or ent.gid != -1:
            out('\tchown %u:%u %s\n' % (ent.uid & 0xffffffff, ent.gid & 0xffffffff, fname))
        if ent.flags & CE_NODUMP:
            out('\tchflags nodump %s\n' % fname)
        return
    try:
        os.chmod(fname, ent.permissions)
    except OSError as e:
        if e.errno != 1:
            err('chmod(%s) in change_attrs' % fname, e)
        warn("change_attrs couldn't chmod(%s)" % fname, e)
    if ent.uid != -1 or ent.gid != -1:
        try:
            os.chown(fname, ent.uid, ent.gid)
        except OSError as e:
            warn("can't chown %s" % fname, e)


def createdir(ent, dirpart):
    parts = dirpart.split('/')
    cur = ''
    for k, p in enumerate(parts):
        cur = p if k == 0 else cur + '/' + p
        if not cur or os.path.lexists(cur):
            continue
        if O.noaction:
            out('\tmkdir %s\n' % cur)
        else:
            try:
                os.mkdir(cur, 0o755)
            except OSError as e:
                err('Error on mkdir("%s") for -a' % cur, e)
    if O.verbose:
        if ent.firstcreate:
            out("Created directory '%s' for new %s\n" % (dirpart, ent.log))
        else:
            out("Created directory '%s' for -a\n" % dirpart)


def createlog(ent):
    import tempfile
    realfile = ent.log
    if ent.firstcreate and '/' in realfile:
        d = realfile.rsplit('/', 1)[0]
        try:
            st = os.stat(d)
            import stat as st_
            if not st_.S_ISDIR(st.st_mode):
                errx('%s exists but is not a directory' % d)
        except FileNotFoundError:
            createdir(ent, d)
        except OSError as e:
            err('Error on stat(%s)' % d, e)
    fd = None
    tempfile_ = realfile + '.zXXXXXX'
    if O.noaction:
        out('\tmktemp %s\n' % tempfile_)
    else:
        try:
            fd, tempfile_ = tempfile.mkstemp(prefix=os.path.basename(realfile) + '.z', dir=os.path.dirname(realfile) or '.')
        except OSError as e:
            err("can't mkstemp logfile %s" % tempfile_, e)
        if not ent.flags & CE_BINARY:
            if log_trim(tempfile_, ent):
                errx("can't add status message to log")
    if ent.uid != -1 or ent.gid != -1:
        if O.noaction:
            out('\tchown %u:%u %s\n' % (ent.uid & 0xffffffff, ent.gid & 0xffffffff, tempfile_))
        else:
            try:
                os.fchown(fd, ent.uid, ent.gid)
            except OSError as e:
                err("can't fchown temp file %s" % tempfile_, e)
    if ent.flags & CE_NODUMP and O.noaction:
        out('\tchflags nodump %s\n' % tempfile_)
    if O.noaction:
        out('\tchmod %o %s\n' % (ent.permissions, tempfile_))
        out('\tmv %s %s\n' % (tempfile_, realfile))
    else:
        try:
            os.fchmod(fd, ent.permissions)
        except OSError as e:
            err("can't fchmod temp file '%s'" % tempfile_, e)
        try:
            os.rename(tempfile_, realfile)
        except OSError as e:
            err("can't mv %s to %s" % (tempfile_, realfile), e)
    if fd is not None:
        os.close(fd)


def savelog(src, dst):
    try:
        os.link(src, dst)
        return
    except OSError:
        pass
    import shutil
    try:
        with open(src, 'rb') as a, open(dst, 'wb') as b:
            shutil.copyfileobj(a, b)
    except OSError as e:
        err("can't copy %s to %s" % (src, dst), e)


class SigWork(object):
    def __init__(self, ent):
        self.signum = ent.sig
        self.fname = ent.pid_cmd_file
        self.runcmd = bool(ent.flags & CE_PID2CMD)
        self.pid = -1 if self.runcmd else 0
        self.pidok = 0
        self.pidtype = 'daemon'
        if not self.runcmd:
            self.set_pid(ent)

    def set_pid(self, ent):
        minok, maxok = MIN_PID, MAX_PID
        if ent.flags & CE_SIGNALGROUP:
            minok, maxok = -MAX_PID, -MIN_PID
            self.pidtype = 'process-group'
        try:
            f = open(ent.pid_cmd_file)
        except OSError as e:
            if isinstance(e, FileNotFoundError) and not O.enforcepid:
                self.pidok = 1
                warnx(PROG, "pid file doesn't exist: %s" % ent.pid_cmd_file)
            else:
                warn("can't open pid file: %s" % ent.pid_cmd_file, e)
            return
        with f:
            line = f.readline()
        if line == '':
            if not O.enforcepid:
                self.pidok = 1
                warnx(PROG, 'pid/cmd file is empty: %s' % ent.pid_cmd_file)
            else:
                warnx(PROG, "can't read from pid file: %s" % ent.pid_cmd_file)
            return
        m = re.match(r'^ *([-+]?\d*)(.*)$', line, re.S)
        num, rest = m.group(1), m.group(2)
        rval = int(num) if num not in ('', '-', '+') else 0
        if rest and not rest[0].isspace():
            warnx(PROG, 'pid file does not start with a valid number: %s' % ent.pid_cmd_file)
        elif rval < minok or rval > maxok:
            warnx(PROG, "bad value '%d' for process number in %s" % (rval, ent.pid_cmd_file))
            if O.verbose:
                warnx(PROG, '\t(expecting value between %d and %d)' % (minok, maxok))
        else:
            self.pidok = 1
            self.pid = rval


def save_sigwork(swlist, ent):
    for s in swlist:
        if s.fname == ent.pid_cmd_file and s.signum == ent.sig:
            return s
    s = SigWork(ent)
    swlist.append(s)
    swlist.sort(key=lambda x: (x.fname, x.signum), reverse=True)
    return s


def do_sigwork(swlist, k):
    s = swlist[k]
    if not s.runcmd and (not s.pidok or s.pid == 0):
        return
    if O.nosignal:
        if not O.rotatereq:
            s.pidok = -1
        return
    secs = 0
    if k + 1 < len(swlist):
        secs = 10 if swlist[k + 1].pid == s.pid else 1
    if O.noaction:
        if s.runcmd:
            out("\tsh -c '%s %d'\n" % (s.fname, s.signum))
        else:
            out('\tkill -%d %d \t\t# %s\n' % (s.signum, s.pid, s.fname))
            if secs > 0:
                out('\tsleep %d\n' % secs)
        return
    if s.runcmd:
        cmd = '%s %d' % (s.fname, s.signum)
        if O.verbose:
            out('Run command: %s\n' % cmd)
        sys.stdout.flush()
        rc = subprocess.call(['/bin/sh', '-c', cmd])
        if rc:
            warnx(PROG, '%s: returned non-zero exit code: %d' % (cmd, (rc & 0xff) << 8 if rc > 0 else -rc))
        return
    try:
        os.kill(s.pid, s.signum)
    except OSError as e:
        if not isinstance(e, ProcessLookupError):
            s.pidok = 0
        warn("can't notify %s, pid %d = %s" % (s.pidtype, s.pid, s.fname), e)
        return
    if O.verbose:
        out('Notified %s pid %d = %s\n' % (s.pidtype, s.pid, s.fname))
    if secs > 0:
        if O.verbose:
            out('Pause %d second(s) between signals\n' % secs)
        sys.stdout.flush()
        time.sleep(secs)


def do_zipwork(fname, ent, swork):
    if swork is not None and not swork.runcmd and swork.pidok <= 0:
        warnx(PROG, 'log %s not compressed because daemon(s) not notified' % fname)
        change_attrs(fname, ent)
        return
    flag, suf, path, flags = COMPRESS[ent.compress]
    name = path.rsplit('/', 1)[-1]
    command = ' '.join([path] + flags + [fname])
    zresult = fname + suf
    if O.verbose:
        out('Executing: %s\n' % command)
    if O.noaction:
        out('\t%s %s\n' % (name, fname))
        change_attrs(zresult, ent)
        return
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        try:
            os.execv(path, [name] + flags + [fname])
        except OSError as e:
            sys.stderr.write('%s: execv(`%s\'): %s\n' % (PROG, command, e.strerror))
        os._exit(1)
    _, st = os.waitpid(pid, 0)
    if not os.WIFEXITED(st):
        warnx(PROG, "`%s' did not terminate normally" % command)
        return
    if os.WEXITSTATUS(st):
        warnx(PROG, "`%s' terminated with a non-zero status (%d)" % (command, os.WEXITSTATUS(st)))
        return
    change_attrs(zresult, ent)


def do_rotate(ent, swlist, zwlist):
    if O.archtodir:
        dirpart = _archive_dir(ent.log)
        if not os.path.lexists(dirpart):
            createdir(ent, dirpart)
        namepart = ent.log.rsplit('/', 1)[-1]
    else:
        dirpart = ''
        namepart = ent.log

    def classic(n):
        return ('%s/%s.%d' % (dirpart, namepart, n)) if dirpart else '%s.%d' % (namepart, n)

    def rm(path):
        if O.noaction:
            out('\trm -f %s\n' % path)
        else:
            try:
                os.unlink(path)
            except OSError:
                pass
    if O.timefnamefmt is not None:
        d = dirpart or (os.path.dirname(ent.log) or '.')
        base = os.path.basename(ent.log)
        olds = []
        try:
            for n in os.listdir(d):
                t = _valid_timelog(d, n, base)
                if t is not None:
                    olds.append((t, n))
        except OSError as e:
            err("Cannot open log directory '%s'" % d, e)
        if olds and len(olds) >= ent.numlogs and ent.numlogs > 1:
            olds.sort(reverse=True)
            for _, n in olds[ent.numlogs - 1:]:
                if O.noaction:
                    out('\trm -f %s/%s\n' % (d, n))
                else:
                    try:
                        os.unlink(os.path.join(d, n))
                    except OSError as e:
                        sys.stderr.write("Could not delete old logfile '%s': %s\n" % (n, e.strerror))
        elif O.verbose > 1:
            out('No old logs to delete for logfile %s\n' % ent.log)
    else:
        for _, suf, _, _ in COMPRESS:
            rm(classic(ent.numlogs) + suf)
        if ent.numlogs > 0:
            for _, suf, _, _ in COMPRESS:
                rm(classic(ent.numlogs - 1) + suf)
    if O.timefnamefmt is not None:
        stamp = time.strftime(O.timefnamefmt, time.localtime())
        file1 = ('%s/%s.%s' % (dirpart, namepart, stamp)) if O.archtodir else '%s.%s' % (ent.log, stamp)
        n = -1
    else:
        file1 = classic(ent.numlogs - 1)
        n = ent.numlogs - 2
    while n >= 0:
        file2 = file1
        file1 = classic(n)
        n -= 1
        suf = get_logfile_suffix(file1)
        if suf is None:
            continue
        z1, z2 = file1 + suf, file2 + suf
        if O.noaction:
            out('\tmv %s %s\n' % (z1, z2))
        else:
            try:
                os.rename(z1, z2)
            except OSError:
                pass
            change_attrs(z2, ent)
            if ent.compress and not suf:
                # an uncompressed older rotation (the p flag's .0) is compressed when it moves on
                do_zipwork(z2, ent, None)
    if ent.numlogs > 0:
        if O.noaction:
            out('\t%s %s %s\n' % ('cp' if O.archtodir else 'ln', ent.log, file1))
            out("\ttouch %s\t\t# Update mtime for 'when'-interval processing\n" % file1)
        else:
            if not ent.flags & CE_BINARY:
                log_trim(ent.log, ent)
            savelog(ent.log, file1)
            try:
                os.utime(file1, None)
            except OSError:
                pass
        change_attrs(file1, ent)
    if O.noaction:
        out('Start new log...\n')
    createlog(ent)
    swork = save_sigwork(swlist, ent) if ent.pid_cmd_file is not None else None
    if ent.numlogs > 0 and ent.compress > 0:
        if not (ent.flags & CE_PLAIN0) or not file1.endswith('.0'):
            if not any(z[0] == file1 for z in zwlist):
                zwlist.append((file1, ent, swork, ent.fsize))


def do_entry(ent, swlist, zwlist):
    if O.verbose:
        out('%s <%d%s>: ' % (ent.log, ent.numlogs, COMPRESS[ent.compress][0]))
    ent.fsize = sizefile(ent.log)
    oversized = ent.trsize > 0 and ent.fsize >= ent.trsize
    modtime = age_old_log(ent.log)
    ent.rotate = False
    ent.firstcreate = False
    if ent.fsize < 0:
        reason = ''
        if O.createlogs > 1 or (ent.flags & CE_CREATE and O.createlogs):
            ent.firstcreate = True
        elif ent.flags & CE_CREATE:
            reason = ' (no -C option)'
        elif O.createlogs:
            reason = ' (no C flag)'
        if ent.firstcreate:
            if O.verbose:
                out('does not exist -> will create.\n')
            createlog(ent)
        elif O.verbose:
            out('does not exist, skipped%s.\n' % reason)
        return
    if ent.flags & CE_TRIMAT and not O.force and not O.rotatereq and not oversized:
        diff = O.timenow - ent.trim_at.tsecs
        if diff < 0:
            if O.verbose:
                out('--> will trim at %s' % ctime(ent.trim_at.tsecs))
            return
        elif diff >= 3600:
            if O.verbose and O.dbg_at_times:
                out('\n\t--> prev trim at %s\t' % ctime(ent.trim_at.tsecs))
            if O.verbose:
                ptime_nxtime(ent.trim_at)
                out('--> will trim at %s' % ctime(ent.trim_at.tsecs))
            return
        elif O.verbose and O.noaction and O.dbg_at_times:
            out('\n\t--> timematch at %s' % ctime(ent.trim_at.tsecs))
            return
        elif O.verbose and ent.hours <= 0:
            out('--> time is up\n')
    if O.verbose and ent.trsize > 0:
        out('size (Kb): %d [%d] ' % (ent.fsize, ent.trsize))
    if O.verbose and ent.hours > 0:
        out(' age (hr): %d [%d] ' % (modtime, ent.hours))
    reason = ''
    if O.rotatereq:
        ent.rotate = True
        reason = ' due to -R from %s' % O.requestor
    elif O.force:
        ent.rotate = True
        reason = ' due to -F request'
    elif oversized:
        ent.rotate = True
        reason = ' due to size>%dK' % ent.trsize
    elif ent.hours <= 0 and ent.flags & CE_TRIMAT:
        ent.rotate = True
    elif ent.hours > 0 and (modtime >= ent.hours or modtime < 0):
        ent.rotate = True
    if ent.rotate and not O.norotate:
        if reason:
            ent.r_reason = reason
        if O.verbose:
            out('--> trimming log....\n')
        if O.noaction and not O.verbose:
            out('%s <%d%s>: trimming\n' % (ent.log, ent.numlogs, COMPRESS[ent.compress][0]))
        do_rotate(ent, swlist, zwlist)
    elif O.verbose:
        out('--> skipping\n')


def newsyslog(argv):
    O.timenow = time.time()
    opts, files = simlib.getopt_bsd(PROG, argv, 'a:d:f:nrst:vCD:FNPR:S:', lambda: sys.stderr.write(
        'usage: newsyslog [-CFNPnrsv] [-a directory] [-d directory] [-f config_file]\n'
        '                 [-S pidfile] [-t timefmt] [[-R tagname] file ...]\n'))
    for o, v in opts:
        if o == 'a':
            O.archtodir = True
            O.archdirname = v
        elif o == 'd':
            O.destdir = v
        elif o == 'f':
            O.conf = v
        elif o == 'n':
            O.noaction += 1
            O.needroot = False
        elif o == 'r':
            O.needroot = False
        elif o == 's':
            O.nosignal = True
        elif o == 't':
            O.timefnamefmt = DEFAULT_TIMEFNAME_FMT if v in ('', 'DEFAULT') else v
        elif o == 'v':
            O.verbose += 1
        elif o == 'C':
            O.createlogs += 1
        elif o == 'D':
            if not parse_doption(v):
                usage()
        elif o == 'F':
            O.force += 1
        elif o == 'N':
            O.norotate += 1
        elif o == 'P':
            O.enforcepid += 1
        elif o == 'R':
            O.rotatereq += 1
            O.requestor = ''.join(c if c.isprintable() or c == '\t' else '.' for c in v)
        elif o == 'S':
            O.path_syslogpid = v
    if O.force and O.norotate:
        warnx(PROG, 'Only one of -F and -N may be specified.')
        usage()
    if O.rotatereq and not files:
        warnx(PROG, 'At least one filename must be given when -R is specified.')
        usage()
    if O.needroot and os.getuid() and os.geteuid():
        errx('must have root privs')
    work = get_worklist(files)
    swlist, zwlist = [], []
    for ent in work:
        do_entry(ent, swlist, zwlist)
    if swlist:
        if O.noaction or O.verbose:
            out('Signal all daemon process(es)...\n')
        for k in range(len(swlist)):
            do_sigwork(swlist, k)
        if not (O.rotatereq and O.nosignal):
            if O.noaction:
                out('\tsleep 10\n')
            else:
                if O.verbose:
                    out('Pause 10 seconds to allow daemon(s) to close log file(s)\n')
                sys.stdout.flush()
                time.sleep(10)
    if zwlist:
        if O.noaction or O.verbose:
            out('Compress all rotated log file(s)...\n')
        # smallest first, as save_zipwork orders them
        for fname, ent, swork, size in sorted(zwlist, key=lambda z: z[3]):
            do_zipwork(fname, ent, swork)
    return 0
