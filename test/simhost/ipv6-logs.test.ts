// Simulated FreeBSD 14 host: IPv6 for jails (ip6.addr, ifconfig inet6, v6only), daemon(8)'s
// -o output pipe with -H, and newsyslog(8) rotating a daemon's log inside a jail.
// Run: cd /work/main && npx tsc -p . && node --test dist/test/simhost/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { canRunSimHosts, sshRun, startSimHosts, SimHost, SimHosts, SshResult } from './index';

const skip = canRunSimHosts() ? false : 'needs root on Linux (network + mount namespaces)';
let sim: SimHosts;
let h: SimHost;

const BASE = 'https://download.freebsd.org/releases/amd64/14.3-RELEASE';
const V6 = 'fd00:a1ca:1de::a00:2';
const V6B = 'fd00:a1ca:1de::a00:3';

async function sh(cmd: string, opts: { input?: string; timeoutMs?: number } = {}): Promise<SshResult> {
  return sshRun(h, cmd, opts);
}

async function ok(cmd: string, opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  const r = await sh(cmd, opts);
  assert.equal(r.code, 0, `command failed (${r.code}): ${cmd}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

async function makeJailRoot(name: string): Promise<string> {
  const path = `/usr/local/jails/${name}`;
  await ok(
    `mkdir -p ${path} && cd /tmp && ` +
      `{ [ -f /tmp/base.txz ] || fetch -q -o /tmp/base.txz ${BASE}/base.txz; } && ` +
      `tar -xf /tmp/base.txz -C ${path} && cp /etc/resolv.conf ${path}/etc/resolv.conf`,
  );
  return path;
}

/** Every stand-in the host ran with these leading argv words (from the invocation log). */
function invocations(prefix: string[]): string[][] {
  return readFileSync(h.invocationLog, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { argv: string[] }).argv)
    .filter((a) => prefix.every((w, i) => a[i] === w));
}

// A TCP server for jails: answers every connection with TAG; binds ADDR (:: or 0.0.0.0) without
// touching IPV6_V6ONLY, so the system default (net.inet6.ip6.v6only) decides about IPv4.
const SERVER = `import socket, sys
addr, port, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET6 if ':' in addr else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port))
s.listen(16)
while True:
    c, _ = s.accept()
    c.sendall(tag.encode() + b'\\n')
    c.close()
`;

/** A python3 one-liner run in the host namespace (or a jail): connect and print the answer. */
const probe = (host: string, port: number) =>
  `python3 -c 'import socket,sys,time
for i in range(40):
    try:
        s = socket.create_connection(("${host}", ${port}), timeout=3); print(s.recv(64).decode().strip()); break
    except ConnectionRefusedError as e:
        err = e; time.sleep(0.1)
else:
    print("refused")'`;

before(async () => {
  if (skip) return;
  sim = await startSimHosts({ hosts: 1 });
  h = sim.hosts[0];
});

after(async () => {
  if (sim) await sim.down();
});

