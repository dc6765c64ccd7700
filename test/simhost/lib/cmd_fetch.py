"""fetch(1) of FreeBSD 14 (usr.bin/fetch/fetch.c + lib/libfetch), for the simulated host.

Real HTTP(S) requests to whatever the host (or jail) can reach; names resolve through the
host's resolver (/etc/hosts; the simulated hosts have no working DNS). download.freebsd.org is
the simulator's mirror: its release files are served from /var/db/simhost/fixtures.
"""
import errno
import os
import socket
import sys
import time

import simlib
from simlib import Exit, warnx

PROG = 'fetch'
MIRROR_HOST = 'download.freebsd.org'
MIRROR_BASE = '/releases/amd64/14.3-RELEASE/'
FIXTURES = '/var/db/simhost/fixtures'
MINBUFSIZE = 16384
TIMEOUT = 120

USAGE = (
    'usage: fetch [-146AadFlMmnPpqRrsUv] [-B bytes] [--bind-address=host]\n'
    '       [--ca-cert=file] [--ca-path=dir] [--cert=file] [--crl=file]\n'
    '       [-i file] [--key=file] [-N file] [--no-passive] [--no-proxy=list]\n'
    '       [--no-sslv3] [--no-tlsv1] [--no-verify-hostname] [--no-verify-peer]\n'
    '       [-o file] [--referer=URL] [-S bytes] [-T seconds]\n'
    '       [--user-agent=agent-string] [-w seconds] URL ...\n'
    '       fetch [-146AadFlMmnPpqRrsUv] [-B bytes] [--bind-address=host]\n'
    '       [--ca-cert=file] [--ca-path=dir] [--cert=file] [--crl=file]\n'
    '       [-i file] [--key=file] [-N file] [--no-passive] [--no-proxy=list]\n'
    '       [--no-sslv3] [--no-tlsv1] [--no-verify-hostname] [--no-verify-peer]\n'
    '       [-o file] [--referer=URL] [-S bytes] [-T seconds]\n'
    '       [--user-agent=agent-string] [-w seconds] -h host -f file [-c dir]\n')

# fetch.c longopts[]
LONGS = {
    'one-file': (0, '1'), 'ipv4-only': (0, '4'), 'ipv6-only': (0, '6'), 'no-redirect': (0, 'A'),
    'retry': (0, 'a'), 'buffer-size': (1, 'B'), 'direct': (0, 'd'), 'force-restart': (0, 'F'),
    'if-modified-since': (1, 'i'), 'symlink': (0, 'l'), 'mirror': (0, 'm'), 'netrc': (1, 'N'),
    'no-mtime': (0, 'n'), 'output': (1, 'o'), 'passive': (0, 'p'), 'quiet': (0, 'q'),
    'keep-output': (0, 'R'), 'restart': (0, 'r'), 'require-size': (1, 'S'), 'print-size': (0, 's'),
    'timeout': (1, 'T'), 'passive-portrange-default': (0, 'T'), 'verbose': (0, 'v'),
    'retry-delay': (1, 'w'),
    'bind-address': (1, 'bind-address'), 'no-passive': (0, 'no-passive'), 'referer': (1, 'referer'),
    'user-agent': (1, 'user-agent'), 'no-proxy': (1, 'no-proxy'), 'ca-cert': (1, 'ca-cert'),
    'ca-path': (1, 'ca-path'), 'cert': (1, 'cert'), 'key': (1, 'key'), 'crl': (1, 'crl'),
    'no-sslv3': (0, 'no-sslv3'), 'no-tlsv1': (0, 'no-tlsv1'),
    'no-verify-hostname': (0, 'no-verify-hostname'), 'no-verify-peer': (0, 'no-verify-peer'),
}

# libfetch error classes (fetch.h)
FETCH_ABORT, FETCH_AUTH, FETCH_DOWN, FETCH_EXISTS, FETCH_FULL, FETCH_INFO, FETCH_MEMORY, \
    FETCH_MOVED, FETCH_NETWORK, FETCH_OK, FETCH_PROTO, FETCH_RESOLV, FETCH_SERVER, FETCH_TEMP, \
    FETCH_TIMEOUT, FETCH_UNAVAIL, FETCH_UNKNOWN, FETCH_URL, FETCH_VERBOSE = range(1, 20)

