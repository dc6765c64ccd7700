// Conformance of the simulated FreeBSD 14 host's stand-ins with their FreeBSD 14 man pages:
// a table of command lines (as a client or the Handbook writes them) with the stdout, stderr and
// exit status FreeBSD gives, each with the man page section (or source file) it follows.
// Run: cd /work/main && npx tsc -p . && node --test dist/test/simhost/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { canRunSimHosts, sshRun, startSimHosts, SimHost, SimHosts, SshResult } from './index';

const skip = canRunSimHosts() ? false : 'needs root on Linux (network + mount namespaces)';
let sim: SimHosts;
let h: SimHost;

const BASE = 'https://download.freebsd.org/releases/amd64/14.3-RELEASE';
const WEB = '10.0.3.10';
const WEB6 = 'fd00:a1ca:1de::3:10';
const J = '/usr/local/jails';

const FETCH_USAGE =
  'usage: fetch [-146AadFlMmnPpqRrsUv] [-B bytes] [--bind-address=host]\n' +
  '       [--ca-cert=file] [--ca-path=dir] [--cert=file] [--crl=file]\n' +
  '       [-i file] [--key=file] [-N file] [--no-passive] [--no-proxy=list]\n' +
  '       [--no-sslv3] [--no-tlsv1] [--no-verify-hostname] [--no-verify-peer]\n' +
  '       [-o file] [--referer=URL] [-S bytes] [-T seconds]\n' +
  '       [--user-agent=agent-string] [-w seconds] URL ...\n' +
  '       fetch [-146AadFlMmnPpqRrsUv] [-B bytes] [--bind-address=host]\n' +
  '       [--ca-cert=file] [--ca-path=dir] [--cert=file] [--crl=file]\n' +
  '       [-i file] [--key=file] [-N file] [--no-passive] [--no-proxy=list]\n' +
  '       [--no-sslv3] [--no-tlsv1] [--no-verify-hostname] [--no-verify-peer]\n' +
  '       [-o file] [--referer=URL] [-S bytes] [-T seconds]\n' +
  '       [--user-agent=agent-string] [-w seconds] -h host -f file [-c dir]\n';

async function sh(cmd: string, opts: { input?: string; timeoutMs?: number } = {}): Promise<SshResult> {
  return sshRun(h, cmd, opts);
}

async function ok(cmd: string): Promise<string> {
  const r = await sh(cmd);
  assert.equal(r.code, 0, `command failed (${r.code}): ${cmd}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

// A jail "web" serving /srv over HTTP on WEB:4000 and [WEB6]:4000 (Python's http.server), plus a
// port that accepts and never answers (4002, for -T).
const SILENT = 'import socket,time\\ns=socket.socket()\\ns.bind(("' + WEB + '",4002))\\ns.listen(8)\\nc=[]\\n' + 'while True:\\n    c.append(s.accept())\\n';

before(async () => {
  if (skip) return;
  sim = await startSimHosts({ hosts: 1 });
  h = sim.hosts[0];
  await ok(
    `ifconfig lo1 create && mkdir -p ${J}/web ${J}/pk ${J}/hb && cd /tmp && ` +
      `fetch -q -o /tmp/base.txz ${BASE}/base.txz && ` +
      `for j in web pk hb; do tar -xf /tmp/base.txz -C ${J}/$j && cp /etc/resolv.conf ${J}/$j/etc/resolv.conf; done && ` +
      `mkdir -p ${J}/web/srv && printf 'hello\\n' > ${J}/web/srv/hello.txt && ` +
      `printf '${SILENT}' > ${J}/web/silent.py && ` +
      `jail -c name=web path=${J}/web ip4.addr="lo1|${WEB}/32" ip6.addr="lo1|${WEB6}/128" mount.devfs persist && ` +
      `jexec web daemon -f python3 -m http.server 4000 --bind ${WEB} --directory /srv && ` +
      `jexec web daemon -f python3 -m http.server 4000 --bind ${WEB6} --directory /srv && ` +
      `jexec web daemon -f python3 /silent.py && ` +
      `jail -c name=pk path=${J}/pk persist && ` +
      `printf '${WEB}\\tweb.example.org\\n' >> /etc/hosts`,
  );
  // wait for the servers
  await ok(
    `i=0; until python3 -c 'import socket; socket.create_connection(("${WEB}", 4000), 1); ` +
      `socket.create_connection(("${WEB6}", 4000), 1)' 2>/dev/null; do i=$((i+1)); [ $i -lt 100 ] || exit 1; sleep 0.1; done`,
  );
});