test('ifconfig inet6: alias/-alias bookkeeping on lo1 in FreeBSD format and errors', { skip }, async () => {
  await ok('ifconfig lo1 create');
  const before = await ok('ifconfig lo1');
  assert.match(before, /\tnd6 options=29<PERFORMNUD,IFDISABLED,AUTO_LINKLOCAL>\n/);
  assert.doesNotMatch(before, /inet6/);
  await ok('ifconfig lo1 inet6 fd00:1::5 prefixlen 128 alias && ifconfig lo1 inet6 fd00:1:0:0::6/64 alias && ' + 'ifconfig lo1 inet6 fd00:1::7 alias');
  const out = await ok('ifconfig lo1');
  // addresses as inet_ntop prints them, in the order added; the loopback's link-local appears
  // when IPv6 is enabled by the first address; no prefix given -> 64 (in6_postproc)
  assert.match(out, /^lo1: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> metric 0 mtu 16384\n/);
  assert.match(
    out,
    /\tinet6 fd00:1::5 prefixlen 128\n\tinet6 fe80::1%lo1 prefixlen 64 scopeid 0x3\n\tinet6 fd00:1::6 prefixlen 64\n\tinet6 fd00:1::7 prefixlen 64\n/,
  );
  assert.match(out, /\tnd6 options=21<PERFORMNUD,AUTO_LINKLOCAL>\n/);
  await ok('ifconfig lo1 inet6 fd00:1::6 -alias && ifconfig lo1 inet6 fd00:1::7/64 -alias');
  const after = await ok('ifconfig lo1');
  assert.doesNotMatch(after, /fd00:1::6|fd00:1::7/);
  assert.match(after, /\tinet6 fd00:1::5 prefixlen 128\n/);
  const cases: Array<{ cmd: string; err: string }> = [
    { cmd: 'ifconfig lo1 inet6 fd00:1::99 -alias', err: "ifconfig: ioctl (SIOCDIFADDR): Can't assign requested address\n" },
    { cmd: 'ifconfig lo1 inet6 fd00:1::zz alias', err: 'ifconfig: fd00:1::zz: bad value\n' },
    { cmd: 'ifconfig lo1 inet6 fd00:1::8 prefixlen 129 alias', err: 'ifconfig: 129: bad value\n' },
    { cmd: 'ifconfig lo1 inet6 fd00:1::8 prefixlen', err: "ifconfig: 'prefixlen' requires argument\n" },
    { cmd: 'ifconfig lo9 inet6 fd00:1::8 alias', err: 'ifconfig: interface lo9 does not exist\n' },
  ];
  for (const c of cases) {
    const r = await sh(c.cmd);
    assert.equal(r.code, 1, `${c.cmd}: ${r.stderr}`);
    assert.equal(r.stderr, c.err, c.cmd);
  }
  await ok('ifconfig lo1 inet6 fd00:1::5 -alias');
  // bookkeeping only: the host namespace never holds these addresses
  assert.doesNotMatch(await ok('ip -6 -o addr show'), /fd00:/);
});