# libfetch http.c http_errlist (code -> class, text)
HTTP_ERRORS = {
    100: (FETCH_OK, 'Continue'), 101: (FETCH_OK, 'Switching Protocols'), 200: (FETCH_OK, 'OK'),
    201: (FETCH_OK, 'Created'), 202: (FETCH_OK, 'Accepted'),
    203: (FETCH_INFO, 'Non-Authoritative Information'), 204: (FETCH_OK, 'No Content'),
    205: (FETCH_OK, 'Reset Content'), 206: (FETCH_OK, 'Partial Content'),
    300: (FETCH_MOVED, 'Multiple Choices'), 301: (FETCH_MOVED, 'Moved Permanently'),
    302: (FETCH_MOVED, 'Moved Temporarily'), 303: (FETCH_MOVED, 'See Other'),
    304: (FETCH_OK, 'Not Modified'), 305: (FETCH_INFO, 'Use Proxy'),
    307: (FETCH_MOVED, 'Temporary Redirect'), 308: (FETCH_MOVED, 'Permanent Redirect'),
    400: (FETCH_PROTO, 'Bad Request'), 401: (FETCH_AUTH, 'Unauthorized'),
    402: (FETCH_AUTH, 'Payment Required'), 403: (FETCH_AUTH, 'Forbidden'),
    404: (FETCH_UNAVAIL, 'Not Found'), 405: (FETCH_PROTO, 'Method Not Allowed'),
    406: (FETCH_PROTO, 'Not Acceptable'), 407: (FETCH_AUTH, 'Proxy Authentication Required'),
    408: (FETCH_TIMEOUT, 'Request Time-out'), 409: (FETCH_EXISTS, 'Conflict'),
    410: (FETCH_UNAVAIL, 'Gone'), 411: (FETCH_PROTO, 'Length Required'),
    412: (FETCH_SERVER, 'Precondition Failed'), 413: (FETCH_PROTO, 'Request Entity Too Large'),
    414: (FETCH_PROTO, 'Request-URI Too Large'), 415: (FETCH_PROTO, 'Unsupported Media Type'),
    416: (FETCH_UNAVAIL, 'Requested Range Not Satisfiable'), 417: (FETCH_SERVER, 'Expectation Failed'),
    500: (FETCH_SERVER, 'Internal Server Error'), 501: (FETCH_PROTO, 'Not Implemented'),
    502: (FETCH_SERVER, 'Bad Gateway'), 503: (FETCH_TEMP, 'Service Unavailable'),
    504: (FETCH_TIMEOUT, 'Gateway Time-out'), 505: (FETCH_PROTO, 'HTTP Version Not Supported'),
}

# FreeBSD's strerror(3) texts where they differ from glibc's / matter here
FREEBSD_STRERROR = {
    errno.ECONNREFUSED: 'Connection refused', errno.ETIMEDOUT: 'Operation timed out',
    errno.EHOSTUNREACH: 'No route to host', errno.ENETUNREACH: 'Network is unreachable',
    errno.EADDRNOTAVAIL: "Can't assign requested address", errno.ECONNRESET: 'Connection reset by peer',
    errno.EPROTONOSUPPORT: 'Protocol not supported', errno.ENETDOWN: 'Network is down',
    errno.EAFNOSUPPORT: 'Address family not supported by protocol family',
    errno.EHOSTDOWN: 'Host is down', errno.ENOENT: 'No such file or directory',
    errno.EACCES: 'Permission denied', errno.EROFS: 'Read-only file system',
    errno.EISDIR: 'Is a directory', errno.ENOTDIR: 'Not a directory', errno.ENOSPC: 'No space left on device',
    errno.EPIPE: 'Broken pipe',
}
SOFT_FAIL_EXCLUDED = {FETCH_AUTH, FETCH_UNAVAIL, FETCH_MOVED, FETCH_URL, FETCH_RESOLV, FETCH_UNKNOWN}