after(async () => {
  if (sim) await sim.down();
});

interface Case {
  cmd: string;
  code?: number;
  out?: string | RegExp;
  err?: string | RegExp;
  /** the FreeBSD 14 man page section / source the expectation follows */
  src: string;
}

const U = `http://${WEB}:4000`;

const CASES: Case[] = [
  // ---- daemon(8): getopt_long with a '+' optstring (no permuting); libc is built GNU_COMPATIBLE
  {
    cmd: 'daemon -C 3 true',
    code: 1,
    err: /^daemon: invalid option -- C\nusage: daemon /,
    src: 'daemon(8) SYNOPSIS (14.3: no -C); lib/libc/stdlib/getopt_long.c gnuoptchar',
  },
  { cmd: 'daemon -f true -x; echo $?', code: 0, out: '0\n', err: '', src: 'daemon.c shortopts "+…": options after the command are the command\'s' },
  // ---- fetch(1): getopt_long permutes, so options may follow the URL
  {
    cmd: `fetch ${U}/hello.txt -q -o /tmp/f1 && cat /tmp/f1`,
    code: 0,
    out: 'hello\n',
    err: '',
    src: 'fetch(1) SYNOPSIS; usr.bin/fetch/fetch.c getopt_long(); getopt_long(3) (permutes operands)',
  },
  {
    cmd: `cd /tmp && fetch ${U}/hello.txt -o /tmp/f2 && cat /tmp/f2 && ls /tmp | grep -c -e '^-o$' -e '^f2$'`,
    code: 0,
    out: 'hello\n1\n',
    err: /^\/tmp\/f2 {39} {8} {3}6 {2}B .*ps {4}\d\ds\n$/,
    src: 'fetch(1) -o; fetch.c stat_start()/stat_end() (stderr not a tty)',
  },
  { cmd: `fetch -qo /dev/null ${U}/`, code: 0, out: '', err: '', src: 'fetch(1) -q -o (combined flags, getopt(3))' },
  { cmd: `fetch -o - ${U}/hello.txt`, code: 0, out: 'hello\n', err: /^- {45} {8} {3}6 {2}B .*\n$/, src: 'fetch(1) -o: "-" is stdout' },
  { cmd: `fetch -q --output=/tmp/f3 -- ${U}/hello.txt && cat /tmp/f3`, code: 0, out: 'hello\n', err: '', src: 'fetch(1) --output; getopt_long(3) "--"' },
  { cmd: `cd /tmp && fetch -q ${U}/hello.txt && cat /tmp/hello.txt`, code: 0, out: 'hello\n', src: 'fetch(1): local name = last URL component' },
  {
    cmd: `fetch -q -o - http://web.example.org:4000/hello.txt`,
    code: 0,
    out: 'hello\n',
    err: '',
    src: 'fetch(1) + hosts(5): names resolve through the host resolver',
  },
  { cmd: `fetch -q -o - 'http://[${WEB6}]:4000/hello.txt'`, code: 0, out: 'hello\n', err: '', src: 'fetch(3) URL syntax: IPv6 literal in brackets' },
  { cmd: `fetch -s ${U}/hello.txt`, code: 0, out: '6\n', err: '', src: 'fetch(1) -s' },
  {
    cmd: `fetch -qo /dev/null ${U}/nope`,
    code: 1,
    out: '',
    err: `fetch: ${U}/nope: Not Found\n`,
    src: 'fetch(1) EXIT STATUS; fetch.c warnx("%s: %s", URL, fetchLastErrString); libfetch http.c http_errlist',
  },
  {
    cmd: `fetch -qo /dev/null http://${WEB}:4999/`,
    code: 1,
    err: `fetch: http://${WEB}:4999/: Connection refused\n`,
    src: 'fetch(3) ERRORS (system error text)',
  },
  {
    cmd: 'fetch -qo /dev/null http://nosuch.example.org/x',
    code: 1,
    err: 'fetch: http://nosuch.example.org/x: No address record\n',
    src: 'fetch(3) ERRORS; libfetch common.c netdb_errlist (no working DNS on the simulated host)',
  },
  { cmd: `fetch -T 1 -qo /dev/null http://${WEB}:4002/`, code: 1, err: 'fetch: transfer timed out\n', src: 'fetch(1) -T' },
  { cmd: `fetch -S 5 -qo /dev/null ${U}/hello.txt`, code: 1, err: `fetch: ${U}/hello.txt: size mismatch: expected 5, actual 6\n`, src: 'fetch(1) -S' },
  {
    cmd: `fetch -qo /tmp/nodir ${U}/hello.txt ${U}/hello.txt`,
    code: 1,
    err: 'fetch: /tmp/nodir is not a directory\n',
    src: 'fetch(1) -o: several URLs need a directory',
  },
  {
    cmd: `fetch -O /tmp/x ${U}/hello.txt`,
    code: 1,
    out: '',
    err: 'fetch: invalid option -- O\n' + FETCH_USAGE,
    src: 'fetch(1) has no -O; getopt_long(3) GNU_COMPATIBLE message; fetch.c usage() + exit(1)',
  },
  { cmd: 'fetch --bogus', code: 1, err: "fetch: unrecognized option `--bogus'\n" + FETCH_USAGE, src: 'getopt_long(3)' },
  { cmd: 'fetch -q', code: 1, out: '', err: FETCH_USAGE, src: 'fetch.c: no URL -> usage(), exit 1' },
  { cmd: `fetch -m -r ${U}/x`, code: 1, err: 'fetch: the -m and -r flags are mutually exclusive\n', src: 'fetch(1) -m, -r' },
  { cmd: `fetch -qo - ${BASE}/MANIFEST | cut -f1`, code: 0, out: 'base.txz\n', src: 'simhost mirror of download.freebsd.org' },
  { cmd: `fetch -qo /dev/null ${BASE}/nosuch.txz`, code: 1, err: `fetch: ${BASE}/nosuch.txz: Not Found\n`, src: 'fetch(1) EXIT STATUS' },
  // ---- pkg(7)/pkg(8)
  {
    cmd: 'jexec pk pkg install -y git >/dev/null && jexec pk pkg info -q git',
    code: 0,
    out: 'git-2.50.1\n',
    err: '',
    src: 'pkg(7): -y anywhere on the command line bootstraps without asking (usr.sbin/pkg/pkg.c getopt_long "-:fr::yN")',
  },
  { cmd: 'pkg -j pk info -e git', code: 0, out: '', err: '', src: 'pkg(8) -j; pkg-info(8) -e' },
  { cmd: `pkg -c ${J}/pk info -q git`, code: 0, out: 'git-2.50.1\n', src: 'pkg(8) -c' },
  {
    cmd: 'pkg install -y node24 npm-node24 >/dev/null && pkg info -q node24 npm-node24',
    code: 0,
    out: 'node24-24.4.1\nnpm-node24-10.9.2\n',
    src: 'pkg-install(8); FreeBSD ports www/node24, www/npm-node24',
  },
  {
    cmd: 'pkg install -y postgresql17-server >/dev/null && pkg version | grep postgresql17',
    code: 0,
    out: /^postgresql17-client-17\.5 +=\npostgresql17-server-17\.5 +=\n$/,
    src: 'pkg-version(8); databases/postgresql17-server',
  },
  {
    cmd: 'pkg install -y nosuchpkg',
    code: 1,
    err: "pkg: No packages available to install matching 'nosuchpkg' have been found in the repositories\n",
    src: 'pkg-install(8)',
  },
  // ---- rc.d/linux
  {
    cmd: 'service linux onestart && kldstat -q -m linux && kldstat -q -m linux64 && echo loaded',
    code: 0,
    out: 'loaded\n',
    src: 'FreeBSD 14 libexec/rc/rc.d/linux; service(8); kldstat(8) -q -m',
  },
  {
    cmd: 'service linux start',
    code: 0,
    err: '',
    out: /^Cannot 'start' linux\. Set linux_enable to YES in \/etc\/rc\.conf or use 'onestart' instead of 'start'\.\n$/,
    src: 'rc.subr(8) run_rc_command (echo: stdout, return 0)',
  },
  // ---- Handbook forms (Jails chapter, pkg, networking)
  {
    cmd: `mkdir -p ${J}/tx && tar -xf /tmp/base.txz -C ${J}/tx && test -f ${J}/tx/etc/rc.conf && echo extracted`,
    code: 0,
    out: 'extracted\n',
    src: 'Handbook 17.3 (tar -xf base.txz -C); tar(1) -x -f -C',
  },
  {
    cmd: `jail -c name=hb path=${J}/hb host.hostname=hb.example.org ip4.addr=10.0.3.20 persist && jls -j hb name host.hostname && jexec hb hostname`,
    code: 0,
    out: 'hb hb.example.org\nhb.example.org\n',
    src: 'jail(8) -c name=… path=…; jls(8) -j parameters',
  },
  { cmd: "jexec -l hb /bin/sh -c 'echo $HOME; pwd'", code: 0, out: '/root\n/root\n', src: 'jexec(8) -l: clean environment, home directory' },
  {
    cmd: `sysrc -f ${J}/hb/etc/rc.conf sendmail_enable=NONE >/dev/null && grep '^sendmail_enable' ${J}/hb/etc/rc.conf`,
    code: 0,
    out: 'sendmail_enable="NONE"\n',
    src: 'sysrc(8) -f',
  },
  { cmd: 'sysrc -j hb -n sendmail_enable', code: 0, out: 'NONE\n', src: 'sysrc(8) -j' },
  {
    cmd: 'service -j hb nosuch start',
    code: 1,
    err: '',
    out: 'nosuch does not exist in /etc/rc.d or the local startup\ndirectories (/usr/local/etc/rc.d), or is not executable\n',
    src: 'service(8) -j (usr.sbin/service/service.sh)',
  },
  {
    cmd:
      `mkdir -p /usr/local/share/hbdata && echo x > /usr/local/share/hbdata/f && ` +
      `mount -t nullfs -o ro /usr/local/share/hbdata ${J}/hb/mnt && cat ${J}/hb/mnt/f && ` +
      `{ touch ${J}/hb/mnt/g 2>/dev/null || echo read-only; } && umount ${J}/hb/mnt`,
    code: 0,
    out: 'x\nread-only\n',
    src: 'mount_nullfs(8); mount(8) -t -o ro',
  },
  { cmd: 'ifconfig lo1 alias 10.0.3.30/32 && ifconfig lo1 | grep -c "inet 10.0.3.30 "', code: 0, out: '1\n', src: 'ifconfig(8) alias' },
  // ---- mount(8) -p: fstab(5) lines, fields padded with tabs to columns 8/16/24 (a space beyond)
  {
    cmd: `mount -p -t devfs`,
    code: 0,
    err: '',
    out: `devfs\t\t\t/dev\t\t\tdevfs\trw\t\t0 0\ndevfs\t\t\t${J}/web/dev devfs\trw\t\t0 0\n`,
    src: 'mount(8) -p, -t; sbin/mount/mount.c putfsent()',
  },
  {
    cmd: `mkdir -p /usr/local/share/hbdata && mount -t nullfs -o ro /usr/local/share/hbdata ${J}/hb/mnt && mount -p -t nullfs && mount -t nullfs && umount ${J}/hb/mnt && mount -p -t nullfs`,
    code: 0,
    out: `/usr/local/share/hbdata\t${J}/hb/mnt\tnullfs\tro\t\t0 0\n/usr/local/share/hbdata on ${J}/hb/mnt (nullfs, local, read-only)\n`,
    src: 'mount.c putfsent() and prmount()',
  },
  { cmd: 'mount -p -t noufs,devfs', code: 0, out: '', src: 'mount(8) -t: a "no" prefix negates the whole list (vfslist.c)' },
  {
    cmd: 'jexec web mount -p',
    code: 0,
    out: '/dev/gpt/rootfs\t\t/\t\t\tufs\trw\t\t1 1\n',
    src: "jail(8) enforce_statfs=2: only the file system holding the jail's root, as /",
  },
  // ---- chflags(1): schg on a file of base.txz; even root cannot remove it until noschg
  {
    cmd: `mkdir -p ${J}/fl && tar -xf /tmp/base.txz -C ${J}/fl && stat -f '%Sf %N' ${J}/fl/lib/libc.so.7 ${J}/fl/var/empty ${J}/fl/etc/rc.conf`,
    code: 0,
    out: `schg ${J}/fl/lib/libc.so.7\nschg ${J}/fl/var/empty\n- ${J}/fl/etc/rc.conf\n`,
    src: 'stat(1) %Sf (fflagstostr(3), "-" when none); libc PRECIOUSLIB and etc/mtree/BSD.var.dist "empty flags=schg"',
  },
  {
    cmd: `rm -rf ${J}/fl 2>/dev/null; test -e ${J}/fl/lib/libc.so.7 && chflags -R noschg ${J}/fl && rm -rf ${J}/fl && ! test -e ${J}/fl && echo gone`,
    code: 0,
    out: 'gone\n',
    src: 'chflags(1) -R; chflags(2): an SF_IMMUTABLE file may not be changed, renamed or removed',
  },
  {
    cmd:
      `touch /tmp/cf && chflags -v sappnd,schg,nodump /tmp/cf && stat -f '%Sf %#Of' /tmp/cf && ` +
      `{ { echo x >> /tmp/cf; } 2>/dev/null || echo refused; } && chflags -vv 0 /tmp/cf && rm /tmp/cf`,
    code: 0,
    out: '/tmp/cf\nsappnd,schg,nodump 01400001\nrefused\n/tmp/cf: 01400001 -> 00\n',
    err: '',
    src: 'chflags(1) -v, -vv, octal flags; strtofflags(3) keyword order; sys/stat.h SF_APPEND SF_IMMUTABLE UF_NODUMP',
  },
  {
    cmd: 'touch /tmp/cg && chflags dump,noschg /tmp/cg && chflags nouchg,opaque /tmp/cg; echo $?; rm /tmp/cg',
    code: 0,
    out: '0\n',
    err: '',
    src: 'chflags(1): "dump" clears nodump, a "no" prefix clears',
  },
  { cmd: 'chflags frob /tmp', code: 1, out: '', err: 'chflags: invalid flag: frob\n', src: 'chflags.c: errx(1, "invalid flag: %s")' },
  { cmd: 'chflags 9 /tmp', code: 1, err: 'chflags: invalid flag: 9\n', src: 'chflags.c: octal only when the operand starts with 0-7' },
  { cmd: 'chflags 08 /tmp', code: 1, err: 'chflags: invalid flags: 08\n', src: 'chflags.c: strtol(flags, 8) leaves "8"' },
  { cmd: 'chflags -R -h noschg /tmp', code: 1, err: 'chflags: the -R and -h options may not be specified together.\n', src: 'chflags.c' },
  { cmd: 'chflags noschg /nonexistent', code: 1, err: 'chflags: /nonexistent: No such file or directory\n', src: 'chflags.c FTS_NS' },
  {
    cmd: 'chflags -f noschg /nonexistent',
    code: 1,
    err: 'chflags: /nonexistent: No such file or directory\n',
    src: 'chflags(1) -f hides only failures to change flags (FTS_NS still warns)',
  },
  { cmd: 'chflags schg', code: 1, err: 'usage: chflags [-fhvx] [-R [-H | -L | -P]] flags file ...\n', src: 'chflags.c usage()' },
];