test('jail with ip4.addr + ip6.addr: ifconfig forms, jls, TCP from the host on both families, v6only', { skip }, async () => {
  await makeJailRoot('dual');
  await makeJailRoot('dual2');
  await ok('ifconfig lo1 >/dev/null 2>&1 || ifconfig lo1 create');
  await ok(`cat > /etc/jail.conf <<'EOF'
dual {
    path = "/usr/local/jails/$name";
    host.hostname = "$name";
    ip4.addr = "lo1|10.0.2.2/32";
    ip6.addr = "lo1|${V6}/128";
    mount.devfs;
    persist;
}
EOF`);
  assert.equal(await ok('jail -c dual'), 'dual: created\n');
  // a command-line jail with an address without prefix length (-> prefixlen 128)
  await ok(`jail -c name=dual2 path=/usr/local/jails/dual2 host.hostname=dual2 ip4.addr="lo1|10.0.2.3" ip6.addr="lo1|${V6B}" persist`);
  // jail(8) ran ifconfig exactly as usr.sbin/jail/command.c builds it
  const cmds = invocations(['ifconfig', 'lo1']).map((a) => a.join(' '));
  assert.ok(cmds.includes('ifconfig lo1 inet 10.0.2.2/32 alias'), cmds.join('\n'));
  assert.ok(cmds.includes(`ifconfig lo1 inet6 ${V6}/128 alias`), cmds.join('\n'));
  assert.ok(cmds.includes('ifconfig lo1 inet 10.0.2.3 netmask 255.255.255.255 alias'), cmds.join('\n'));
  assert.ok(cmds.includes(`ifconfig lo1 inet6 ${V6B} prefixlen 128 alias`), cmds.join('\n'));
  assert.match(await ok('ifconfig lo1'), new RegExp(`\\tinet 10\\.0\\.2\\.2 netmask 0xffffffff\\n\\tinet6 ${V6} prefixlen 128\\n`));
  // jls shows the IPv6 addresses as FreeBSD does
  assert.equal(await ok('jls -j dual name ip4.addr ip6.addr ip6'), `dual 10.0.2.2 ${V6} new\n`);
  assert.match(await ok('jls -n -j dual'), new RegExp(` ip6\\.addr=${V6} `));
  assert.match(await ok('jls -v -j dual'), new RegExp(`\\n        10\\.0\\.2\\.2\\n        ${V6}\\n$`));
  assert.equal(await ok('jls -j dual2 ip6.addr'), `${V6B}\n`);
  // inside the jail, ifconfig shows the jail's own addresses
  assert.match(await ok('jexec dual ifconfig'), new RegExp(`\\tinet 10\\.0\\.2\\.2 netmask 0xffffffff\\n\\tinet6 ${V6} prefixlen 128\\n`));
  // two jails may not share an IPv6 address
  const dup = await sh(`jail -c name=dup path=/usr/local/jails/dual2 ip6.addr="lo1|${V6}/128" persist`);
  assert.equal(dup.code, 1);
  assert.equal(dup.stderr, 'jail: jail_set: Address already in use\n');
  const bad = await sh('jail -c name=bad path=/usr/local/jails/dual2 ip6.addr="lo1|fd00::zz" persist');
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, 'jail: ip6.addr: not an IPv6 address: fd00::zz\n');
  // a jail with ip6.addr has IPv6 (no noinet6 preload); the jail addresses stay out of the host ns
  await ok('jexec dual python3 -c "import socket; socket.socket(socket.AF_INET6)"');
  assert.doesNotMatch(await ok('ip -o addr show'), /10\.0\.2\.2|fd00:a1ca/);
  // FreeBSD's net.inet6.ip6.v6only=1 in the host and in jails
  assert.equal(
    await ok(
      'sysctl -n net.inet6.ip6.v6only; jexec dual sysctl -n net.inet6.ip6.v6only; cat /proc/sys/net/ipv6/bindv6only; ' +
        'nsenter --net=/run/netns/sj$(jls -j dual jid) cat /proc/sys/net/ipv6/bindv6only',
    ),
    '1\n1\n1\n1\n',
  );
  // listeners in the jail: :: (IPV6_V6ONLY untouched) on 4200, 0.0.0.0 on 4201
  await ok('cat > /usr/local/jails/dual/root/srv.py', { input: SERVER });
  await ok(
    'jexec dual daemon -f -p /var/run/s6.pid python3 /root/srv.py :: 4200 v6 && ' +
      'jexec dual daemon -f -p /var/run/s4.pid python3 /root/srv.py 0.0.0.0 4201 v4',
  );
  // from the host namespace (where Caddy runs): IPv6 and IPv4 both answer ...
  assert.equal(await ok(probe(V6, 4200)), 'v6\n');
  assert.equal(await ok(probe('10.0.2.2', 4201)), 'v4\n');
  // ... but the :: wildcard listener is IPv6-only, as on FreeBSD (Linux's default would accept IPv4)
  const v4on6 = await sh(`python3 -c 'import socket; socket.create_connection(("10.0.2.2", 4200), timeout=3)'`);
  assert.notEqual(v4on6.code, 0, 'a :: listener answered on IPv4: v6only is not in effect');
  assert.match(v4on6.stderr, /Connection refused/);
  // curl through the IPv6 address (what Caddy would do with [addr]:port)
  assert.equal(await ok(`curl -s -o /dev/null -w '%{remote_ip}' --max-time 3 http://[${V6}]:4200/ || true`), V6);
  // jail to jail over IPv6, like IPv4
  assert.equal(await ok(`jexec dual2 ${probe(V6, 4200)}`), 'v6\n');
  // removal runs the -alias commands and frees the addresses
  await ok('jail -r dual && jail -r dual2');
  const down = invocations(['ifconfig', 'lo1']).map((a) => a.join(' '));
  assert.ok(down.includes(`ifconfig lo1 inet6 ${V6}/128 -alias`), down.join('\n'));
  assert.ok(down.includes('ifconfig lo1 inet 10.0.2.2/32 -alias'), down.join('\n'));
  assert.doesNotMatch(await ok('ifconfig lo1'), new RegExp(`${V6}|10\\.0\\.2\\.2`));
  // jail -r of a jail.conf jail unmounts its devfs
  assert.doesNotMatch(await ok('mount'), /jails\/dual\//);
  await ok('rm /etc/jail.conf');
});