def strerror(e):
    return FREEBSD_STRERROR.get(e, os.strerror(e) if e else 'Unknown error')


class FetchError(Exception):
    def __init__(self, code, text):
        Exception.__init__(self, text)
        self.code, self.text = code, text


class TimedOut(Exception):
    pass


def syserr(e):
    n = getattr(e, 'errno', None) or 0
    code = {errno.ECONNREFUSED: FETCH_DOWN, errno.EHOSTUNREACH: FETCH_DOWN, errno.ENETUNREACH: FETCH_NETWORK,
            errno.ENETDOWN: FETCH_NETWORK, errno.ETIMEDOUT: FETCH_TIMEOUT, errno.ECONNRESET: FETCH_NETWORK,
            errno.ENOENT: FETCH_UNAVAIL, errno.EACCES: FETCH_AUTH, errno.EPERM: FETCH_AUTH}.get(n, FETCH_UNKNOWN)
    return FetchError(code, strerror(n))


class Url(object):
    pass


def parse_url(s):
    """libfetch fetchParseURL (enough of it): scheme://[user[:pwd]@]host[:port]/doc."""
    u = Url()
    u.scheme, u.host, u.port, u.doc, u.user = '', '', 0, '/', ''
    rest = s
    p = s.find(':/')
    if p >= 0:
        u.scheme = s[:p].lower()
        rest = s[p + 1:]
        if rest.startswith('//'):
            rest = rest[2:]
        else:  # one slash: no host
            u.doc = rest
            return u
    if not rest or rest[0] in '/.' or (not u.scheme and '/' not in rest and ':' not in rest):
        u.doc = rest or '/'
        return u
    slash = rest.find('/')
    hostpart, doc = (rest, '/') if slash < 0 else (rest[:slash], rest[slash:])
    if '@' in hostpart:
        u.user, hostpart = hostpart.rsplit('@', 1)
    if hostpart.startswith('['):
        end = hostpart.find(']')
        if end < 0:
            return None
        u.host, tail = hostpart[1:end], hostpart[end + 1:]
    else:
        u.host, sep, tail = hostpart.partition(':')
        tail = sep + tail
    if tail:
        if not tail.startswith(':') or not tail[1:].isdigit() or not (0 < int(tail[1:]) < 65536):
            raise FetchError(FETCH_URL, 'Invalid server port')
        u.port = int(tail[1:])
    u.doc = doc
    return u


class Resp(object):
    """What fetchXGet returns: a stream, size (-1 unknown), mtime (0 unknown)."""

    def __init__(self, fh, size, mtime):
        self.fh, self.size, self.mtime = fh, size, mtime

    def read(self, n):
        return self.fh.read(n)

    def close(self):
        try:
            self.fh.close()
        except Exception:
            pass


class Opts(object):
    pass


def http_date(s):
    import email.utils
    try:
        return int(email.utils.parsedate_to_datetime(s).timestamp())
    except (TypeError, ValueError, IndexError):
        return 0


def resolve(host, port, family):
    fam = {4: socket.AF_INET, 6: socket.AF_INET6}.get(family, socket.AF_UNSPEC)
    try:
        return socket.getaddrinfo(host, port, fam, socket.SOCK_STREAM)
    except socket.gaierror as e:
        if e.errno == socket.EAI_FAIL:
            raise FetchError(FETCH_RESOLV, 'Non-recoverable resolver failure')
        # FreeBSD's getaddrinfo answers NS_NOTFOUND (EAI_NONAME) when no nameserver answers
        raise FetchError(FETCH_RESOLV, 'No address record')


def connect(u, o, deadline):
    addrs = resolve(u.host, u.port, o.family)
    last = None
    for fam, typ, proto, _, sa in addrs:
        s = socket.socket(fam, typ, proto)
        try:
            if o.bind:
                s.bind((o.bind, 0))
            s.settimeout(max(0.01, deadline - time.time()) if deadline else None)
            s.connect(sa)
            return s
        except socket.timeout:
            s.close()
            raise TimedOut()
        except OSError as e:
            s.close()
            last = e
    raise syserr(last)


