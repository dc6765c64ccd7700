// Bring up 4 simulated hosts in parallel, put jails/daemons/Caddy on them, tear down, and prove
// nothing is left behind: no process, mount namespace, mount, veth, netns or directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { canRunSimHosts, sshRun, startSimHosts } from './index';

const skip = canRunSimHosts() ? false : 'needs root on Linux (network + mount namespaces)';

function nsInode(pid: number, ns: 'mnt' | 'net'): number | null {
  try {
    return statSync(`/proc/${pid}/ns/${ns}`).ino;
  } catch {
    return null;
  }
}

function pidsIn(ns: 'mnt' | 'net', inodes: Set<number>): number[] {
  const res: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const ino = nsInode(Number(d), ns);
    if (ino !== null && inodes.has(ino)) res.push(Number(d));
  }
  return res;
}

// top-level entries of the real root filesystem's directories a client might write to
const ROOT_DIRS = ['/', '/usr', '/opt', '/srv', '/mnt', '/home'];
function rootListing(): string {
  return ROOT_DIRS.map((d) => {
    try {
      return `${d}: ${readdirSync(d).sort().join(' ')}`;
    } catch {
      return `${d}: -`;
    }
  }).join('\n');
}

test('4 hosts up in parallel, busy, then torn down without leftovers', { skip, timeout: 240_000 }, async (t) => {
  const mountsBefore = readFileSync('/proc/self/mountinfo', 'utf8');
  const rootBefore = rootListing();
  const t0 = Date.now();
  const sim = await startSimHosts({ hosts: 4 });
  const upMs = Date.now() - t0;
  t.diagnostic(`4 hosts up in ${upMs} ms (controller: ${sim.upSeconds}s; per host: ${sim.hosts.map((h) => h.upSeconds).join(', ')}s)`);
  assert.equal(sim.hosts.length, 4);
  const dir = sim.dir;
  const mnt = new Set<number>();
  const net = new Set<number>();
  let vethTag = '';
  try {
    for (const h of sim.hosts) {
      const m = nsInode(h.initPid, 'mnt');
      const n = nsInode(h.initPid, 'net');
      assert.ok(m && n);
      mnt.add(m);
      net.add(n);
    }
    const st = JSON.parse(readFileSync(`${dir}/simhost.json`, 'utf8')) as { tag: string };
    vethTag = `sh${st.tag}`;
    // all four answer, in parallel, each with its own identity
    const names = await Promise.all(sim.hosts.map((h) => sshRun(h, 'hostname; sysctl -n kern.ostype')));
    assert.deepEqual(
      names.map((r) => r.stdout),
      sim.hosts.map((h) => `${h.name}\nFreeBSD\n`),
    );
    // make them busy: a jail with devfs + a supervised daemon, and Caddy
    await Promise.all(
      sim.hosts.map(async (h, i) => {
        const r = await sshRun(
          h,
          'ifconfig lo1 create && mkdir -p /usr/local/jails/w && ' +
            'fetch -q -o /tmp/base.txz https://download.freebsd.org/releases/amd64/14.3-RELEASE/base.txz && ' +
            'tar -xf /tmp/base.txz -C /usr/local/jails/w && ' +
            `jail -c name=w path=/usr/local/jails/w ip4.addr="lo1|10.0.2.${10 + i}/32" mount.devfs persist && ` +
            'jexec w daemon -f -P /var/run/s.pid -r sleep 600 && ' +
            'pkg install -qy caddy && sysrc -q caddy_enable=YES && ' +
            "printf ':80 {\\n\\trespond ok\\n}\\n' > /usr/local/etc/caddy/Caddyfile && service caddy start >/dev/null && " +
            'curl -s --retry 5 --retry-connrefused http://127.0.0.1/',
        );
        assert.equal(r.code, 0, `host ${h.name}: ${r.stdout} ${r.stderr}`);
        assert.equal(r.stdout, 'ok');
      }),
    );
    assert.ok(pidsIn('mnt', mnt).length >= 4 * 4, 'expected sshd, init, caddy, daemon, sleep per host');
    // writes outside the hosts' private trees (common jail bases, data paths) are refused with
    // EROFS and never reach this machine's root filesystem
    await Promise.all(
      sim.hosts.map(async (h) => {
        for (const cmd of [
          'mkdir -p /jails/w',
          'mkdir -p /usr/jails/w',
          'mkdir -p /data/postgres',
          'touch /usr/simhost-probe',
          'touch /opt/simhost-probe',
          'touch /dev/simhost-probe',
          'touch /mnt/simhost-probe',
        ]) {
          const r = await sshRun(h, cmd);
          assert.equal(r.code, 1, `${h.name}: ${cmd} succeeded`);
          assert.match(r.stderr, /Read-only file system/, `${h.name}: ${cmd}: ${r.stderr}`);
        }
        const r = await sshRun(h, 'touch /dev/shm/simhost-probe && ls /dev/shm');
        assert.equal(r.stdout, 'simhost-probe\n', 'the host has its own /dev/shm');
      }),
    );
    for (const p of [
      '/jails',
      '/usr/jails',
      '/data/postgres',
      '/usr/simhost-probe',
      '/opt/simhost-probe',
      '/dev/simhost-probe',
      '/mnt/simhost-probe',
      '/dev/shm/simhost-probe',
    ]) {
      assert.equal(existsSync(p), false, `${p} was created on the real root filesystem`);
    }
    // the hosts' FreeBSD paths never appear on the real root filesystem
    for (const p of ['/etc/rc.conf', '/etc/jail.conf.d', '/usr/local/jails', '/var/db/simhost', '/etc/rc.subr']) {
      assert.equal(existsSync(p), false, `${p} leaked onto the real root filesystem`);
    }
  } finally {
    await sim.down();
  }
  // nothing left
  assert.deepEqual(pidsIn('mnt', mnt), [], 'processes left in host mount namespaces');
  assert.deepEqual(pidsIn('net', net), [], 'processes left in host network namespaces');
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
  assert.equal(links.includes(vethTag), false, `veth left behind: ${links}`);
  const mountsAfter = readFileSync('/proc/self/mountinfo', 'utf8');
  assert.equal(mountsAfter.includes(dir), false, 'mounts under the simhost dir left in the root namespace');
  assert.equal(mountsAfter.split('\n').length, mountsBefore.split('\n').length, 'mount table of the root namespace changed');
  assert.equal(existsSync(dir), false, 'temp dir left behind');
  const netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  assert.doesNotMatch(netns, /^sj\d+/m);
  for (const p of ['/etc/rc.conf', '/usr/local/jails', '/var/db/simhost']) assert.equal(existsSync(p), false);
  assert.equal(rootListing(), rootBefore, 'the real root filesystem changed');
});

