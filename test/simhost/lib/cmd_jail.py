"""jail(8), jls(8), jexec(8) on Linux primitives.

A jail = chroot at its path + its own network namespace (owning its ip4.addr, joined to the
host namespace by a veth with a /32 route) + its own UTS namespace (host.hostname).
The host's userland (/usr/bin, /usr/sbin, /usr/lib*, /usr/share, /usr/libexec, /bin, /sbin,
/lib*) is bind-mounted read-only into the jail; the jail's /etc, /usr/local, /var, /tmp, /root
stay its own.  State: /var/run/simhost/jails/NAME.json (survives SSH reconnects, not reboots).
"""
import glob
import os
import re
import subprocess
import sys
import time

import simlib
from simlib import Exit, die, warnx, out

USERLAND = [('/usr/bin', 'usr/bin'), ('/usr/sbin', 'usr/sbin'), ('/usr/lib', 'usr/lib'),
            ('/usr/lib64', 'usr/lib64'), ('/usr/share', 'usr/share'), ('/usr/libexec', 'usr/libexec'),
            ('/usr/bin', 'bin'), ('/usr/sbin', 'sbin'), ('/usr/lib', 'lib'), ('/usr/lib64', 'lib64')]

BOOL_PARAMS = {'persist', 'dying', 'vnet.bool', 'ip4.saddrsel', 'ip6.saddrsel', 'exec.clean',
               'mount.devfs', 'mount.fdescfs', 'mount.procfs', 'ip_hostname', 'allow.dying',
               'zfs.mount_snapshot'}
ALLOW = ('set_hostname sysvipc raw_sockets chflags mount mount.devfs mount.fdescfs mount.fusefs '
         'mount.nullfs mount.procfs mount.linprocfs mount.linsysfs mount.tmpfs mount.zfs quotas '
         'read_msgbuf socket_af mlock nfsd reserved_ports unprivileged_proc_debug suser vmm '
         'extattr adjtime settime routing unprivileged_parent_tampering').split()
for _a in ALLOW:
    BOOL_PARAMS.add('allow.' + _a)
INT_PARAMS = {'jid', 'securelevel', 'devfs_ruleset', 'children.max', 'children.cur', 'enforce_statfs',
              'exec.timeout', 'stop.timeout', 'exec.fib', 'osreldate', 'parent', 'cpuset.id',
              'host.hostid'}
STR_PARAMS = {'name', 'path', 'host.hostname', 'host.domainname', 'host.hostuuid', 'osrelease',
              'exec.prestart', 'exec.created', 'exec.start', 'command', 'exec.poststart', 'exec.prestop',
              'exec.stop', 'exec.poststop', 'exec.jail_user', 'exec.system_jail_user', 'exec.system_user',
              'exec.consolelog', 'interface', 'mount', 'mount.fstab', 'depend', 'vnet.interface',
              'ip4.addr', 'ip6.addr', 'linux.osname', 'linux.osrelease', 'linux.oss_version',
              'zfs.dataset', 'meta', 'env', 'exec.service'}
SYS_PARAMS = {'ip4', 'ip6', 'host', 'vnet', 'sysvmsg', 'sysvsem', 'sysvshm', 'linux'}
LIST_PARAMS = {'ip4.addr', 'ip6.addr', 'exec.prestart', 'exec.created', 'exec.start', 'command',
               'exec.poststart', 'exec.prestop', 'exec.stop', 'exec.poststop', 'mount', 'depend',
               'vnet.interface'}
KERNEL_PARAMS = (INT_PARAMS | {'name', 'path', 'host.hostname', 'host.domainname', 'host.hostuuid',
                               'osrelease', 'ip4.addr', 'ip6.addr', 'persist', 'dying', 'ip4.saddrsel',
                               'ip6.saddrsel', 'linux.osname', 'linux.osrelease', 'linux.oss_version',
                               'meta', 'env'} | SYS_PARAMS | {'allow.' + a for a in ALLOW})


class JailError(Exception):
    pass


def jname_prefix(named, name):
    return '%s: ' % name if named and name else ''


# ============================================================== params
def canon_param(prog, key, value, named, name):
    """-> (key, value) normalised; raises JailError with FreeBSD's message."""
    pre = jname_prefix(named, name)
    k = key
    neg = False
    if value is None:
        # boolean by name: persist, nopersist, allow.nomount, mount.nodevfs, exec.noclean
        if k in BOOL_PARAMS:
            return k, True
        parts = k.split('.')
        if parts[-1].startswith('no'):
            cand = '.'.join(parts[:-1] + [parts[-1][2:]])
            if cand in BOOL_PARAMS:
                return cand, False
        if k in KERNEL_PARAMS or k in STR_PARAMS or k in SYS_PARAMS:
            raise JailError('%s%s: no value' % (pre, k))
        raise JailError('%sunknown parameter: %s' % (pre, k))
    if k in BOOL_PARAMS:
        v = value.lower()
        if v in ('true', 'yes', '1', 'on'):
            return k, True
        if v in ('false', 'no', '0', 'off'):
            return k, False
        raise JailError('%s%s: unknown boolean value "%s"' % (pre, k, value))
    if k in INT_PARAMS:
        if not re.match(r'^-?\d+$', value):
            raise JailError('%s%s: non-integer value "%s"' % (pre, k, value))
        return k, int(value)
    if k in SYS_PARAMS:
        if value not in ('new', 'inherit', 'disable') and not (k == 'vnet' and value in ('new', 'inherit')):
            if k == 'vnet' and value.lower() in ('true', 'false'):
                return k, 'new' if value.lower() == 'true' else 'inherit'
            raise JailError('%s%s: unknown jailsys value "%s"' % (pre, k, value))
        return k, value
    if k in STR_PARAMS:
        return k, value
    raise JailError('%sunknown parameter: %s' % (pre, k))


def parse_ip4(prog, values, params, named, name):
    """ip4.addr values -> [(iface or None, ip, mask or None)]"""
    return [(i, ip, spec.partition('/')[2] or None) for i, ip, spec, _ in parse_ips('ip4.addr', values, params, named, name)]


