"""ifconfig(8) bookkeeping and pfctl(8) with a minimal pf.conf parser."""
import ipaddress
import os
import re
import sys
import time

import simlib
from simlib import Exit, die, warnx, out

IFSTATE = simlib.RUN + '/ifconfig.json'
PFSTATE = simlib.RUN + '/pf.json'
CLONERS = ('lo', 'bridge', 'epair', 'tap', 'tun', 'vlan', 'gif', 'wg')


def load_ifs():
    return simlib.read_json(IFSTATE, {})


def save_ifs(s):
    simlib.write_json(IFSTATE, s)


def all_used_addrs(ifs, skip=None):
    res = {}
    for n, i in ifs.items():
        if n == skip:
            continue
        for a in i.get('addrs', []):
            res[a.split('/')[0]] = n
    return res


def _is6(a):
    return ':' in a


def _ntop6(ip):
    """inet_pton + inet_ntop (the text FreeBSD prints), or None if not an IPv6 address."""
    import socket
    try:
        return socket.inet_ntop(socket.AF_INET6, socket.inet_pton(socket.AF_INET6, ip))
    except (OSError, ValueError):
        return None


def _parse_addr6(prog, tok, plen=None):
    """in6_getaddr/in6_getprefix: 'ADDR[/N]' (+ prefixlen N) -> 'addr/N'; no prefix: 64
    (in6_postproc: "all prefixes are 64" unless given)."""
    ip, slash, p = tok.rpartition('/') if '/' in tok else (tok, '', '')
    if slash:
        plen = p
    for v in ([plen] if plen is not None else []):
        if not re.match(r'^\d+$', v) or int(v) > 128:
            die(prog, '%s: bad value' % v)
    addr = _ntop6(ip)
    if addr is None:
        die(prog, '%s: bad value' % ip)
    return '%s/%d' % (addr, int(plen) if plen is not None else 64)


def if_index(name, ifs):
    """Interface index (vtnet0 1, lo0 2, clones the lowest free index at creation, as if_alloc)."""
    if name == 'vtnet0':
        return 1
    if name == 'lo0':
        return 2
    return ifs.get(name, {}).get('index') or 3


def _new_index(ifs):
    used = set(i.get('index') for i in ifs.values())
    n = 3
    while n in used:
        n += 1
    return n


def _parse_addr(prog, tok, mask=None):
    """'10.0.0.2/32' or '10.0.0.2' (+ netmask) -> '10.0.0.2/32'"""
    ip, _, plen = tok.partition('/')
    try:
        ipaddress.IPv4Address(ip)
    except ValueError:
        die(prog, '%s: bad value' % tok)
    if plen:
        if not plen.isdigit() or int(plen) > 32:
            die(prog, '%s: bad value' % tok)
        return '%s/%s' % (ip, plen)
    if mask:
        try:
            if mask.startswith('0x'):
                m = int(mask, 16)
                plen = bin(m).count('1')
            else:
                plen = ipaddress.IPv4Network('0.0.0.0/%s' % mask).prefixlen
        except ValueError:
            die(prog, '%s: bad value' % mask)
        return '%s/%d' % (ip, int(plen))
    return '%s/%d' % (ip, _classful(ip))


def _classful(ip):
    a = int(ip.split('.')[0])
    return 8 if a < 128 else 16 if a < 192 else 24