test('down names what outside a host holds its network namespace (a process, a mount) and still removes its link', { skip, timeout: 120_000 }, async () => {
  const sim = await startSimHosts({ hosts: 1 });
  const h = sim.hosts[0]!;
  const st = JSON.parse(readFileSync(`${sim.dir}/simhost.json`, 'utf8')) as { hosts: Array<{ veth_root: string }> };
  const veth = st.hosts[0]!.veth_root;
  // a process started from outside into the host's network namespace alone, and a pin of it
  const intruder = spawn('nsenter', [`--net=/proc/${h.initPid}/ns/net`, 'sleep', '600'], { stdio: 'ignore' });
  const exited = once(intruder, 'exit') as Promise<[number | null, string | null]>;
  const pinDir = mkdtempSync(path.join(os.tmpdir(), 'alcaide-netns-pin-'));
  const pin = path.join(pinDir, 'net');
  writeFileSync(pin, '');
  execFileSync('mount', ['--bind', `/proc/${h.initPid}/ns/net`, pin]);
  try {
    for (let i = 0; i < 100 && readFileSync(`/proc/${intruder.pid}/comm`, 'utf8').trim() !== 'sleep'; i++) await new Promise((r) => setTimeout(r, 20));
    await assert.rejects(sim.down(), (e: Error) => {
      assert.match(e.message, new RegExp(`processes survive in its network namespace: ${intruder.pid} \\(sleep\\)`));
      assert.match(e.message, new RegExp(`its network namespace is held by mount on ${pin}`));
      return true;
    });
    const [code, signal] = await exited;
    assert.deepEqual([code, signal], [null, 'SIGKILL'], 'down killed the process');
    const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
    assert.equal(links.includes(`${veth}@`), false, 'the link is gone though the namespace is held');
  } finally {
    intruder.kill('SIGKILL');
    execFileSync('umount', [pin]);
    rmSync(pinDir, { recursive: true, force: true });
    rmSync(sim.dir, { recursive: true, force: true });
  }
});