def parse_ips(key, values, params, named, name):
    """ip4.addr / ip6.addr values ("iface|addr[/mask] [ifconfig params]") ->
    [(iface or None, addr as the kernel prints it, addr[/mask] as written, [params])]."""
    import socket
    pre = jname_prefix(named, name)
    fam = socket.AF_INET if key == 'ip4.addr' else socket.AF_INET6
    res = []
    for v in values:
        for item in [x.strip() for x in v.split(',') if x.strip()]:
            iface = params.get('interface')
            if '|' in item:
                iface, item = item.split('|', 1)
            words = item.split()
            spec = words[0] if words else ''
            ip = spec.partition('/')[0]
            try:
                ip = socket.inet_ntop(fam, socket.inet_pton(fam, ip))
            except (OSError, ValueError):
                raise JailError('%s%s: not an IPv%d address: %s' % (pre, key, 4 if fam == socket.AF_INET else 6, ip))
            res.append((iface, ip, spec, words[1:]))
    return res


def ifconfig_argv(key, iface, spec, extra, down):
    """The ifconfig(8) command jail(8) runs for an ip4.addr/ip6.addr entry (usr.sbin/jail/command.c
    IP__IP4_IFADDR/IP__IP6_IFADDR): before creation with "alias", after removal with "-alias"."""
    argv = ['/sbin/ifconfig', iface]
    addr, slash, mask = spec.partition('/')
    if key == 'ip4.addr':
        argv.append('inet')
        if not slash:
            argv += [addr, 'netmask', '255.255.255.255']
        elif '.' in mask:
            argv += [addr, 'netmask', mask]
        else:
            argv.append(spec)
    else:
        argv += ['inet6', spec]
        if not slash:
            argv += ['prefixlen', '128']
    if not down:
        argv += extra
    argv.append('-alias' if down else 'alias')
    return argv


def alias_cmds(params, named, name):
    """[(iface, up argv, down argv)] for the ip4.addr then ip6.addr entries that name an interface."""
    res = []
    for key in ('ip4.addr', 'ip6.addr'):
        for iface, ip, spec, extra in parse_ips(key, params.get(key, []), params, named, name):
            if iface:
                res.append((iface, ifconfig_argv(key, iface, spec, extra, False),
                            ifconfig_argv(key, iface, spec, extra, True)))
    return res


# ============================================================== jail.conf
class ConfError(Exception):
    pass


def lex(path, text):
    toks = []
    i, n, line = 0, len(text), 1
    while i < n:
        c = text[i]
        if c == '\n':
            line += 1
            i += 1
        elif c.isspace():
            i += 1
        elif c == '#' or text.startswith('//', i):
            while i < n and text[i] != '\n':
                i += 1
        elif text.startswith('/*', i):
            j = text.find('*/', i + 2)
            if j < 0:
                raise ConfError('%s line %d: unterminated comment' % (path, line))
            line += text.count('\n', i, j)
            i = j + 2
        elif c in '{};,':
            toks.append((c, c, line))
            i += 1
        elif c == '=':
            toks.append(('=', '=', line))
            i += 1
        elif text.startswith('+=', i):
            toks.append(('+=', '+=', line))
            i += 2
        elif c == '"':
            j = i + 1
            s = ''
            while j < n and text[j] != '"':
                if text[j] == '\\' and j + 1 < n:
                    j += 1
                    s += {'n': '\n', 't': '\t'}.get(text[j], text[j]) if text[j] != '$' else '\\$'
                else:
                    if text[j] == '\n':
                        line += 1
                    s += text[j]
                j += 1
            if j >= n:
                raise ConfError('%s line %d: unterminated quote' % (path, line))
            toks.append(('dq', s, line))
            i = j + 1
        elif c == "'":
            j = text.find("'", i + 1)
            if j < 0:
                raise ConfError('%s line %d: unterminated quote' % (path, line))
            toks.append(('sq', text[i + 1:j], line))
            line += text.count('\n', i, j)
            i = j + 1
        else:
            j = i
            s = ''
            while j < n and not text[j].isspace() and text[j] not in '{};,="\'':
                if text[j] == '+' and j + 1 < n and text[j + 1] == '=':
                    break
                if text[j] == '$' and j + 1 < n and text[j + 1] == '{':
                    k = text.find('}', j)
                    if k < 0:
                        raise ConfError('%s line %d: unterminated variable' % (path, line))
                    s += text[j:k + 1]
                    j = k + 1
                    continue
                s += text[j]
                j += 1
            toks.append(('word', s, line))
            i = j
    return toks


def parse_conf(path, seen=None, _depth=0):
    """-> list of (scope, key, op, [values...], line, path)."""
    seen = seen or set()
    try:
        text = open(path).read() if path != '-' else sys.stdin.read()
    except OSError as e:
        raise ConfError('%s: %s' % (path, e.strerror))
    toks = lex(path, text)
    res = []
    i = 0
    scope_stack = ['']

    def syntax(tok):
        raise ConfError('%s line %d: %s: syntax error' % (path, tok[2], tok[1]))
    while i < len(toks):
        t = toks[i]
        if t[0] == '}':
            if len(scope_stack) == 1:
                syntax(t)
            scope_stack.pop()
            i += 1
            continue
        if t[0] == ';':
            i += 1
            continue
        if t[0] == 'word' and t[1] == '.include':
            if i + 2 >= len(toks) or toks[i + 1][0] not in ('dq', 'sq', 'word') or toks[i + 2][0] != ';':
                syntax(toks[i + 1] if i + 1 < len(toks) else t)
            pat = toks[i + 1][1]
            if not os.path.isabs(pat):
                pat = os.path.join(os.path.dirname(path), pat)
            files = sorted(glob.glob(pat)) if any(ch in pat for ch in '*?[') else [pat]
            for f in files:
                if f in seen or _depth > 16:
                    continue
                seen.add(f)
                res.extend(parse_conf(f, seen, _depth + 1))
            i += 3
            continue
        if t[0] not in ('word', 'dq', 'sq'):
            syntax(t)
        # block?
        if i + 1 < len(toks) and toks[i + 1][0] == '{':
            if len(scope_stack) > 1:
                syntax(toks[i + 1])
            scope_stack.append(t[1])
            i += 2
            continue
        key = t[1]
        i += 1
        op = None
        vals = []
        if i < len(toks) and toks[i][0] in ('=', '+='):
            op = toks[i][0]
            i += 1
            while True:
                if i >= len(toks):
                    raise ConfError('%s line %d: unexpected EOF' % (path, t[2]))
                if toks[i][0] not in ('word', 'dq', 'sq'):
                    syntax(toks[i])
                vals.append((toks[i][0], toks[i][1]))
                i += 1
                if i < len(toks) and toks[i][0] == ',':
                    i += 1
                    continue
                break
        if i >= len(toks) or toks[i][0] != ';':
            syntax(toks[i] if i < len(toks) else t)
        i += 1
        res.append((scope_stack[-1], key, op, vals, t[2], path))
    if len(scope_stack) > 1:
        raise ConfError('%s line %d: unexpected EOF' % (path, toks[-1][2] if toks else 1))
    return res