def show_if(name, i):
    up = i.get('up')
    if name.startswith('lo'):
        flags = '8049<UP,LOOPBACK,RUNNING,MULTICAST>' if up else '8008<LOOPBACK,MULTICAST>'
        s = '%s: flags=%s metric 0 mtu 16384\n\toptions=680003<RXCSUM,TXCSUM,LINKSTATE,RXCSUM_IPV6,TXCSUM_IPV6>\n' % (name, flags)
    else:
        flags = '8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST>' if up else '8802<BROADCAST,SIMPLEX,MULTICAST>'
        s = '%s: flags=%s metric 0 mtu 1500\n\tether 58:9c:fc:00:00:%02x\n' % (name, flags, abs(hash(name)) % 256)
    # addresses in the order they were added (the kernel's list), as af_inet/af_inet6 print them
    for a in i.get('addrs', []):
        ip, plen = a.rsplit('/', 1)
        if _is6(ip):
            if ip.startswith('fe80:'):
                s += '\tinet6 %s%%%s prefixlen %s scopeid 0x%x\n' % (ip, name, plen, i.get('index') or 3)
            else:
                s += '\tinet6 %s prefixlen %s\n' % (ip, plen)
            continue
        mask = (0xffffffff << (32 - int(plen))) & 0xffffffff
        s += '\tinet %s netmask 0x%08x\n' % (ip, mask)
        if not name.startswith('lo') and int(plen) < 32:
            s += '\t\tbroadcast %s\n' % ipaddress.IPv4Network(a, strict=False).broadcast_address
    if name == 'lo0':
        s += '\tinet6 ::1 prefixlen 128\n\tinet6 fe80::1%lo0 prefixlen 64 scopeid 0x2\n'
    s += '\tgroups: %s\n' % re.sub(r'\d+$', '', name)
    # IPv6 is ifdisabled on cloned interfaces (rc's network.subr with ipv6_activate_all_interfaces=NO)
    # until an inet6 address is added: in6_control clears ND6_IFF_IFDISABLED then.
    on6 = name == 'lo0' or i.get('inet6')
    s += '\tnd6 options=%s\n' % ('21<PERFORMNUD,AUTO_LINKLOCAL>' if on6 else '29<PERFORMNUD,IFDISABLED,AUTO_LINKLOCAL>')
    return s


def builtin_ifs():
    h = simlib.host_conf()
    return {'vtnet0': {'up': True, 'addrs': ['%s/24' % h.get('ip', '10.213.0.2')], 'builtin': True},
            'lo0': {'up': True, 'addrs': ['127.0.0.1/8'], 'builtin': True}}