test('daemon(8) -o writes through the supervisor: -H reopens the file on SIGHUP, -m masks', { skip }, async () => {
  const loop = `sh -c 'i=0; while :; do i=$((i+1)); echo "line $i"; echo "err $i" >&2; sleep 0.1; done'`;
  await ok(
    `daemon -f -o /var/log/dh.log -H -P /var/run/dh.pid ${loop} && ` +
      `daemon -f -o /var/log/dn.log -P /var/run/dn.pid ${loop} && ` +
      `daemon -f -m 1 -o /var/log/dm.log -P /var/run/dm.pid ${loop}`,
  );
  await new Promise((r) => setTimeout(r, 700));
  // the supervisor owns the file (0600), the child only has a pipe
  const fds = await ok('ls -l /proc/$(pgrep -P $(cat /var/run/dh.pid))/fd/1; stat -f %Lp /var/log/dh.log');
  assert.match(fds, /pipe:/);
  assert.match(fds, /\n600\n$/);
  await ok('mv /var/log/dh.log /var/log/dh.log.0 && mv /var/log/dn.log /var/log/dn.log.0 && ' + 'kill -HUP $(cat /var/run/dh.pid) $(cat /var/run/dn.pid)');
  await new Promise((r) => setTimeout(r, 500));
  const n0 = (await ok('wc -l < /var/log/dh.log.0')).trim();
  await new Promise((r) => setTimeout(r, 700));
  const r = await ok(
    'wc -l < /var/log/dh.log.0; wc -l < /var/log/dh.log; tail -1 /var/log/dh.log; ' +
      'stat -f %Lp /var/log/dh.log; kill -0 $(cat /var/run/dn.pid) && echo alive; ls /var/log/dn.log 2>&1; ' +
      'grep -c err /var/log/dm.log; grep -c line /var/log/dm.log',
  );
  const [old, cur, last, mode, alive, dn, dmErr, dmLines] = r.trim().split('\n');
  assert.equal(old.trim(), n0, 'the rotated file still receives lines after SIGHUP');
  assert.ok(Number(cur) >= 6, `the reopened file gets the new lines (${cur})`);
  assert.match(last, /^(line|err) \d+$/);
  assert.equal(mode, '600');
  // without -H, SIGHUP is ignored (the supervisor lives on, keeps writing to the renamed file)
  assert.equal(alive, 'alive');
  assert.match(dn, /No such file or directory/);
  // -m 1: only stdout goes to the file
  assert.equal(dmErr, '0');
  assert.ok(Number(dmLines) > 3);
  // SIGTERM still stops child and supervisor, pid files go away
  await ok(
    'for f in dh dn dm; do kill $(cat /var/run/$f.pid); done; sleep 0.5; ' + 'for f in dh dn dm; do [ ! -e /var/run/$f.pid ]; done; ! pgrep -f "echo \\"line"',
  );
  const bad = await sh('daemon -o /nonexistent/x.log true');
  assert.equal(bad.code, 7);
  assert.equal(bad.stderr, 'daemon: open: No such file or directory\n');
  const mask = await sh('daemon -m 4 true');
  assert.equal(mask.code, 6);
  assert.equal(mask.stderr, 'daemon: unrecognized listening mask\n');
});