def conf_jail_names(entries):
    names = []
    for scope, *_ in entries:
        if scope not in ('', '*') and scope not in names:
            names.append(scope)
    return names


def _subst(val, kind, variables, params, name, key):
    if kind == 'sq':
        return val

    def rep(m):
        v = m.group(1) or m.group(2)
        if v in variables:
            return variables[v]
        if v == 'name':
            return name
        if v in params:
            pv = params[v]
            return ','.join(pv) if isinstance(pv, list) else str(pv)
        raise JailError('%s: %s: variable "%s" not found' % (name, key, v))
    s = re.sub(r'(?<!\\)\$(?:\{([^}]+)\}|([A-Za-z_][A-Za-z0-9_]*))', rep, val)
    return s.replace('\\$', '$')


def conf_params(entries, name):
    """Raw (key, op, values) list for jail NAME: globals, '*', then NAME's block."""
    sel = [e for e in entries if e[0] in ('', '*')] + [e for e in entries if e[0] == name]
    variables = {}
    raw = {}
    order = []
    for scope, key, op, vals, line, path in sel:
        if key.startswith('$'):
            variables[key[1:].strip('{}')] = ''.join(v for _, v in vals)
            continue
        resolved = [_subst(v, kind, variables, raw, name, key) for kind, v in vals]
        if op is None:
            raw[key] = None
        elif op == '+=' and key in raw and isinstance(raw[key], list):
            raw[key] = raw[key] + resolved
        else:
            raw[key] = resolved
        if key not in order:
            order.append(key)
    return raw


def build_params(raw, named, name):
    """raw {key: None | [values]} -> canonical dict; raises JailError."""
    params = {}
    for key, vals in raw.items():
        if vals is None:
            k, v = canon_param('jail', key, None, named, name)
            params[k] = v
            continue
        if key in LIST_PARAMS:
            params[key] = list(vals)
            continue
        k, v = canon_param('jail', key, ','.join(vals), named, name)
        params[k] = v
    return params


# ============================================================== state
def jail_file(name):
    return os.path.join(simlib.JAILS, name + '.json')


def save_jail(j):
    simlib.write_json(jail_file(j['name']), j)


def all_jails(reap=True):
    res = []
    try:
        names = sorted(os.listdir(simlib.JAILS))
    except OSError:
        return res
    for f in names:
        if f.endswith('.json'):
            j = simlib.read_json(os.path.join(simlib.JAILS, f))
            if j:
                res.append(j)
    if reap:
        live = []
        for j in res:
            if not j.get('persist') and j.get('state') == 'ACTIVE' and not simlib.jail_procs(j['path'], j.get('netns_path')):
                try:
                    teardown(j, conf=None)
                except Exception:
                    pass
                continue
            live.append(j)
        res = live
    res.sort(key=lambda j: j['jid'])
    return res


def find_jail(key, reap=True):
    for j in all_jails(reap):
        if j['name'] == key or (key.isdigit() and j['jid'] == int(key)):
            return j
    return None


def not_found_msg(key):
    return 'jail %s not found' % key if key.isdigit() else 'jail "%s" not found' % key


def next_jid():
    p = simlib.RUN + '/nextjid'
    try:
        n = int(open(p).read())
    except (OSError, ValueError):
        n = 1
    with open(p, 'w') as f:
        f.write(str(n + 1))
    return n