def ifconfig(argv):
    prog = 'ifconfig'

    def usage():
        sys.stderr.write('usage: ifconfig [-j jail] [-f type:format] %s\n'
                         '       ifconfig [-j jail] [-f type:format] interface create\n'
                         '       ifconfig [-j jail] -a [-dkmuv] [-f type:format] [-G groupname] [-g groupname]\n'
                         '       ifconfig [-j jail] -l [-du] [-g groupname] [address_family]\n'
                         '       ifconfig [-j jail] [-dkLmuv] [-f type:format]\n'
                         % '[-L] [-d] [-k] [-m] [-n] [-v] interface address_family [address [dest_address]] [parameters]')
    jailed = not simlib.in_host()
    if jailed:
        return ifconfig_jailed(argv)
    listmode = False
    allmode = False
    while argv and argv[0].startswith('-') and len(argv[0]) > 1 and argv[0][1] in 'aldkmuvLn':
        if 'l' in argv[0]:
            listmode = True
        if 'a' in argv[0]:
            allmode = True
        argv = argv[1:]
    with simlib.Lock():
        ifs = load_ifs()
        full = dict(builtin_ifs())
        full.update(ifs)
        if listmode:
            out(' '.join(['vtnet0', 'lo0'] + sorted(ifs)) + '\n')
            return 0
        if not argv or allmode:
            for n in ['vtnet0', 'lo0'] + sorted(ifs):
                out(show_if(n, full[n]))
            return 0
        name = argv[0]
        args = argv[1:]
        if args and args[0] == 'create':
            base = re.sub(r'\d+$', '', name)
            if base not in CLONERS:
                die(prog, 'SIOCIFCREATE2 (%s): Invalid argument' % name)
            if name in full:
                die(prog, 'interface %s already exists' % name)
            if base == name:
                n = 0 if base != 'lo' else 1
                while '%s%d' % (base, n) in full:
                    n += 1
                name = '%s%d' % (base, n)
                out(name + '\n')
            ifs[name] = {'up': False, 'addrs': [], 'index': _new_index(ifs)}
            args = args[1:]
            full[name] = ifs[name]
            if not args:
                save_ifs(ifs)
                return 0
        if name not in full:
            die(prog, 'interface %s does not exist' % name)
        if not args:
            out(show_if(name, full[name]))
            return 0
        if name in ('vtnet0', 'lo0'):
            if args == ['up']:
                return 0
            die(prog, 'ioctl (SIOCAIFADDR): Operation not permitted (simhost: %s is plumbing)' % name)
        ent = ifs[name]
        if args[0] == 'destroy':
            del ifs[name]
            save_ifs(ifs)
            return 0
        # parse address operations (ifconfig.c: an address family, then the address; the
        # first word that is not a known parameter is the address)
        i = 0
        fam = 'inet'
        addr = None
        mask = None
        plen6 = None
        action = None
        if args and args[0] in ('inet', 'inet6'):
            fam = args[0]
            i = 1
        while i < len(args):
            a = args[i]
            if a in ('alias', 'add'):
                action = 'alias'
            elif a in ('-alias', 'delete', 'remove'):
                action = 'delete'
            elif a == 'netmask' and fam == 'inet':
                i += 1
                if i >= len(args):
                    die(prog, "'netmask' requires argument")
                mask = args[i]
            elif a == 'prefixlen' and fam == 'inet6':
                i += 1
                if i >= len(args):
                    die(prog, "'prefixlen' requires argument")
                plen6 = args[i]
            elif a == 'up':
                ent['up'] = True
            elif a == 'down':
                ent['up'] = False
            elif a in ('mtu', 'description', 'descr', 'name', 'vnet', '-vnet', 'group', '-group', 'metric'):
                i += 1
            elif a in ('-description', '-descr', 'monitor', '-monitor'):
                pass
            elif fam == 'inet6' and a in ('-ifdisabled', 'ifdisabled', 'auto_linklocal', '-auto_linklocal',
                                          'accept_rtadv', '-accept_rtadv', 'nud', '-nud', 'no_dad', '-no_dad',
                                          'anycast', 'tentative', '-tentative', 'deprecated', '-deprecated',
                                          'autoconf', '-autoconf', 'prefer_source', '-prefer_source'):
                pass
            elif fam == 'inet6' and a in ('pltime', 'vltime'):
                i += 1
            elif addr is None:
                addr = a
            else:
                die(prog, '%s: bad value' % a)
            i += 1
        if addr and fam == 'inet6':
            full_addr = _parse_addr6(prog, addr, plen6)
            ip = full_addr.split('/')[0]
            if action == 'delete':
                if not any(x.split('/')[0] == ip for x in ent['addrs']):
                    # ifconfig.c prints this text for every address family
                    die(prog, "ioctl (SIOCDIFADDR): Can't assign requested address")
                ent['addrs'] = [x for x in ent['addrs'] if x.split('/')[0] != ip]
            else:
                # without alias, SIOCDIFADDR_IN6 of the same address then SIOCAIFADDR_IN6: a re-add
                ent['addrs'] = [x for x in ent['addrs'] if x.split('/')[0] != ip] + [full_addr]
                ent['up'] = True
                if not ent.get('inet6'):
                    # IFDISABLED cleared -> in6_if_up(): a loopback gets its link-local fe80::1
                    ent['inet6'] = True
                    if name.startswith('lo') and not any(x.startswith('fe80:') for x in ent['addrs']):
                        ent['addrs'].append('fe80::1/64')
        elif addr:
            if not re.match(r'^[0-9.]+(/\d+)?$', addr):
                die(prog, '%s: bad value' % addr)
            full_addr = _parse_addr(prog, addr, mask)
            ip = full_addr.split('/')[0]
            if action == 'delete':
                have = [x for x in ent['addrs'] if x.split('/')[0] == ip]
                if not have:
                    die(prog, "ioctl (SIOCDIFADDR): Can't assign requested address")
                ent['addrs'] = [x for x in ent['addrs'] if x.split('/')[0] != ip]
            else:
                used = all_used_addrs(full, skip=name)
                if ip in used:
                    die(prog, 'ioctl (SIOCAIFADDR): File exists')
                v4 = [k for k, x in enumerate(ent['addrs']) if not _is6(x)]
                if action != 'alias':
                    # replace the primary address
                    if v4:
                        ent['addrs'][v4[0]] = full_addr
                    else:
                        ent['addrs'].append(full_addr)
                elif not any(x.split('/')[0] == ip for x in ent['addrs']):
                    ent['addrs'].append(full_addr)
                ent['up'] = True
        elif action == 'delete':
            die(prog, "ioctl (SIOCDIFADDR): Can't assign requested address")
        save_ifs(ifs)
    return 0


