"""sysrc(8) for the simulated host (semantics of FreeBSD 14's usr.sbin/sysrc)."""
import os
import subprocess
import sys

import simlib
from simlib import Exit, die, warnx, out

USAGE = ("Usage: sysrc [OPTIONS] {name[[+|-]=value] ... | -a | -A | -l | -L}\n"
         "Try `sysrc --help' for more information.\n")


def usage():
    sys.stderr.write(USAGE)
    raise Exit(1)


def sysrc(argv):
    if argv and argv[0] == '--version':
        out('7.2 Jun-16,2016\n')
        raise Exit(1)
    if argv and argv[0] == '--help':
        sys.stderr.write(USAGE)
        raise Exit(1)
    try:
        opts, rest = simlib.getopt_bsd('sysrc', argv, 'aAcdDeEf:Fhij:lLnNqR:s:vxX', lambda: sys.stderr.write(USAGE))
    except Exit:
        raise
    d = {}
    files = []
    for o, v in opts:
        if o == 'f':
            files.append(v)
        elif o == 'j':
            if not v:
                die('sysrc', "Missing or null argument to `-j' flag")
            d['j'] = v
        elif o == 'R':
            if not v:
                die('sysrc', "Missing or null argument to `-R' flag")
            d['R'] = v
        else:
            d[o] = v
    if 'h' in d:
        usage()
    root = ''
    if 'j' in d:
        import cmd_jail
        j = cmd_jail.find_jail(d['j'])
        if not j:
            die('jexec', 'jail "%s" not found' % d['j'] if not d['j'].isdigit() else 'jail %s not found' % d['j'])
        root = j['path'].rstrip('/')
    elif 'R' in d:
        root = d['R'].rstrip('/')
        if not os.path.isdir(root or '/'):
            die('sysrc', '%s: No such file or directory' % d['R'])
    if files:
        conf_files = [f if os.path.isabs(f) else os.path.abspath(f) for f in files]
        query_files = list(conf_files)
        if root:
            conf_files = [root + f for f in conf_files]
            query_files = list(conf_files)
    else:
        conf_files = [root + f for f in simlib.RC_CONF_FILES]
        query_files = ([] if 'D' in d else [root + simlib.RC_DEFAULTS]) + conf_files
    if 'l' in d:
        out(' '.join(f[len(root):] for f in conf_files) + '\n')
        return 0
    if 'L' in d:
        for f in conf_files:
            if os.path.exists(f):
                out(f[len(root):] + '\n')
        return 0
    verbose = 'v' in d
    quiet = 'q' in d
    check = 'c' in d
    if 'a' in d or 'A' in d:
        allv = simlib.rc_all(query_files if 'A' in d else conf_files)
        for k in sorted(allv):
            if 'N' in d:
                out(k + '\n')
            elif 'e' in d:
                out('%s=%s\n' % (k, simlib.sh_quote_dq(allv[k])))
            else:
                out('%s: %s\n' % (k, allv[k]))
        return 0
    if not rest:
        usage()
    # syntax check of the files we may touch (sysrc sources them with sh)
    for f in conf_files:
        if os.path.exists(f):
            r = subprocess.run(['/bin/sh', '-n', f], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if r.returncode != 0:
                sys.stderr.write(r.stderr)
                die('sysrc', 'Exiting due to previous syntax errors')
    rc = 0
    for arg in rest:
        op = None
        eq = arg.find('=')
        if eq < 0:
            name, value = arg, None
        elif eq > 0 and arg[eq - 1] in '+-':
            name, value, op = arg[:eq - 1], arg[eq + 1:], arg[eq - 1] + '='
        else:
            name, value, op = arg[:eq], arg[eq + 1:], '='
        if not simlib.valid_name(name):
            warnx('sysrc', '%s: name contains characters not allowed in shell' % name)
            rc = 1
            continue
        cur, where = simlib.rc_get(name, query_files)
        if 'x' in d:
            if cur is None or where not in conf_files:
                if not quiet and 'i' not in d:
                    warnx('sysrc', "unknown variable '%s'" % name)
                rc = 1
                continue
            if check:
                continue
            for f in conf_files:
                simlib.rc_delete(f, name)
            if verbose:
                out('%s: %s: %s -> (deleted)\n' % (where[len(root):], name, cur))
            continue
        if op is None:
            if check:
                if cur is None:
                    if verbose:
                        out('%s: not currently set\n' % name)
                    rc = 1
                continue
            if cur is None:
                if not quiet and 'i' not in d:
                    warnx('sysrc', "unknown variable '%s'" % name)
                rc = 1
                continue
            if 'N' in d:
                out(name + '\n')
                continue
            pre = (where[len(root):] + ': ') if verbose else ''
            if 'e' in d:
                out('%s%s=%s\n' % (pre, name, simlib.sh_quote_dq(cur)))
            elif 'n' in d:
                out('%s%s\n' % (pre, cur))
            else:
                out('%s%s: %s\n' % (pre, name, cur))
            continue
        old = cur or ''
        if op == '=':
            new = value
        else:
            delim = ' '
            v = value
            if v and not (v[0].isalnum() or v[0] == '_'):
                delim, v = v[0], v[1:]
            words = [w for w in old.split(delim if delim != ' ' else None) if w] if old else []
            add = [w for w in v.split(delim if delim != ' ' else None) if w]
            if op == '+=':
                for w in add:
                    if w not in words:
                        words.append(w)
            else:
                words = [w for w in words if w not in add]
            new = delim.join(words) if delim != ' ' else ' '.join(words)
        if check:
            if old == new and cur is not None:
                if verbose:
                    out("%s: already set to `%s'\n" % (name, old))
            else:
                if verbose:
                    out("%s: would change from `%s' to `%s'\n" % (name, old, new))
                rc = 1
            continue
        target = where if where in conf_files else conf_files[0]
        if not os.path.exists(os.path.dirname(target) or '/'):
            warnx('sysrc', '%s: No such file or directory' % target)
            rc = 1
            continue
        simlib.rc_set(target, name, new)
        if quiet:
            continue
        pre = (target[len(root):] + ': ') if verbose else ''
        if 'e' in d:
            out('%s%s=%s # -> %s\n' % (pre, name, simlib.sh_quote_dq(old), simlib.sh_quote_dq(new)))
        elif 'n' in d:
            out('%s%s -> %s\n' % (pre, old, new))
        else:
            out('%s%s: %s -> %s\n' % (pre, name, old, new))
    return rc


class _nolock(object):
    def __enter__(self):
        return self

    def __exit__(self, *a):
        pass