test('stand-ins answer as their FreeBSD 14 man pages say (conformance table)', { skip, timeout: 180_000 }, async () => {
  const failures: string[] = [];
  for (const c of CASES) {
    const r = await sh(c.cmd, { timeoutMs: 30_000 });
    const bad: string[] = [];
    const check = (what: string, want: string | RegExp | undefined, got: string) => {
      if (want === undefined) return;
      if (typeof want === 'string' ? got !== want : !want.test(got)) bad.push(`${what}: want ${JSON.stringify(String(want))}, got ${JSON.stringify(got)}`);
    };
    if (c.code !== undefined && r.code !== c.code) bad.push(`exit: want ${c.code}, got ${r.code}`);
    check('stdout', c.out, r.stdout);
    check('stderr', c.err, r.stderr);
    if (bad.length) failures.push(`${c.cmd}\n  [${c.src}]\n  ${bad.join('\n  ')}`);
  }
  assert.deepEqual(failures, []);
});

test("the host's real root filesystem is read-only outside its private trees (EROFS)", { skip }, async () => {
  for (const p of ['/jails', '/usr/jails', '/data']) {
    const r = await sh(`mkdir -p ${p}/x`);
    assert.equal(r.code, 1, `${p}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /Read-only file system/);
  }
  // the private trees stay writable
  await ok('touch /etc/x /var/x /tmp/x /root/x /usr/local/x && rm /etc/x /var/x /tmp/x /root/x /usr/local/x');
});