def http_get(u, o, head=False, offset=0, ims=0):
    import http.client
    deadline = time.time() + o.timeout if o.timeout else None
    for _ in range(20):  # libfetch: MAX_REDIRECT
        https = u.scheme == 'https'
        port = u.port or (443 if https else 80)
        s = connect(u, o, deadline)
        if https:
            import ssl
            ctx = ssl.create_default_context()
            if o.env.get('SSL_CA_CERT_FILE') or o.env.get('SSL_CA_CERT_PATH'):
                ctx.load_verify_locations(cafile=o.env.get('SSL_CA_CERT_FILE'), capath=o.env.get('SSL_CA_CERT_PATH'))
            if 'SSL_NO_VERIFY_HOSTNAME' in o.env or 'SSL_NO_VERIFY_PEER' in o.env:
                ctx.check_hostname = False
            if 'SSL_NO_VERIFY_PEER' in o.env:
                ctx.verify_mode = ssl.CERT_NONE
            try:
                s = ctx.wrap_socket(s, server_hostname=u.host)
            except ssl.SSLCertVerificationError as e:
                sys.stderr.write('Certificate verification failed for %s\n' % u.host)
                raise FetchError(FETCH_AUTH, 'Authentication error')
            except (ssl.SSLError, OSError):
                raise FetchError(FETCH_NETWORK, 'Network error')
        hostport = ('[%s]' % u.host if ':' in u.host else u.host) + (':%d' % u.port if u.port else '')
        c = http.client.HTTPConnection(hostport)
        c.sock = s
        hdrs = {'Host': hostport, 'User-Agent': o.env.get('HTTP_USER_AGENT', 'fetch libfetch/2.0'),
                'Connection': 'close'}
        if o.env.get('HTTP_REFERER'):
            hdrs['Referer'] = o.env['HTTP_REFERER']
        if offset:
            hdrs['Range'] = 'bytes=%d-' % offset
        if ims:
            hdrs['If-Modified-Since'] = time.strftime('%a, %d %b %Y %H:%M:%S GMT', time.gmtime(ims))
        try:
            c.putrequest('HEAD' if head else 'GET', u.doc, skip_host=True, skip_accept_encoding=True)
            for k, v in hdrs.items():
                c.putheader(k, v)
            c.endheaders()
            r = c.getresponse()
        except socket.timeout:
            raise TimedOut()
        except http.client.HTTPException:
            raise FetchError(FETCH_PROTO, 'Protocol error')
        except OSError as e:
            raise syserr(e)
        code = r.status
        if code in (301, 302, 303, 307, 308) and r.getheader('Location') and not o.A:
            loc = r.getheader('Location')
            r.close()
            if '://' not in loc:
                base = '%s://%s' % (u.scheme, hostport)
                loc = base + (loc if loc.startswith('/') else u.doc.rsplit('/', 1)[0] + '/' + loc)
            u = parse_url(loc)
            if u is None or u.scheme not in ('http', 'https'):
                raise FetchError(FETCH_URL, 'Invalid URL scheme')
            if u.host == MIRROR_HOST:
                return mirror_get(u, head)
            continue
        if code not in (200, 206):
            cls, text = HTTP_ERRORS.get(code, (FETCH_PROTO, 'Protocol error'))
            r.close()
            raise FetchError(cls, text)
        size = r.getheader('Content-Length')
        size = int(size) if size and size.isdigit() else -1
        if code == 206:
            cr = r.getheader('Content-Range') or ''
            total = cr.rsplit('/', 1)[-1]
            size = int(total) if total.isdigit() else -1
        mtime = http_date(r.getheader('Last-Modified'))
        if deadline:
            s.settimeout(max(0.01, deadline - time.time()))
        resp = Resp(r, size, mtime)
        resp.offset = offset if code == 206 else 0
        return resp
    raise FetchError(FETCH_MOVED, HTTP_ERRORS[302][1])