# ============================================================== runtime
def ipcmd(args, ns=None, check=True, stdin=None):
    argv = ['/usr/sbin/ip'] + (['-n', ns] if ns else []) + args
    r = subprocess.run(argv, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and r.returncode != 0:
        raise JailError('jail_set: %s (%s)' % (r.stderr.strip(), ' '.join(args)))
    return r


def make_uts(path, hostname):
    """New UTS namespace pinned by a bind mount on PATH."""
    import ctypes
    open(path, 'w').close()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(w)
            if simlib.libc().unshare(0x04000000) != 0:
                os._exit(1)
            socket_sethostname(hostname)
            os.read(r, 1)
        finally:
            os._exit(0)
    os.close(r)
    try:
        time.sleep(0.001)
        for _ in range(200):
            if os.stat('/proc/%d/ns/uts' % pid).st_ino != os.stat('/proc/self/ns/uts').st_ino:
                break
            time.sleep(0.002)
        simlib.sys_mount('/proc/%d/ns/uts' % pid, path, None, simlib.MS_BIND)
    finally:
        os.close(w)
        os.waitpid(pid, 0)


def socket_sethostname(h):
    import socket
    socket.sethostname(h[:63])


def v6only():
    """net.inet6.ip6.v6only (FreeBSD default 1: an AF_INET6 socket bound to :: is IPv6-only
    unless the program clears IPV6_V6ONLY), applied as Linux's net.ipv6.bindv6only."""
    st = simlib.read_json(simlib.RUN + '/sysctl.json', {}) or {}
    return '0' if str(st.get('net.inet6.ip6.v6only', '1')).strip() == '0' else '1'


def set_bindv6only(netns_path, value):
    """Write net.ipv6.bindv6only inside a network namespace (/proc/sys/net is per netns)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            if netns_path:
                simlib.setns(netns_path, simlib.CLONE_NEWNET)
            with open('/proc/sys/net/ipv6/bindv6only', 'w') as f:
                f.write(value)
            code = 0
        except Exception:
            pass
        os._exit(code)
    os.waitpid(pid, 0)


def setup_network(j):
    """The jail's netns: jeth0 carries its ip4.addr (/32) and ip6.addr (/128, nodad); the host side
    vjJID gets /32 and /128 routes, proxy ARP for the jail's IPv4 neighbours and the link-local
    fe80::1 that is the jail's IPv6 default router (no addresses of the jail on the host)."""
    jid = j['jid']
    ns = 'sj%d' % jid
    j['netns'] = ns
    j['netns_path'] = '/run/netns/' + ns
    ipcmd(['netns', 'add', ns])
    hv = 'vj%d' % jid
    ip6 = j.get('ip6', [])
    ipcmd(['link', 'add', hv, 'type', 'veth', 'peer', 'name', 'jeth0', 'netns', ns])
    # no kernel-generated link-locals (no DAD wait): the host side has exactly fe80::1
    batch = 'link set lo up\nlink set jeth0 addrgenmode none\nlink set jeth0 up\n'
    for ip in j['ip4']:
        batch += 'addr add %s/32 dev jeth0\n' % ip
    if j['ip4']:
        batch += 'route add default dev jeth0\n'
    for ip in ip6:
        batch += 'addr add %s/128 dev jeth0 nodad\n' % ip
    if ip6:
        batch += 'route add default via fe80::1 dev jeth0\n'
    ipcmd(['-batch', '-'], ns=ns, stdin=batch)
    set_bindv6only(j['netns_path'], v6only())
    try:
        with open('/proc/sys/net/ipv4/conf/%s/proxy_arp' % hv, 'w') as f:
            f.write('1')
    except OSError:
        pass
    hb = 'link set %s addrgenmode none\nlink set %s up\n' % (hv, hv)
    for ip in j['ip4']:
        hb += 'route add %s/32 dev %s\n' % (ip, hv)
    if ip6:
        hb += 'addr add fe80::1/64 dev %s nodad\n' % hv
        for ip in ip6:
            hb += 'route add %s/128 dev %s\n' % (ip, hv)
    ipcmd(['-batch', '-'], stdin=hb)
    if ip6:
        # jail-to-jail IPv6 goes through the host namespace, as IPv4 does (ip_forward=1)
        try:
            with open('/proc/sys/net/ipv6/conf/all/forwarding', 'w') as f:
                f.write('1')
        except OSError:
            pass


def teardown_network(j):
    if j.get('netns'):
        ipcmd(['netns', 'del', j['netns']], check=False)


def preload_noinet6(j):
    """IPv4-only jail: make socket(AF_INET6) fail (EPROTONOSUPPORT) via the jail's ld.so.preload."""
    src = '/usr/libexec/simhost/ld.so.preload.jail'
    params = j.get('params', {})
    if params.get('ip6') in ('new', 'inherit') or params.get('ip6.addr') or not os.path.exists(src):
        return []
    tgt = os.path.join(j['path'], 'etc', 'ld.so.preload')
    if not os.path.isdir(os.path.dirname(tgt)) or os.path.islink(tgt):
        return []
    if not os.path.exists(tgt):
        open(tgt, 'w').close()
        j['created_files'] = j.get('created_files', []) + [tgt]
    elif os.path.getsize(tgt):
        return []
    simlib.bind_ro(src, tgt)
    return [tgt]


def mount_userland(j):
    pts = []
    root = j['path']
    for src, rel in USERLAND:
        if not os.path.exists(src):
            continue
        tgt = os.path.join(root, rel)
        if os.path.islink(tgt):
            continue
        os.makedirs(tgt, exist_ok=True)
        simlib.bind_ro(src, tgt)
        pts.append(tgt)
    return pts


def jail_env(j, clean, user='root', home='/root', shell='/bin/sh'):
    if clean:
        env = {'PATH': '/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin:%s/bin' % home,
               'HOME': home, 'USER': user, 'SHELL': shell, 'LOGNAME': user}
        if 'TERM' in os.environ:
            env['TERM'] = os.environ['TERM']
        return env
    return dict(os.environ)


def enter_jail(j):
    """In a child: join the jail's namespaces and chroot."""
    if j.get('netns_path'):
        simlib.setns(j['netns_path'], simlib.CLONE_NEWNET)
    if j.get('uts_path'):
        simlib.setns(j['uts_path'], 0x04000000)
    os.chroot(j['path'])
    os.chdir('/')


def cmd_argv(s):
    if any(ch in s for ch in '!"$&\'()*;<>?[\\]`{|}~'):
        return ['/bin/sh', '-c', s]
    return s.split()


CONSOLELOG = {'path': None}


def _redirect_consolelog():
    if CONSOLELOG['path']:
        fd = os.open(CONSOLELOG['path'], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)


def run_in_jail(j, cmd, env):
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        try:
            _redirect_consolelog()
            enter_jail(j)
            argv = cmd_argv(cmd)
            os.execvpe(argv[0], argv, env)
        except OSError as e:
            sys.stderr.write('jail: %s: %s\n' % (cmd, e.strerror))
        os._exit(127)
    _, st = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(st)


def run_on_host(cmd, env):
    sys.stdout.flush()
    sys.stderr.flush()
    argv = cmd_argv(cmd)
    try:
        if CONSOLELOG['path']:
            with open(CONSOLELOG['path'], 'ab') as f:
                return subprocess.call(argv, env=env, stdout=f, stderr=f)
        return subprocess.call(argv, env=env)
    except OSError:
        return 127


def _fail_cmd(pre, cmd, rc):
    if rc < 0:
        return '%s%s: exited on signal %d' % (pre, cmd, -rc)
    return '%s%s: failed' % (pre, cmd)


def create(params, named, opts):
    name = params.get('name')
    pre = jname_prefix(named, name)
    if name and find_jail(name):
        raise JailError('"%s" already exists' % name)
    path = params.get('path')
    if path is None:
        raise JailError('%spath: no value (simhost requires path)' % pre)
    if named and not os.path.isabs(path):
        raise JailError('%spath %s: not an absolute pathname' % (pre, path))
    if not os.path.exists(path):
        raise JailError('%spath %s: No such file or directory' % (pre, path))
    if not os.path.isdir(path):
        raise JailError('%spath %s: Not a directory' % (pre, path))
    path = os.path.realpath(path)
    ip4 = parse_ip4('jail', params.get('ip4.addr', []), params, named, name)
    ip6 = [ip for _, ip, _, _ in parse_ips('ip6.addr', params.get('ip6.addr', []), params, named, name)]
    cmds = alias_cmds(params, named, name)
    for other in all_jails(reap=False):
        if any(ip in other.get('ip4', []) for _, ip, _ in ip4) or any(ip in other.get('ip6', []) for ip in ip6):
            raise JailError('jail_set: Address already in use')
    jid = next_jid()
    if not name:
        name = str(jid)
    if not params.get('persist') and not params.get('exec.start') and not params.get('command'):
        # jail(8) sets persist only while it runs commands: with nothing to run the jail
        # is created and immediately goes away.
        return None
    env_clean = bool(params.get('exec.clean'))
    CONSOLELOG['path'] = params.get('exec.consolelog')
    host_env = dict(os.environ)
    j = {'jid': jid, 'name': name, 'path': path, 'named': named,
         'hostname': params.get('host.hostname') or os.uname().nodename,
         'ip4': [ip for _, ip, _ in ip4], 'ip6': ip6,
         'alias_cmds': [[i, up, down] for i, up, down in cmds],
         'persist': bool(params.get('persist')), 'params': _jsonable(params), 'state': 'STARTING',
         'sim_mounts': [], 'fsmounts': [], 'created': time.time()}
    os.makedirs(simlib.JAILS, exist_ok=True)
    done = []  # undo stack for failures
    try:
        # 1. ip aliases (host side bookkeeping, like jail(8) running ifconfig)
        for iface, cmd, down in cmds:
            sys.stdout.flush()
            rc = subprocess.call(cmd)
            if rc != 0:
                raise JailError(_fail_cmd(pre, ' '.join(cmd), rc))
            done.append(('alias', down))
        save_jail(j)
        done.append(('state',))
        # 2. userland (simulation) + mounts
        j['sim_mounts'] = mount_userland(j)
        save_jail(j)
        j['sim_mounts'] += preload_noinet6(j)
        save_jail(j)
        for line in params.get('mount', []):
            _fstab_mount(j, line, pre)
        if params.get('mount.fstab'):
            try:
                for line in open(params['mount.fstab']):
                    if line.strip() and not line.strip().startswith('#'):
                        _fstab_mount(j, line, pre)
            except OSError as e:
                raise JailError('%smount.fstab: %s: %s' % (pre, params['mount.fstab'], e.strerror))
        if params.get('mount.devfs'):
            dev = os.path.join(path, 'dev')
            if not os.path.isdir(dev):
                raise JailError('%smount.devfs: %s: No such file or directory' % (pre, dev))
            import cmd_basic
            pts = cmd_basic.devfs_populate(dev)
            j['fsmounts'].append({'type': 'devfs', 'src': 'devfs', 'target': dev, 'points': pts,
                                  'conf': 'mount.devfs', 't': time.time()})
            save_jail(j)
        if params.get('mount.procfs'):
            p = os.path.join(path, 'proc')
            if not os.path.isdir(p):
                raise JailError('%smount.procfs: %s: No such file or directory' % (pre, p))
            simlib.sys_mount('proc', p, 'proc', simlib.MS_NOSUID | simlib.MS_NODEV | simlib.MS_NOEXEC)
            j['fsmounts'].append({'type': 'procfs', 'src': 'procfs', 'target': p, 'points': [p], 'conf': 'mount.procfs',
                                  't': time.time()})
            save_jail(j)
        # 3. exec.prestart (host)
        penv = dict(host_env)
        for c in params.get('exec.prestart', []):
            rc = run_on_host(c, penv)
            if rc != 0:
                raise JailError(_fail_cmd(pre, c, rc))
        # 4. create: namespaces
        j['uts_path'] = os.path.join(simlib.JAILS, '%s.uts' % name)
        make_uts(j['uts_path'], j['hostname'])
        if params.get('ip4') == 'inherit':
            j['netns'] = None
            j['netns_path'] = None
        else:
            setup_network(j)
        j['state'] = 'ACTIVE'
        save_jail(j)
        penv.update({'JID': str(jid), 'JNAME': name, 'JPATH': path})
        for c in params.get('exec.created', []):
            rc = run_on_host(c, penv)
            if rc != 0:
                raise JailError(_fail_cmd(pre, c, rc))
        jenv = jail_env(j, env_clean)
        for c in params.get('exec.start', []) + params.get('command', []):
            rc = run_in_jail(j, c, jenv)
            if rc != 0:
                raise JailError(_fail_cmd(pre, c, rc))
        for c in params.get('exec.poststart', []):
            rc = run_on_host(c, penv)
            if rc != 0:
                raise JailError(_fail_cmd(pre, c, rc))
    except (JailError, OSError) as e:
        if isinstance(e, OSError):
            e = JailError('%s%s' % (pre, e))
        try:
            if ('state',) in done:
                teardown(j, conf=None, run_cmds=False, undo_all=True)
            else:
                for d in reversed(done):
                    if d[0] == 'alias':
                        subprocess.call(d[1], stderr=subprocess.DEVNULL)
        except Exception:
            pass
        raise e
    if not j['persist'] and not simlib.jail_procs(path, j.get('netns_path')):
        teardown(j, conf=None, undo_all=True)
    return j


def _fstab_mount(j, line, pre):
    f = line.split()
    if len(f) < 3:
        raise JailError('%smount: %s: syntax error' % (pre, line.strip()))
    src, tgt, typ = f[0], f[1], f[2]
    opts = f[3].split(',') if len(f) > 3 else []
    if not os.path.isdir(tgt):
        raise JailError('%smount: %s: No such file or directory' % (pre, tgt))
    import cmd_basic
    if typ not in cmd_basic.FSTYPES:
        raise JailError('%smount: %s: Operation not supported by device' % (pre, src))
    pts = cmd_basic.do_mount(typ, src, os.path.realpath(tgt), 'ro' in opts)
    j['fsmounts'].append({'type': typ, 'src': os.path.realpath(src) if typ == 'nullfs' else src,
                          'target': os.path.realpath(tgt), 'points': pts, 'conf': 'mount', 'ro': 'ro' in opts,
                          't': time.time()})
    save_jail(j)


def _jsonable(params):
    return {k: v for k, v in params.items()}


def teardown(j, conf, run_cmds=True, undo_all=False, timeout=None, quiet_fail=False):
    """Remove a running jail. conf = params from the config file (None: not in any config,
    as for command-line jails: then exec.stop/poststop, conf mounts and ip aliases are NOT
    undone, like FreeBSD's jail -r)."""
    name = j['name']
    pre = jname_prefix(j.get('named'), name)
    errs = []
    p = conf if conf is not None else ({} if not undo_all else j.get('params', {}))
    CONSOLELOG['path'] = p.get('exec.consolelog')
    env = dict(os.environ)
    env.update({'JID': str(j['jid']), 'JNAME': name, 'JPATH': j['path']})
    if run_cmds and conf is not None:
        for c in p.get('exec.prestop', []):
            rc = run_on_host(c, env)
            if rc != 0:
                errs.append(_fail_cmd(pre, c, rc))
        jenv = jail_env(j, bool(p.get('exec.clean')))
        for c in p.get('exec.stop', []):
            rc = run_in_jail(j, c, jenv)
            if rc != 0:
                errs.append(_fail_cmd(pre, c, rc))
    to = timeout if timeout is not None else int(p.get('stop.timeout', 10))
    simlib.kill_and_wait(simlib.jail_procs(j['path'], j.get('netns_path')), timeout=to)
    teardown_network(j)
    if j.get('uts_path'):
        try:
            simlib.sys_umount(j['uts_path'], simlib.MNT_DETACH)
        except OSError:
            pass
        try:
            os.unlink(j['uts_path'])
        except OSError:
            pass
    if run_cmds and conf is not None:
        for c in p.get('exec.poststop', []):
            rc = run_on_host(c, env)
            if rc != 0:
                errs.append(_fail_cmd(pre, c, rc))
    import cmd_basic
    keep = []
    for m in reversed(j.get('fsmounts', [])):
        undo = undo_all or (conf is not None and (
            (m['conf'] == 'mount.devfs' and p.get('mount.devfs')) or
            (m['conf'] == 'mount.procfs' and p.get('mount.procfs')) or
            (m['conf'] == 'mount' and (p.get('mount') or p.get('mount.fstab')))))
        if undo:
            cmd_basic.undo_mounts(m['points'])
        else:
            keep.append(m)
    cmd_basic.undo_mounts(j.get('sim_mounts', []))
    for f in j.get('created_files', []):
        try:
            if os.path.getsize(f) == 0:
                os.unlink(f)
        except OSError:
            pass
    if keep:
        # like FreeBSD: mounts the config doesn't know about stay mounted
        with simlib.Lock(simlib.RUN + '/.mlock'):
            ms = simlib.read_json(cmd_basic.MOUNTS, [])
            for m in reversed(keep):
                ms.append({'type': m['type'], 'src': m['src'], 'target': m['target'], 'points': m['points'],
                           'ro': m.get('ro', False), 't': m.get('t', 0)})
            simlib.write_json(cmd_basic.MOUNTS, ms)
    aliases = j.get('alias_cmds', [])
    if undo_all or conf is not None:
        if conf is not None and not undo_all:
            try:
                aliases = [[i, up, down] for i, up, down in alias_cmds(conf, True, name)]
            except JailError:
                aliases = []
        for iface, _, down in reversed(aliases):
            subprocess.call(down, stderr=subprocess.DEVNULL)
    try:
        os.unlink(jail_file(name))
    except OSError:
        pass
    return errs


# ============================================================== jail(8)
JAIL_USAGE = ('usage: jail [-dhilqv] [-J jid_file] [-u username] [-U username]\n'
              '            -[cmr] param=value ... [command=command ...]\n'
              '       jail [-dqv] [-f conf_file] -[cmr] [jail]\n'
              '       jail [-qv] [-f conf_file] -[rR] [\'*\' | jail ...]\n'
              '       jail [-dhilqv] [-J jid_file] [-u username] [-U username]\n'
              '            [-n jailname] [-s securelevel]\n'
              '            path hostname ip[,...] command ...\n')


def jail(argv):
    prog = 'jail'

    def usage():
        sys.stderr.write(JAIL_USAGE)
    opts, rest = simlib.getopt_bsd(prog, argv, 'cde:f:hiJ:lmn:p:qrRs:u:U:v', usage)
    d = {}
    for o, v in opts:
        d[o] = v
    if not simlib.in_host():
        die(prog, 'jail_set: Operation not permitted')
    create_f = 'c' in d
    modify = 'm' in d
    remove = 'r' in d or 'R' in d
    quiet = 'q' in d or 'i' in d
    if not (create_f or modify or remove):
        if len(rest) < 4 or not rest[0].startswith('/'):
            usage()
            raise Exit(1)
        die(prog, 'simhost: the old positional form (path hostname ip command) is not simulated')
    if remove and not rest:
        usage()
        raise Exit(1)
    cmdline = len(rest) > 1 or (len(rest) == 1 and '=' in rest[0])
    if 'R' in d and 'f' in d:
        usage()
        raise Exit(1)
    if remove and not create_f and cmdline and any('=' in a for a in rest) and 'R' not in d:
        usage()
        raise Exit(1)
    with simlib.Lock(simlib.RUN + '/.jail.lock'):
        if create_f and cmdline:
            return jail_cmdline(d, rest, remove, modify)
        # config mode (or -r names)
        cfname = d.get('f', '/etc/jail.conf')
        entries = None
        if not (remove and not create_f and 'R' in d):
            if create_f or modify or 'f' in d or os.path.exists(cfname):
                try:
                    entries = parse_conf(cfname)
                except ConfError as e:
                    if remove and not create_f and 'f' not in d:
                        entries = None
                    else:
                        die(prog, str(e))
        rc = 0
        if remove:
            names = rest if rest else []
            if names == ['*']:
                names = [j['name'] for j in all_jails()]
            for nm in names:
                j = find_jail(nm)
                conf_names = conf_jail_names(entries) if entries else []
                in_conf = nm in conf_names
                if not j:
                    if not (in_conf and quiet):
                        warnx(prog, '"%s" not found' % nm if not nm.isdigit() else '%s not found' % nm)
                    rc = 1
                    continue
                conf = None
                if in_conf and 'R' not in d:
                    try:
                        conf = build_params(conf_params(entries, j['name']), True, j['name'])
                    except JailError as e:
                        warnx(prog, str(e))
                        rc = 1
                        continue
                errs = teardown(j, conf, run_cmds='R' not in d)
                for e in errs:
                    warnx(prog, e)
                    rc = 1
                if not quiet and (entries is not None or len(names) > 1 or rest == ['*']) and 'R' not in d:
                    out('%s: removed\n' % j['name'])
                if create_f:
                    rc |= _conf_create(entries, [nm], d)
            return rc
        if create_f or modify:
            names = rest or conf_jail_names(entries)
            if names == ['*']:
                names = conf_jail_names(entries)
            return _conf_create(entries, names, d, modify_only=modify and not create_f, modify=modify)
    return 0


def _conf_create(entries, names, d, modify_only=False, modify=False):
    prog = 'jail'
    rc = 0
    quiet = 'q' in d or 'i' in d
    known = conf_jail_names(entries or [])
    for nm in names:
        if nm not in known:
            warnx(prog, '"%s" not found' % nm)
            rc = 1
            continue
        try:
            raw = conf_params(entries, nm)
            params = build_params(raw, True, nm)
        except JailError as e:
            warnx(prog, str(e))
            rc = 1
            continue
        params['name'] = nm
        if d.get('l') is not None or 'l' in d:
            params['exec.clean'] = True
        existing = find_jail(nm)
        if existing:
            if modify:
                try:
                    _modify(existing, params, True)
                except JailError as e:
                    warnx(prog, str(e))
                    rc = 1
                    continue
                if not quiet:
                    out('%s: updated\n' % nm)
                continue
            warnx(prog, '"%s" already exists' % nm)
            rc = 1
            continue
        if modify_only:
            warnx(prog, '"%s" not found' % nm)
            rc = 1
            continue
        try:
            j = create(params, True, d)
        except JailError as e:
            warnx(prog, str(e))
            rc = 1
            continue
        if 'i' in d and j:
            out('%d\n' % j['jid'])
        elif not quiet:
            out('%s: created\n' % nm)
        if 'J' in d and j:
            with open(d['J'], 'w') as f:
                f.write('jid=%d name=%s path=%s\n' % (j['jid'], j['name'], j['path']))
    return rc


def _modify(j, params, named):
    pre = jname_prefix(named, j['name'])
    for k in ('path', 'vnet', 'ip4', 'ip6'):
        if k in params and params[k] != j['params'].get(k) and not (k == 'path' and os.path.realpath(params[k]) == j['path']):
            raise JailError('%s%s cannot be changed after creation' % (pre, k))
    if 'host.hostname' in params:
        j['hostname'] = params['host.hostname']
    if 'persist' in params:
        j['persist'] = bool(params['persist'])
    if 'ip4.addr' in params:
        new = [ip for _, ip, _ in parse_ip4('jail', params['ip4.addr'], params, named, j['name'])]
        if j.get('netns'):
            for ip in set(j['ip4']) - set(new):
                ipcmd(['addr', 'del', '%s/32' % ip, 'dev', 'jeth0'], ns=j['netns'], check=False)
                ipcmd(['route', 'del', '%s/32' % ip], check=False)
            for ip in set(new) - set(j['ip4']):
                ipcmd(['addr', 'add', '%s/32' % ip, 'dev', 'jeth0'], ns=j['netns'])
                ipcmd(['route', 'add', '%s/32' % ip, 'dev', 'vj%d' % j['jid']])
        j['ip4'] = new
    if 'ip6.addr' in params:
        new = [ip for _, ip, _, _ in parse_ips('ip6.addr', params['ip6.addr'], params, named, j['name'])]
        if j.get('netns'):
            hv = 'vj%d' % j['jid']
            for ip in set(j.get('ip6', [])) - set(new):
                ipcmd(['addr', 'del', '%s/128' % ip, 'dev', 'jeth0'], ns=j['netns'], check=False)
                ipcmd(['-6', 'route', 'del', '%s/128' % ip], check=False)
            if new and not j.get('ip6'):
                ipcmd(['addr', 'add', 'fe80::1/64', 'dev', hv, 'nodad'], check=False)
                ipcmd(['-6', 'route', 'add', 'default', 'via', 'fe80::1', 'dev', 'jeth0'], ns=j['netns'], check=False)
            for ip in set(new) - set(j.get('ip6', [])):
                ipcmd(['addr', 'add', '%s/128' % ip, 'dev', 'jeth0', 'nodad'], ns=j['netns'])
                ipcmd(['-6', 'route', 'add', '%s/128' % ip, 'dev', hv])
        j['ip6'] = new
    j['params'].update(_jsonable(params))
    save_jail(j)


def jail_cmdline(d, rest, remove, modify):
    prog = 'jail'
    raw = {}
    command = []
    i = 0
    while i < len(rest):
        a = rest[i]
        if a.startswith('command='):
            command = [a[len('command='):]] + rest[i + 1:]
            break
        if '=' in a:
            k, v = a.split('=', 1)
            if k.endswith('+'):
                k = k[:-1]
                raw.setdefault(k, [])
                raw[k] = (raw[k] or []) + [v]
            elif k in LIST_PARAMS and k in raw and raw[k] is not None and k not in ('ip4.addr', 'ip6.addr'):
                raw[k].append(v)
            else:
                raw[k] = [v]
        else:
            raw[a] = None
        i += 1
    try:
        params = build_params(raw, False, None)
    except JailError as e:
        die(prog, str(e))
    if command:
        params['command'] = [' '.join(command)] if len(command) > 1 else command
    if 'l' in d:
        params['exec.clean'] = True
    name = params.get('name')
    existing = find_jail(name) if name else None
    if existing and modify:
        try:
            _modify(existing, params, False)
        except JailError as e:
            die(prog, str(e))
        return 0
    if existing and remove:
        teardown(existing, None)
        existing = None
    try:
        j = create(params, False, d)
    except JailError as e:
        die(prog, str(e))
    if j and 'i' in d:
        out('%d\n' % j['jid'])
    if j and 'J' in d:
        with open(d['J'], 'w') as f:
            f.write('jid=%d name=%s path=%s\n' % (j['jid'], j['name'], j['path']))
    return 0


# ============================================================== jls(8)
def jail_param_value(j, p):
    params = j.get('params', {})
    if p == 'jid':
        return j['jid']
    if p == 'name':
        return j['name']
    if p == 'path':
        return j['path']
    if p == 'host.hostname':
        return j['hostname']
    if p == 'ip4.addr':
        return ','.join(j['ip4'])
    if p == 'ip6.addr':
        return ','.join(j.get('ip6', []))
    if p == 'persist':
        return bool(j.get('persist'))
    if p == 'dying':
        return False
    if p == 'parent':
        return 0
    if p == 'vnet':
        return 'inherit'
    if p == 'ip4':
        return 'inherit' if params.get('ip4') == 'inherit' else ('new' if j['ip4'] else 'disable')
    if p == 'ip6':
        return 'inherit' if params.get('ip6') == 'inherit' else ('new' if j.get('ip6') or params.get('ip6') == 'new' else 'disable')
    if p in ('host', 'sysvmsg', 'sysvsem', 'sysvshm', 'linux'):
        return params.get(p, 'new' if p == 'host' else 'disable')
    if p == 'securelevel':
        return params.get(p, -1)
    if p == 'devfs_ruleset':
        return params.get(p, 4 if params.get('mount.devfs') else 0)
    if p == 'enforce_statfs':
        return params.get(p, 2)
    if p in ('children.max', 'children.cur'):
        return params.get(p, 0)
    if p == 'osrelease':
        return params.get(p, simlib.OSRELEASE)
    if p == 'osreldate':
        return params.get(p, 1403000)
    if p == 'host.domainname':
        return params.get(p, '')
    if p == 'host.hostuuid':
        return params.get(p, '00000000-0000-0000-0000-000000000000')
    if p == 'host.hostid':
        return params.get(p, 0)
    if p == 'cpuset.id':
        return j['jid'] + 1
    if p.startswith('allow.'):
        return bool(params.get(p, p == 'allow.set_hostname' or p == 'allow.reserved_ports' and False))
    if p in ('meta', 'env', 'linux.osname', 'linux.osrelease', 'linux.oss_version'):
        return params.get(p, '')
    if p == 'ip4.saddrsel':
        return True
    if p == 'ip6.saddrsel':
        return True
    raise KeyError(p)


ALL_JLS_PARAMS = ['devfs_ruleset', 'enforce_statfs', 'host', 'ip4', 'ip6', 'jid', 'meta', 'name',
                  'osreldate', 'osrelease', 'parent', 'path', 'persist', 'securelevel', 'sysvmsg',
                  'sysvsem', 'sysvshm', 'vnet', 'allow.chflags', 'allow.mlock', 'allow.mount',
                  'allow.mount.devfs', 'allow.mount.nullfs', 'allow.mount.procfs', 'allow.mount.tmpfs',
                  'allow.quotas', 'allow.raw_sockets', 'allow.reserved_ports', 'allow.set_hostname',
                  'allow.socket_af', 'allow.suser', 'allow.sysvipc', 'children.cur', 'children.max',
                  'cpuset.id', 'host.domainname', 'host.hostid', 'host.hostname', 'host.hostuuid',
                  'ip4.addr', 'ip4.saddrsel', 'ip6.addr', 'ip6.saddrsel']


def _fmt_val(p, v, nflag, qflag):
    if isinstance(v, bool):
        if nflag:
            if p.startswith('allow.'):
                return p if v else 'allow.no' + p[6:]
            return p if v else 'no' + p
        return 'true' if v else 'false'
    s = str(v)
    if qflag and (s == '' or any(c.isspace() for c in s)):
        s = '"%s"' % s
    elif s == '' and not nflag:
        s = '-'
    if nflag:
        return '%s=%s' % (p, s)
    return s


def jls(argv):
    prog = 'jls'

    def usage():
        sys.stderr.write('usage: jls [-dhNnqsv] [-j jail] [param ...]\n')
    opts, rest = simlib.getopt_bsd(prog, argv, 'adj:hNnqsv', usage)
    d = {}
    for o, v in opts:
        d[o] = v
    jails = all_jails()
    if 'j' in d:
        k = d['j']
        jails = [j for j in jails if j['name'] == k or (k.isdigit() and j['jid'] == int(k))]
        if not jails:
            die(prog, not_found_msg(k))
    params = list(rest)
    for p in params:
        if p not in ALL_JLS_PARAMS and p != 'all' and p not in ('dying', 'children.cur') \
                and not (p.startswith('allow.') and p[6:] in ALLOW) and p not in KERNEL_PARAMS:
            die(prog, 'unknown parameter: %s' % p)
    nflag, qflag = 'n' in d, 'q' in d
    if 's' in d:
        nflag = qflag = True
        if not params:
            params = [p for p in ALL_JLS_PARAMS if p not in ('jid', 'parent', 'children.cur', 'cpuset.id', 'dying')]
    if nflag and not params:
        params = list(ALL_JLS_PARAMS)
    if params:
        if 'h' in d:
            out(' '.join(params) + '\n')
        for j in jails:
            out(' '.join(_fmt_val(p, jail_param_value(j, p), nflag, qflag) for p in params) + '\n')
        return 0
    if 'v' in d:
        out('   JID  Hostname                      Path\n'
            '        Name                          State\n'
            '        CPUSetID\n'
            '        IP Address(es)\n')
        for j in jails:
            out('%6d  %-29s %s\n' % (j['jid'], j['hostname'], j['path']))
            out('        %-29s %s\n' % (j['name'], 'ACTIVE'))
            out('        %d\n' % (j['jid'] + 1))
            for ip in j['ip4'] + j.get('ip6', []):
                out('        %s\n' % ip)
        return 0
    if 'N' in d:
        out(' JID             IP Address      Hostname                      Path\n')
        for j in jails:
            out(' %-15s %-15s %-29s %s\n' % (j['name'], (j['ip4'] or [''])[0], j['hostname'], j['path']))
    else:
        out('   JID  IP Address      Hostname                      Path\n')
        for j in jails:
            out('%6d  %-15s %-29s %s\n' % (j['jid'], (j['ip4'] or [''])[0], j['hostname'], j['path']))
    return 0


# ============================================================== jexec(8)
def jexec(argv):
    prog = 'jexec'

    def usage():
        sys.stderr.write('usage: jexec [-l] [-u username | -U username] jail [command ...]\n')
    opts, rest = simlib.getopt_bsd(prog, argv, 'dlnu:U:', usage)
    d = {}
    for o, v in opts:
        d[o] = v
    if not rest or ('u' in d and 'U' in d):
        usage()
        raise Exit(1)
    if not simlib.in_host():
        die(prog, 'jail_attach(%s): Operation not permitted' % rest[0])
    key = rest[0]
    cmd = rest[1:]
    j = find_jail(key)
    if not j:
        die(prog, not_found_msg(key))
    import pwd
    user = d.get('u') or d.get('U') or 'root'
    uid = gid = 0
    home, shell = '/root', '/bin/sh'
    if 'u' in d:
        try:
            pw = pwd.getpwnam(user)
        except KeyError:
            die(prog, '%s: no such user' % user)
        uid, gid, home, shell = pw.pw_uid, pw.pw_gid, pw.pw_dir, pw.pw_shell
    sys.stdout.flush()
    try:
        enter_jail(j)
    except OSError as e:
        die(prog, 'jail_attach(%d): %s' % (j['jid'], e.strerror))
    if 'U' in d or user != 'root':
        if 'U' in d:
            pw = _jail_pw(user)
            if pw is None:
                die(prog, '%s: no such user' % user)
            uid, gid, home, shell = pw
        try:
            os.setgroups([gid])
            os.setgid(gid)
            os.setuid(uid)
        except OSError as e:
            die(prog, 'setusercontext: %s' % e.strerror)
    else:
        pw = _jail_pw('root')
        if pw:
            home, shell = pw[2], pw[3]
    if 'l' in d:
        env = jail_env(j, True, user, home, shell)
        try:
            os.chdir(home)
        except OSError:
            pass
    else:
        env = dict(os.environ)
    if not cmd:
        sh = env.get('SHELL') or '/bin/sh'
        cmd = [sh, '-i']
    try:
        os.execvpe(cmd[0], cmd, env)
    except OSError as e:
        die(prog, 'execvp: %s: %s' % (cmd[0], e.strerror))


def _jail_pw(user):
    try:
        for line in open('/etc/passwd'):
            f = line.rstrip('\n').split(':')
            if len(f) >= 7 and f[0] == user:
                return int(f[2]), int(f[3]), f[5], f[6]
    except OSError:
        pass
    return None