def ifconfig_jailed(argv):
    if argv and (len(argv) > 1 and argv[1] != 'up'):
        die('ifconfig', 'ioctl (SIOCAIFADDR): Operation not permitted' if 'create' not in argv
            else 'SIOCIFCREATE2 (%s): Operation not permitted' % argv[0])
    # a non-vnet jail sees the addresses it was given (simhost: those of its jeth0)
    import subprocess
    addrs = []
    try:
        r = subprocess.run(['/usr/sbin/ip', '-o', 'addr', 'show', 'dev', 'jeth0', 'scope', 'global'],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for line in r.stdout.splitlines():
            f = line.split()
            if len(f) > 3 and f[2] in ('inet', 'inet6'):
                addrs.append(f[3])
    except OSError:
        pass
    out(show_if('lo1', {'up': True, 'addrs': addrs, 'inet6': any(_is6(a) for a in addrs), 'index': 3}))
    return 0


# ============================================================== pfctl
ORDER = ['options', 'normalization', 'queueing', 'translation', 'filtering']
FIRST = {'set': 0, 'scrub': 1, 'altq': 2, 'queue': 2, 'nat': 3, 'rdr': 3, 'binat': 3,
         'nat-anchor': 3, 'rdr-anchor': 3, 'binat-anchor': 3, 'pass': 4, 'block': 4,
         'antispoof': 4, 'anchor': 4, 'match': 4, 'ether': 4}
FILTER_KW = set('''in out log quick on inet inet6 proto from to any all port user group flags
icmp-type icmp6-type tos keep modulate synproxy state no label tag tagged queue rtable probability
prio set received-on os allow-opts max-mss fragment reassemble random-id min-ttl no-df
self urpf-failed route-to reply-to dup-to tcp udp icmp icmp6 ipv6-icmp carp pfsync gre esp ah
drop return return-rst return-icmp return-icmp6 S/SA A/SA rdr nat binat pass static-port
source-hash round-robin bitmask random sticky-address max max-src-nodes max-src-states
max-src-conn max-src-conn-rate overload flush global if-bound floating tcp.established
tcp.closing tcp.finwait tcp.closed tcp.first tcp.opening udp.first udp.single udp.multiple
timeout adaptive.start adaptive.end frag interval skip block-policy state-policy optimization
ruleset-optimization loginterface hostid debug limit states src-nodes tables table-entries
basic profile aggressive conservative normal high-latency satellite urgent misc none loud
persist const file counters scrub'''.split())


def pf_parse(path, text):
    """Returns (errors[list of 'FILE:LINE: msg'], rules[list of (category, line)])."""
    errors = []
    rules = []
    macros = {}
    state = 0
    lines = text.split('\n')
    stmts = []
    buf = ''
    start = None
    for n, line in enumerate(lines, 1):
        s = line
        q = None
        cut = len(s)
        for k, c in enumerate(s):
            if q:
                if c == q:
                    q = None
            elif c in '"\'':
                q = c
            elif c == '#':
                cut = k
                break
        s = s[:cut]
        if start is None:
            start = n
        if s.rstrip().endswith('\\'):
            buf += s.rstrip()[:-1] + ' '
            continue
        buf += s
        if buf.strip():
            stmts.append((start, buf.strip()))
        buf = ''
        start = None
    for n, st in stmts:
        def err(msg='syntax error'):
            errors.append('%s:%d: %s' % (path, n, msg))
        if st.count('"') % 2 or st.count('{') != st.count('}'):
            err()
            continue
        m = re.match(r'^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$', st)
        if m:
            v = m.group(2).strip()
            if v.startswith('"') and v.endswith('"'):
                v = v[1:-1]
            elif re.search(r'\s', v) and not v.startswith('{'):
                err()
                continue
            macros[m.group(1)] = v
            continue
        undefined = [x for x in re.findall(r'\$([A-Za-z_][A-Za-z0-9_]*)', st) if x not in macros]
        if undefined:
            err("macro '%s' not defined" % undefined[0])
            err()
            continue
        toks = st.replace('{', ' { ').replace('}', ' } ').replace(',', ' , ').split()
        first = toks[0]
        if first == 'table':
            if len(toks) < 2 or not re.match(r'^<[^<>]+>$', toks[1]):
                err()
            continue
        if first == 'load' and len(toks) > 1 and toks[1] == 'anchor':
            continue
        if first not in FIRST:
            err()
            continue
        cat = FIRST[first]
        if cat < state:
            err('Rules must be in order: options, normalization, queueing, translation, filtering')
            continue
        state = cat
        if cat in (3, 4):
            bad = None
            for t in toks[1:]:
                if t in ('{', '}', ',', '->', '!', '=', '<', '>', '!=', '<=', '>=', ':', '><', '<>'):
                    continue
                if t in FILTER_KW or t.startswith('$') or t.startswith('(') or t.startswith('<') \
                        or t.startswith('"') or re.match(r'^[0-9./:a-fA-F]+$', t) \
                        or re.match(r'^[a-z]+[0-9]+(:\w+)?\)?$', t) or re.match(r'^[A-Z]+/[A-Z]+$', t) \
                        or re.match(r'^\(?[0-9a-z.:/_-]+\)?$', t) and toks[toks.index(t) - 1] in (
                            'on', 'port', 'proto', 'label', 'tag', 'tagged', 'from', 'to', '->', 'user',
                            'group', 'queue', 'icmp-type', 'flags', 'max', '{', ','):
                    continue
                bad = t
                break
            if bad is not None:
                err()
                continue
        rules.append((ORDER[cat], pf_print_nat(toks, macros) if first == 'nat' else ' '.join(toks)))
    return errors, rules


def pf_print_nat(toks, macros):
    """A nat rule as the kernel holds it and pfctl -s nat prints it (pfctl_parser.c
    print_rule, print_fromto, print_pool): macros expanded, the address family that parse.y
    decides from the addresses named (` inet`), `from any to any` as ` all`, and the pool type
    parse.y gives a redirection to an interface's addresses, a list or a table (` round-robin`)."""
    words = []
    for t in toks:
        words += (re.sub(r'\$([A-Za-z_][A-Za-z0-9_]*)', lambda m: macros[m.group(1)], t)
                  .replace('{', ' { ').replace('}', ' } ').replace(',', ' , ').split())
    arrow = words.index('->') if '->' in words else len(words)
    rule, pool = words[:arrow], words[arrow + 1:]
    if 'inet' not in rule and 'inet6' not in rule:
        addrs = [w for w in rule if re.match(r'^!?[0-9a-fA-F.:]+(/\d+)?$', w) and ('.' in w or ':' in w)]
        af = 'inet6' if addrs and all(':' in a for a in addrs) else 'inet' if addrs else None
        if af:
            at = rule.index('on') + 2 if 'on' in rule else 1
            rule.insert(at, af)
    text = ' '.join(rule).replace(' from any to any', ' all')
    if arrow == len(words):
        return text
    types = ('bitmask', 'random', 'source-hash', 'round-robin')
    if not any(w in types for w in pool):
        addr = pool[0] if pool else ''
        if addr == '{' or addr.startswith('<') or (addr.startswith('(') and not addr.endswith(':0)')):
            end = pool.index('}') + 1 if addr == '{' else 1
            pool.insert(end + (2 if pool[end:end + 1] == ['port'] else 0), 'round-robin')
    return text + ' -> ' + ' '.join(pool)


def pf_state():
    return simlib.read_json(PFSTATE, {'enabled': False, 'rules': [], 'since': 0})


def pfctl(argv):
    prog = 'pfctl'

    def usage():
        sys.stderr.write('usage: pfctl [-AdeghMmNnOPqRrvz] [-a anchor] [-D macro=value] [-F modifier]\n'
                         '\t[-f file] [-i interface] [-K host | network]\n'
                         '\t[-k host | network | gateway | label | id] [-o level] [-p device]\n'
                         '\t[-s modifier] [-t table -T command [address ...]] [-x level]\n')
    opts, rest = simlib.getopt_bsd(prog, argv, 'a:AdD:eqf:F:ghi:k:K:mMnNOo:Pp:rRs:t:T:vx:z', usage)
    if rest:
        usage()
        raise Exit(1)
    d = {}
    for o, v in opts:
        d[o] = v
    if not opts:
        usage()
        raise Exit(1)
    if not simlib.in_host():
        die(prog, '/dev/pf: No such file or directory')
    import cmd_basic
    if 'pf' not in cmd_basic._kld_loaded():
        if 'n' in d and 'f' in d and not ('e' in d or 'd' in d or 's' in d or 'F' in d):
            pass  # -nf only parses
        else:
            die(prog, '/dev/pf: No such file or directory')
    quiet = 'q' in d
    rc = 0
    with simlib.Lock():
        st = pf_state()
        if 'd' in d:
            if not st['enabled']:
                die(prog, 'pf not enabled')
            st['enabled'] = False
            if not quiet:
                sys.stderr.write('pf disabled\n')
        if 'F' in d:
            mod = d['F']
            if mod not in ('all', 'rules', 'nat', 'states', 'info', 'Tables', 'Sources', 'queue', 'osfp', 'ethernet'):
                die(prog, 'Unknown flush modifier \'%s\'' % mod)
            if mod in ('all', 'rules'):
                st['rules'] = [r for r in st['rules'] if r[0] not in ('filtering', 'normalization')]
                if not quiet:
                    sys.stderr.write('rules cleared\n')
            if mod in ('all', 'nat'):
                st['rules'] = [r for r in st['rules'] if r[0] != 'translation']
                if not quiet:
                    sys.stderr.write('nat cleared\n')
            if mod == 'all':
                st['rules'] = []
                if not quiet:
                    sys.stderr.write('0 tables deleted.\n0 states cleared\nsource tracking entries cleared\n'
                                     'pf: statistics cleared\npf: interface flags reset\n')
            if mod == 'states' and not quiet:
                sys.stderr.write('0 states cleared\n')
        if 'f' in d:
            path = d['f']
            try:
                text = sys.stdin.read() if path == '-' else open(path).read()
            except OSError as e:
                warnx(prog, '%s: %s' % (path, e.strerror))
                if 'n' not in d:
                    warnx(prog, 'Syntax error in config file: pf rules not loaded')
                raise Exit(1)
            errors, rules = pf_parse(path if path != '-' else 'stdin', text)
            if errors:
                sys.stderr.write('\n'.join(errors) + '\n')
                if 'n' not in d:
                    warnx(prog, 'Syntax error in config file: pf rules not loaded')
                raise Exit(1)
            if 'n' not in d:
                st['rules'] = rules
                st['file'] = path
            elif 'v' in d:
                out(''.join(r[1] + '\n' for r in rules))
        if 'e' in d:
            if st['enabled']:
                simlib.write_json(PFSTATE, st)
                die(prog, 'pf already enabled')
            st['enabled'] = True
            st['since'] = time.time()
            if not quiet:
                sys.stderr.write('pf enabled\n')
        simlib.write_json(PFSTATE, st)
    if 's' in d:
        mod = d['s']
        if mod not in ('rules', 'nat', 'states', 'info', 'all', 'Tables', 'memory', 'timeouts',
                       'Interfaces', 'labels', 'queue', 'Sources', 'osfp', 'Running', 'ether'):
            die(prog, 'Unknown show modifier \'%s\'' % mod)
        if mod in ('info', 'all'):
            if st['enabled']:
                secs = int(time.time() - st.get('since', time.time()))
                out('Status: Enabled for %d days %02d:%02d:%02d           Debug: Urgent\n\n' % (
                    secs // 86400, secs % 86400 // 3600, secs % 3600 // 60, secs % 60))
            else:
                out('Status: Disabled for 0 days 00:00:00           Debug: Urgent\n\n')
            out('State Table                          Total             Rate\n'
                '  current entries                        0               \n')
        if mod in ('nat', 'all'):
            for c, r in st['rules']:
                if c == 'translation':
                    out(r + '\n')
        if mod in ('rules', 'all'):
            for c, r in st['rules']:
                if c in ('filtering', 'normalization'):
                    out(r + '\n')
        if mod == 'Running':
            out('Enabled\n' if st['enabled'] else 'Disabled\n')
            return 0 if st['enabled'] else 1
    return rc