def mirror_get(u, head=False):
    """download.freebsd.org: the simulator's mirror of the 14.3 release files."""
    name = u.doc[len(MIRROR_BASE):] if u.doc.startswith(MIRROR_BASE) else None
    p = os.path.join(FIXTURES, name) if name in ('base.txz', 'MANIFEST') else None
    if not p or not os.path.exists(p):
        raise FetchError(FETCH_UNAVAIL, 'Not Found')
    st = os.stat(p)
    r = Resp(open(p, 'rb'), st.st_size, int(st.st_mtime))
    r.offset = 0
    return r


def xget(u, o, head=False, offset=0, ims=0):
    if u.scheme == 'file' or (not u.scheme and not u.host):
        try:
            fh = open(u.doc, 'rb')
            st = os.fstat(fh.fileno())
        except OSError as e:
            raise syserr(e)
        if offset:
            fh.seek(offset)
        r = Resp(fh, st.st_size, int(st.st_mtime))
        r.offset = offset
        return r
    if u.scheme in ('http', 'https'):
        if u.host == MIRROR_HOST:
            return mirror_get(u, head)
        return http_get(u, o, head, offset, ims)
    if u.scheme == 'ftp':
        deadline = time.time() + o.timeout if o.timeout else None
        connect(u if u.port else _with_port(u, 21), o, deadline).close()
        raise FetchError(FETCH_PROTO, 'Protocol error')
    raise FetchError(FETCH_URL, 'Invalid URL scheme')


def _with_port(u, port):
    u.port = port
    return u


def stat_bytes(n):
    prefixes = ' kMGTP'
    k = 0
    while n > 9999 and k < len(prefixes) - 1:
        n //= 1024
        k += 1
    return '%4d %sB' % (n, prefixes[k])