test('newsyslog(8): config errors, -n, count/compression on the host', { skip }, async () => {
  const cases: Array<{ conf: string; err: string }> = [
    { conf: '/var/log/x.log 644\n', err: 'newsyslog: missing field in config file:\n/var/log/x.log 644\n\n' },
    { conf: '/var/log/x.log 644 3 100 * Q\n', err: 'newsyslog: illegal flag in config file -- Q\n' },
    { conf: '/var/log/x.log 644 3 100 @2x J\n', err: "newsyslog: malformed 'at' value:\n/var/log/x.log 644 3 100 @2x J\n\n" },
    { conf: '/var/log/x.log nosuchuser: 644 3 100 * J\n', err: 'newsyslog: error in config file; unknown user:\n/var/log/x.log nosuchuser: 644 3 100 * J\n\n' },
    { conf: '/var/log/x.log 644 3 100 * J ./pid\n', err: 'newsyslog: illegal pid file or signal in config file:\n/var/log/x.log 644 3 100 * J ./pid\n\n' },
    {
      conf: '/var/log/x.log 644 3 100 * J /var/run/x.pid SIGNOPE\n',
      err: 'newsyslog: illegal signal in config file:\n/var/log/x.log 644 3 100 * J /var/run/x.pid SIGNOPE\n\n',
    },
  ];
  for (const c of cases) {
    await ok('cat > /root/bad.conf', { input: c.conf });
    const r = await sh('newsyslog -f /root/bad.conf');
    assert.equal(r.code, 1, c.conf);
    assert.equal(r.stderr, c.err, c.conf);
  }
  const usage = await sh('newsyslog -F -N');
  assert.equal(usage.code, 1);
  assert.match(usage.stderr, /^newsyslog: Only one of -F and -N may be specified\.\nusage: newsyslog \[-CFNPnrsv\]/);
  // the host's default config parses (FreeBSD 14's /etc/newsyslog.conf + its includes)
  const v = await ok('newsyslog -nv');
  assert.match(v, /^Processing \/etc\/newsyslog\.conf\n/);
  assert.match(v, /Found: <include> \/etc\/newsyslog\.conf\.d\/\[!\.\]\*\.conf\n/);
  assert.match(v, /Processing \/etc\/newsyslog\.conf\.d\/pf\.conf\n/);
  // count 2, gzip, no signal: FILE.0.gz, FILE.1.gz, never FILE.2.gz; mode from the config
  await ok(`printf 'one\\n' > /var/log/c.log && printf '/var/log/c.log\\t\\t640  2  *  *  NZ\\n' > /root/c.conf`);
  for (let i = 0; i < 3; i++) await ok(`newsyslog -F -f /root/c.conf && echo "round ${i}" >> /var/log/c.log`);
  const ls = await ok('ls /var/log | grep "^c\\.log"; stat -f %Lp /var/log/c.log /var/log/c.log.0.gz; gzip -dc /var/log/c.log.0.gz');
  assert.match(ls, /^c\.log\nc\.log\.0\.gz\nc\.log\.1\.gz\n640\n640\n/);
  assert.match(ls, /newsyslog\[\d+\]: logfile turned over due to -F request\nround 1\n.*newsyslog\[\d+\]: logfile turned over due to -F request\n$/s);
  // -n shows what would be done, without doing it
  const n = await ok('newsyslog -nF -f /root/c.conf');
  assert.match(n, /^\/var\/log\/c\.log <2Z>: trimming\n/);
  assert.match(n, /\tmv \/var\/log\/c\.log\.0\.gz \/var\/log\/c\.log\.1\.gz\n\tln \/var\/log\/c\.log \/var\/log\/c\.log\.0\n/);
  assert.match(n, /Compress all rotated log file\(s\)\.\.\.\n\tgzip \/var\/log\/c\.log\.0\n/);
  assert.equal(await ok('ls /var/log | grep -c "^c\\.log"'), '3\n');
});