def stat_seconds(sec):
    if sec > 86400:
        return '%02dd%02dh' % (sec // 86400, (sec % 86400) // 3600)
    if sec > 3600:
        return '%02dh%02dm' % (sec // 3600, (sec % 3600) // 60)
    if sec > 60:
        return '%02dm%02ds' % (sec // 60, sec % 60)
    return '   %02ds' % sec


def fetch_one(url, path, o):
    """fetch.c fetch(): (0 ok | -1 failed, libfetch error class)."""
    if url == '':
        warnx(PROG, 'empty URL')
        return -1, 0
    try:
        u = parse_url(url)
    except FetchError as e:
        warnx(PROG, '%s: %s' % (url, e.text))
        return -1, e.code
    if u is None:
        warnx(PROG, '%s: parse error' % url)
        return -1, 0
    if not u.scheme:
        if not u.host:
            u.scheme = 'file'
        elif u.host.lower().startswith('ftp.'):
            u.scheme = 'ftp'
        elif u.host.lower().startswith('www.'):
            u.scheme = 'http'
    o.timeout = o.T or (o.http_timeout if u.scheme in ('http', 'https') else o.ftp_timeout if u.scheme == 'ftp' else 0)
    ims = 0
    if o.i and u.scheme in ('http', 'https'):
        try:
            ims = int(os.stat(o.i).st_mtime)
        except OSError:
            warnx(PROG, '%s: stat(): %s' % (o.i, strerror(sys.exc_info()[1].errno)))
            return -1, 0
    if o.s:
        try:
            r = xget(u, o, head=True)
            r.close()
        except TimedOut:
            warnx(PROG, 'transfer timed out')
            return -1, FETCH_TIMEOUT
        except FetchError as e:
            warnx(PROG, e.text)
            return -1, e.code
        sys.stdout.write('Unknown\n' if r.size == -1 else '%d\n' % r.size)
        sys.stdout.flush()
        return 0, 0
    to_stdout = path == '-'
    tries = 1
    while True:
        st = None
        offset = 0
        if not to_stdout:
            try:
                st = os.stat(path)
            except OSError as e:
                if e.errno != errno.ENOENT:
                    warnx(PROG, '%s: stat()' % path)
                    return -1, 0
            if st is not None and not _isreg(st):
                st = None
            if st is not None and (o.r or tries > 1):
                offset = st.st_size
        size_prev = st.st_size if st is not None else -1
        try:
            f = xget(u, o, offset=offset, ims=ims)
        except TimedOut:
            warnx(PROG, 'transfer timed out')
            return -1, FETCH_TIMEOUT
        except FetchError as e:
            warnx(PROG, '%s: %s' % (url, e.text))
            if ims and e.text == 'Not Modified':
                return 0, 0
            return -1, e.code
        if o.S:
            if f.size == -1:
                warnx(PROG, '%s: size unknown' % url)
            elif f.size != o.S:
                warnx(PROG, '%s: size mismatch: expected %d, actual %d' % (url, o.S, f.size))
                f.close()
                return -1, 0
        if o.l and u.scheme == 'file' and not to_stdout:
            f.close()
            try:
                os.symlink(u.doc, path)
            except OSError as e:
                warnx(PROG, '%s: symlink(): %s' % (path, strerror(e.errno)))
                return -1, 0
            return 0, 0
        if f.size == -1 and not to_stdout and o.v > 0:
            warnx(PROG, '%s: size of remote file is not known' % url)
        if o.v > 1:
            if st is not None:
                sys.stderr.write('local size / mtime: %d / %d\n' % (st.st_size, int(st.st_mtime)))
            if f.size != -1:
                sys.stderr.write('remote size / mtime: %d / %d\n' % (f.size, f.mtime))
        of = None
        tmppath = None
        count = 0
        if to_stdout:
            of = sys.stdout.buffer
        elif o.r and st is not None:
            if not o.F and f.mtime and int(st.st_mtime) != f.mtime and tries == 1:
                f.close()
                if o.R:
                    warnx(PROG, '%s: local modification time does not match remote' % path)
                    return -1, 0
                f = None
            elif f.size != -1:
                if f.size == st.st_size:
                    f.close()
                    return 0, 0
                if st.st_size > f.size:
                    warnx(PROG, '%s: local file (%d bytes) is longer than remote file (%d bytes)' % (path, st.st_size, f.size))
                    f.close()
                    return -1, 0
                if getattr(f, 'offset', 0) == offset:
                    try:
                        of = open(path, 'r+b')
                        of.seek(offset)
                        count = offset
                    except OSError as e:
                        warnx(PROG, '%s: fopen(): %s' % (path, strerror(e.errno)))
                        f.close()
                        return -1, 0
        elif o.m and st is not None:
            if st.st_size == f.size and int(st.st_mtime) == f.mtime:
                f.close()
                return 0, 0
        if of is None:
            if f is None or getattr(f, 'offset', 0):
                if f is not None:
                    f.close()
                try:
                    f = xget(u, o, ims=ims)
                except TimedOut:
                    warnx(PROG, 'transfer timed out')
                    return -1, FETCH_TIMEOUT
                except FetchError as e:
                    warnx(PROG, '%s: %s' % (url, e.text))
                    return -1, e.code
            if st is not None:
                d, b = os.path.split(path)
                import random
                sfx = ''.join(random.choice('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789') for _ in range(6))
                tmppath = os.path.join(d, '.fetch.%s.%s' % (sfx, b))
                try:
                    fd = os.open(tmppath, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    of = os.fdopen(fd, 'wb')
                    os.chmod(tmppath, st.st_mode & 0o7777)
                    try:
                        os.chown(tmppath, st.st_uid, st.st_gid)
                    except OSError:
                        pass
                except OSError as e:
                    warnx(PROG, '%s: mkstemps(): %s' % (path, strerror(e.errno)))
                    f.close()
                    return -1, 0
            else:
                try:
                    of = open(path, 'wb')
                except OSError as e:
                    warnx(PROG, '%s: open(): %s' % (path, strerror(e.errno)))
                    f.close()
                    return -1, 0
        # the transfer (no tty: the summary line only, as stat_start/stat_end print it)
        start = time.time()
        if o.v > 0:
            sys.stderr.write('%-46s' % path[:63])
            sys.stderr.flush()
        timed_out = False
        err = None
        rcvd0 = count
        try:
            while True:
                n = o.B if f.size == -1 or f.size - count >= o.B or f.size - count < 0 else f.size - count
                if n == 0:
                    break
                data = f.read(n)
                if not data:
                    break
                count += len(data)
                of.write(data)
            of.flush()
        except socket.timeout:
            timed_out = True
        except OSError as e:
            err = e
        except Exception as e:  # http.client.IncompleteRead etc.
            err = e
        f.close()
        elapsed = int(time.time() - start)
        if o.v > 0:
            delta = time.time() - start
            bps = '?? Bps' if delta == 0 else '%sps' % stat_bytes(int((count - rcvd0) / delta))
            expected = (f.size - count) if f.size != -1 else 0
            eta = int(elapsed * expected / (count - rcvd0)) if count > rcvd0 else 0
            sys.stderr.write('        %s %s %s\n' % (stat_bytes(count), bps, stat_seconds(eta if eta > 0 else elapsed)))
        if not to_stdout:
            if not o.n and f.mtime:
                try:
                    os.utime(tmppath or path, (f.mtime, f.mtime))
                except OSError:
                    pass
            of.close()
        if timed_out:
            warnx(PROG, 'transfer timed out')
        if err is not None and not timed_out:
            if isinstance(err, OSError) and of is not None and getattr(err, 'filename', None) is None:
                warnx(PROG, '%s: %s' % (path if to_stdout is False else url, strerror(err.errno)))
            else:
                warnx(PROG, url)
            if not to_stdout:
                _cleanup(path, tmppath, o, st)
            return -1, FETCH_NETWORK
        if f.size != -1 and count < f.size:
            warnx(PROG, '%s appears to be truncated: %d/%d bytes' % (path, count, f.size))
            if not to_stdout and o.a and count > size_prev:
                if o.w:
                    time.sleep(o.w)
                tries += 1
                continue
            return -1, 0
        if timed_out and f.size == -1:
            warnx(PROG, '%s may be truncated' % path)
            return -1, 0
        if tmppath:
            try:
                os.rename(tmppath, path)
            except OSError as e:
                warnx(PROG, '%s: rename(): %s' % (path, strerror(e.errno)))
                return -1, 0
        return 0, 0


def _isreg(st):
    import stat as _st
    return _st.S_ISREG(st.st_mode)


def _cleanup(path, tmppath, o, st):
    if not o.R and not o.r:
        try:
            os.unlink(tmppath or path)
        except OSError:
            pass


def fetch(argv):
    def usage():
        sys.stderr.write(USAGE)
    opts, urls = simlib.getopt_long(PROG, argv, '146AaB:bc:dFf:Hh:i:lMmN:nPpo:qRrS:sT:tUvw:', LONGS, usage, 1)
    o = Opts()
    o.family = 0
    o.A = o.a = o.F = o.l = o.m = o.n = o.R = o.r = o.s = o.once = False
    o.B, o.S, o.T, o.w, o.v = 0, 0, 0, 0, 1
    o.i = o.o = o.N = o.bind = None
    o.c = o.f = o.h = None
    o.env = dict(os.environ)

    def num(v, what):
        try:
            if not v or v.strip() != v:
                raise ValueError
            return int(v, 10)
        except ValueError:
            simlib.die(PROG, 'invalid %s (%s)' % (what, v), 1)
    for k, v in opts:
        if k == '1':
            o.once = True
        elif k in '46' and len(k) == 1:
            o.family = int(k)
        elif k == 'A':
            o.A = True
        elif k == 'a':
            o.a = True
        elif k == 'B':
            o.B = num(v, 'buffer size')
        elif k == 'b':
            warnx(PROG, 'warning: the -b option is deprecated')
        elif k == 'c':
            o.c = v
        elif k == 'F':
            o.F = True
        elif k == 'f':
            o.f = v
        elif k == 'H':
            warnx(PROG, 'the -H option is now implicit, use -U to disable')
        elif k == 'h':
            o.h = v
        elif k == 'i':
            o.i = v
        elif k == 'l':
            o.l = True
        elif k == 'o':
            o.o = v
        elif k in ('M', 'm'):
            if o.r:
                simlib.die(PROG, 'the -m and -r flags are mutually exclusive', 1)
            o.m = True
        elif k == 'N':
            o.N = v
        elif k == 'n':
            o.n = True
        elif k == 'q':
            o.v = 0
        elif k == 'R':
            o.R = True
        elif k == 'r':
            if o.m:
                simlib.die(PROG, 'the -m and -r flags are mutually exclusive', 1)
            o.r = True
        elif k == 'S':
            o.S = num(v, 'size')
        elif k == 's':
            o.s = True
        elif k == 'T':
            o.T = num(v, 'timeout')
        elif k == 't':
            warnx(PROG, 'warning: the -t option is deprecated')
        elif k == 'v':
            o.v += 1
        elif k == 'w':
            o.a = True
            o.w = num(v, 'delay')
        elif k == 'bind-address':
            o.bind = v
        elif k == 'referer':
            o.env['HTTP_REFERER'] = v
        elif k == 'user-agent':
            o.env['HTTP_USER_AGENT'] = v
        elif k == 'ca-cert':
            o.env['SSL_CA_CERT_FILE'] = v
        elif k == 'ca-path':
            o.env['SSL_CA_CERT_PATH'] = v
        elif k == 'no-verify-hostname':
            o.env['SSL_NO_VERIFY_HOSTNAME'] = ''
        elif k == 'no-verify-peer':
            o.env['SSL_NO_VERIFY_PEER'] = ''
    if o.h or o.f or o.c:
        if not o.h or not o.f or urls:
            usage()
            raise Exit(1)
        if any(ch in o.h for ch in '@:/'):
            simlib.die(PROG, 'invalid hostname', 1)
        urls = ['ftp://%s/%s/%s' % (o.h, o.c or '', o.f)]
    if not urls:
        usage()
        raise Exit(1)
    o.B = max(o.B, MINBUFSIZE)
    o.http_timeout = o.ftp_timeout = TIMEOUT
    for var, attr in (('FTP_TIMEOUT', 'ftp_timeout'), ('HTTP_TIMEOUT', 'http_timeout')):
        s = os.environ.get(var)
        if s is not None:
            if s.isdigit():
                setattr(o, attr, int(s))
            else:
                warnx(PROG, '%s (%s) is not a positive integer' % (var, s))
                setattr(o, attr, 0)
    o_dir = False
    if o.o is not None and o.o != '-':
        try:
            o_dir = os.path.isdir(o.o) and os.stat(o.o) is not None
        except OSError:
            pass
        try:
            os.stat(o.o)
        except OSError as e:
            if e.errno == errno.ENOENT:
                if len(urls) > 1:
                    simlib.die(PROG, '%s is not a directory' % o.o, 1)
            else:
                simlib.die(PROG, '%s: %s' % (o.o, strerror(e.errno)), 1)
    rc = 0
    k = 0
    while k < len(urls):
        url = urls[k]
        p = url.rsplit('/', 1)[-1] or 'fetch.out'
        if o.o is not None:
            path = '-' if o.o == '-' else (o.o.rstrip('/') + '/' + p if o_dir else o.o)
        else:
            path = p
        e, code = fetch_one(url, path, o)
        if e == 0 and o.once:
            return 0
        if e:
            rc = 1
            if code and code not in SOFT_FAIL_EXCLUDED and \
                    (not url.lower().startswith('http') or code not in (FETCH_PROTO, FETCH_SERVER, FETCH_TEMP, FETCH_TIMEOUT)):
                if o.w and o.v:
                    sys.stderr.write('Waiting %d seconds before retrying\n' % o.w)
                if o.w:
                    time.sleep(o.w)
                if o.a:
                    continue
        k += 1
    return rc