test('newsyslog in a jail rotates a daemon -H -o log (include dir, pid file, bzip2)', { skip, timeout: 120_000 }, async () => {
  const path = await makeJailRoot('logs');
  // base.txz ships FreeBSD 14's /etc/newsyslog.conf ending in the two includes, and the .d dir
  assert.equal(
    await ok(`tail -2 ${path}/etc/newsyslog.conf`),
    '<include> /etc/newsyslog.conf.d/[!.]*.conf\n<include> /usr/local/etc/newsyslog.conf.d/[!.]*.conf\n',
  );
  await ok(`test -d ${path}/etc/newsyslog.conf.d && test -f ${path}/etc/newsyslog.conf.d/ppp.conf`);
  await ok('ifconfig lo1 >/dev/null 2>&1 || ifconfig lo1 create');
  await ok('jail -c name=logs path=/usr/local/jails/logs host.hostname=logs ip4.addr="lo1|10.0.2.20/32" mount.devfs persist');
  await ok(
    `jexec logs daemon -f -r -H -P /var/run/app_supervisor.pid -p /var/run/app.pid -o /var/log/app.log -t app ` +
      `sh -c 'i=0; while :; do i=$((i+1)); echo "line $i"; sleep 0.1; done'`,
  );
  await ok(
    'jexec logs mkdir -p /usr/local/etc/newsyslog.conf.d && jexec logs sh -c ' +
      `"printf '/var/log/app.log\\t\\t600\\t7\\t10240\\t@T00\\tJC\\t/var/run/app_supervisor.pid\\n' > /usr/local/etc/newsyslog.conf.d/x.conf"`,
  );
  await new Promise((r) => setTimeout(r, 600));
  const t0 = Date.now();
  const rot = await sh('jexec logs newsyslog -F', { timeoutMs: 60_000 });
  const took = Date.now() - t0;
  assert.equal(rot.code, 0, rot.stderr);
  // syslogd's pid file is missing in the jail (entries of the default config without pid file)
  assert.doesNotMatch(rot.stderr, /app/);
  assert.ok(took >= 10_000, `newsyslog pauses 10 s after signalling (took ${took} ms)`);
  await new Promise((r) => setTimeout(r, 500));
  // the old file got newsyslog's note (then the daemon's lines until it had the SIGHUP)
  const a = await ok(
    `ls ${path}/var/log; stat -f %Lp ${path}/var/log/app.log; bzcat ${path}/var/log/app.log.0.bz2 | grep 'newsyslog'; ` +
      `head -1 ${path}/var/log/app.log; bzcat ${path}/var/log/app.log.0.bz2 | grep -c "^line"; wc -l < ${path}/var/log/app.log`,
  );
  const lines = a.trim().split('\n');
  assert.ok(lines.includes('app.log') && lines.includes('app.log.0.bz2'), a);
  assert.ok(!lines.includes('app.log.0'), 'app.log.0 was compressed');
  // logs of the default config that do not exist are not created (C flag without -C)
  assert.ok(!lines.includes('messages') && !lines.includes('auth.log'), a);
  const [mode, oldLast, newFirst, oldCount, newCount] = lines.slice(-5);
  assert.equal(mode, '600');
  assert.match(oldLast, /^\w{3} [ \d]\d \d\d:\d\d:\d\d logs newsyslog\[\d+\]: logfile turned over due to -F request$/);
  assert.match(newFirst, /^\w{3} [ \d]\d \d\d:\d\d:\d\d logs newsyslog\[\d+\]: logfile turned over due to -F request$/);
  assert.ok(Number(oldCount) >= 5, `old lines in FILE.0.bz2: ${oldCount}`);
  // the daemon reopened the file: the new FILE keeps receiving lines
  assert.ok(Number(newCount) > 20, `new lines after the rotation: ${newCount}`);
  await new Promise((r) => setTimeout(r, 500));
  assert.ok(Number((await ok(`wc -l < ${path}/var/log/app.log`)).trim()) > Number(newCount));
  await ok('jexec logs sh -c "kill \\$(cat /var/run/app_supervisor.pid)" && jail -r logs && umount /usr/local/jails/logs/dev');
});
