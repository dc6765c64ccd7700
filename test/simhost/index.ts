// TypeScript wrapper around test/simhost/simhost.py: simulated FreeBSD 14 hosts for e2e tests.
//
//   const sim = await startSimHosts({ hosts: 2 });
//   const r = await sshRun(sim.hosts[0], 'jls');
//   await sim.down();
//
// Needs root (network + mount namespaces). See test/simhost/README.md.
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { caddyBin } from '../helpers/caddyBin';
import { withoutPidReport } from '../../src/ssh/stop';

export interface SimHost {
  name: string;
  /** SSH address (host side of the veth), port 22 */
  host: string;
  port: number;
  user: string;
  /** OpenSSH known_hosts line for the host's generated ed25519 key */
  knownHostsLine: string;
  /** file holding exactly knownHostsLine */
  knownHostsFile: string;
  /** authorized ed25519 private key (no passphrase) */
  privateKey: string;
  /** JSON lines: one per SSH command ({ts,t,pid,client,cmd}) */
  commandLog: string;
  /** JSON lines: one per FreeBSD stand-in run on the host ({t,argv,parent}) */
  invocationLog: string;
  /** per-host FreeBSD tree as seen from outside (etc = overlay upper dir, var, usr/local, root, tmp) */
  root: string;
  dir: string;
  initPid: number;
  gateway: string;
  upSeconds: number;
}

export interface SshResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface SimHosts {
  dir: string;
  hosts: SimHost[];
  upSeconds: number;
  down(): Promise<void>;
  reboot(name: string): Promise<{ ok: boolean; seconds: number }>;
  /** drops the host's link and kills its SSH sessions (restored after `seconds`; 0: by sshRestore); resolves to how many sessions were killed */
  sshCut(name: string, seconds: number): Promise<number>;
  sshRestore(): Promise<void>;
  failNth(name: string, command: string, n: number, code?: number): Promise<void>;
  /** throttles the host's link both ways (e.g. '512kbit'); `undefined` removes the limit */
  slowLink(name: string, rate?: string): Promise<void>;
}

/**
 * A command on a simulated host as one of its unprivileged users (uid and gid 65534, nobody on
 * FreeBSD too), in the host's namespaces, as a shell login of that user would run it.
 */
export function asHostUser(h: SimHost, command: string): { status: number | null; stdout: string; stderr: string } {
  const args = ['-t', String(h.initPid), '-m', '-n', '-u', '--', 'setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups', '/bin/sh', '-c', command];
  return spawnSync('nsenter', args, { encoding: 'utf8', timeout: 30_000 });
}

export function projectRoot(): string {
  let d = __dirname;
  for (;;) {
    if (existsSync(join(d, 'package.json')) && existsSync(join(d, 'test', 'simhost', 'simhost.py'))) return d;
    const up = dirname(d);
    if (up === d) throw new Error('simhost: cannot find project root from ' + __dirname);
    d = up;
  }
}

export const SIMHOST_PY = (): string => join(projectRoot(), 'test', 'simhost', 'simhost.py');

function runPy(args: string[], timeoutMs = 120_000): Promise<{ code: number; stdout: string; stderr: string }> {
  // `pkg install caddy` installs the pinned Caddy (or Debian's, with a loud warning from caddyBin)
  const env = args[0] === 'up' ? { ...process.env, SIMHOST_CADDY: caddyBin() } : process.env;
  return new Promise((res) => {
    execFile('/usr/bin/python3', ['-I', SIMHOST_PY(), ...args], { timeout: timeoutMs, maxBuffer: 16 << 20, env }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number' ? (err as unknown as { code: number }).code : 1) : 0;
      res({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

export function canRunSimHosts(): boolean {
  return process.platform === 'linux' && typeof process.getuid === 'function' && process.getuid() === 0;
}

export async function startSimHosts(opts: { hosts?: number; dir?: string } = {}): Promise<SimHosts> {
  const n = opts.hosts ?? 1;
  const ownDir = !opts.dir;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'simhost-'));
  const r = await runPy(['up', '--hosts', String(n), '--dir', dir], 180_000);
  if (r.code !== 0) {
    if (ownDir) rmSync(dir, { recursive: true, force: true });
    throw new Error(`simhost up failed (${r.code}): ${r.stderr || r.stdout}`);
  }
  const view = JSON.parse(r.stdout) as { hosts: SimHost[]; upSeconds: number };
  let downed = false;
  // safety net: a test that forgets down() (or throws before it) must not leave hosts running
  const onExit = (): void => {
    if (downed) return;
    try {
      execFileSync('/usr/bin/python3', ['-I', SIMHOST_PY(), 'down', '--dir', dir], { stdio: 'ignore', timeout: 60_000 });
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort
    }
  };
  process.once('exit', onExit);
  const sim: SimHosts = {
    dir,
    hosts: view.hosts,
    upSeconds: view.upSeconds,
    async down() {
      if (downed) return;
      downed = true;
      process.removeListener('exit', onExit);
      const d = await runPy(['down', '--dir', dir]);
      if (d.code !== 0) throw new Error(`simhost down failed: ${d.stdout} ${d.stderr}`);
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
    async reboot(name: string) {
      const x = await runPy(['reboot', '--dir', dir, '--host', name]);
      if (x.code !== 0) throw new Error(`simhost reboot failed: ${x.stdout} ${x.stderr}`);
      return JSON.parse(x.stdout) as { ok: boolean; seconds: number };
    },
    async sshCut(name: string, seconds: number) {
      const x = await runPy(['ssh-cut', '--dir', dir, '--host', name, '--seconds', String(seconds)]);
      if (x.code !== 0) throw new Error(`simhost ssh-cut failed: ${x.stderr}`);
      return (JSON.parse(x.stdout) as { killed: Record<string, number> }).killed[name] ?? 0;
    },
    async sshRestore() {
      await runPy(['ssh-restore', '--dir', dir]);
    },
    async slowLink(name: string, rate?: string) {
      const x = await runPy(['slow-link', '--dir', dir, '--host', name, ...(rate ? ['--rate', rate] : ['--off'])]);
      if (x.code !== 0) throw new Error(`simhost slow-link failed: ${x.stderr}`);
    },
    async failNth(name: string, command: string, nth: number, code = 1) {
      const x = await runPy(['fail-nth', '--dir', dir, '--host', name, '--code', String(code), command, String(nth)]);
      if (x.code !== 0) throw new Error(`simhost fail-nth failed: ${x.stderr}`);
    },
  };
  return sim;
}

/** The OpenSSH client's arguments for one command on a simulated host (strict host key checking, no config). */
export function sshArgs(h: SimHost, command: string): string[] {
  return [
    '-i',
    h.privateKey,
    '-p',
    String(h.port),
    '-o',
    `UserKnownHostsFile=${h.knownHostsFile}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'ConnectTimeout=5',
    '-o',
    'LogLevel=ERROR',
    '-F',
    '/dev/null',
    `${h.user}@${h.host}`,
    command,
  ];
}

/** Run one command on a simulated host with the OpenSSH client (strict host key checking). */
export function sshRun(h: SimHost, command: string, opts: { input?: string; timeoutMs?: number; onStdout?: (chunk: Buffer) => void } = {}): Promise<SshResult> {
  const t0 = Date.now();
  return new Promise((res) => {
    const p = spawn('ssh', sshArgs(h, command), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
      opts.onStdout?.(b);
    });
    p.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      res({ code: code ?? (signal ? 255 : 1), stdout, stderr, ms: Date.now() - t0 });
    });
    p.stdin.end(opts.input ?? '');
  });
}

export interface CommandLogEntry {
  ts: string;
  t: number;
  pid: number;
  client: string | null;
  cmd: string | null;
}

/**
 * The records of a log of one JSON object a line, appended by processes a test may SIGKILL:
 * Linux can end a killed process's write() between two pages of the file, so a record may be
 * torn, the next one appended to its prefix (seen in CI after an SSH cut). A torn prefix is
 * dropped (its process was killed as it began) and the record after it kept; so is a last line
 * still being written.
 */
export function jsonLines<T>(text: string): T[] {
  const records: T[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    for (let at = 0; at !== -1; at = line.indexOf('{', at + 1)) {
      try {
        records.push(JSON.parse(line.slice(at)) as T);
        break;
      } catch {
        // torn before here: the next record starts at a later '{'
      }
    }
  }
  return records;
}

export function readCommandLog(h: SimHost): CommandLogEntry[] {
  const entries = jsonLines<CommandLogEntry>(readFileSync(h.commandLog, 'utf8'));
  // a command that can be stopped travels after its shell's pid report (src/ssh/stop.ts): each entry as written
  return entries.map((e) => ({ ...e, cmd: e.cmd === null ? null : withoutPidReport(e.cmd) }));
}

/** `parent`: the parent's command line (`/bin/sh /etc/rc.d/jail faststart` at boot, `sh -c …` for SSH commands). */
export interface InvocationEntry {
  t: number;
  argv: string[];
  parent?: string;
}

/** Run by the host's boot (rc), not by a command sent to it. */
export const fromBoot = (e: InvocationEntry) => /(^|\s)\/etc\/rc(\.d\/|\s|$)/.test(e.parent ?? '');

/** FreeBSD stand-ins that ran on the host (not in jails), in order: what a script really did. */
export function readInvocations(h: SimHost): InvocationEntry[] {
  return jsonLines<InvocationEntry>(readFileSync(h.invocationLog, 'utf8'));
}

/** A stand-in run that changes the host (a check such as `jls`, `sysrc -c` or `service … status` does not). */
export function isMutating(argv: string[]): boolean {
  const [prog, ...a] = argv;
  const has = (...xs: string[]) => xs.some((x) => a.includes(x));
  switch (prog) {
    case 'sysrc':
      return !has('-c', '-n') && a.some((x) => x.includes('='));
    case 'jail':
      return has('-c', '-r', '-m', '-cm');
    case 'service':
      return has('start', 'stop', 'restart', 'reload', 'onestart', 'onestop', 'initdb', 'enable', 'disable');
    case 'ifconfig':
      return has('create', 'destroy', 'alias', '-alias', 'inet', 'up', 'down');
    case 'pfctl':
      return has('-f', '-e', '-d');
    case 'tar':
      return a.some((x) => /^-?[a-zA-Z]*x/.test(x) && !x.startsWith('--'));
    case 'pkg':
      return has('install', 'upgrade', 'delete', 'bootstrap');
    case 'kldload':
    case 'fetch':
    case 'chflags':
    case 'umount':
    case 'mktemp':
      return true;
    case 'mount':
      return !has('-p') && a.length > 0;
    default:
      return false;
  }
}

/** Times a command sent to the host ran `jail -c NAME` (the boot starting jail_list does not count). */
export const jailCreates = (entries: InvocationEntry[], name: string) =>
  entries.filter((e) => !fromBoot(e) && e.argv[0] === 'jail' && e.argv.includes('-c') && e.argv[e.argv.length - 1] === name).length;

/**
 * [size, mtime, ctime, inode] of every file under the host's `dirs` (relative to its root):
 * a file written again, even with the same content, changes.
 */
export function fileFingerprint(h: SimHost, dirs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (abs: string, rel: string) => {
    for (const e of readdirSync(abs, { withFileTypes: true })) {
      const p = join(abs, e.name);
      if (e.isDirectory()) walk(p, `${rel}/${e.name}`);
      else if (e.isFile()) {
        const st = statSync(p);
        out[`${rel}/${e.name}`] = `${st.size} ${st.mtimeMs} ${st.ctimeMs} ${st.ino}`;
      }
    }
  };
  for (const d of dirs) if (existsSync(join(h.root, d))) walk(join(h.root, d), d);
  return out;
}

/** The `server:` and `ssh:` part of a deploy.yml that reaches `h` (its key, its known_hosts). */
export function simServerYaml(h: SimHost): string {
  return `server:\n  host: ${h.host}\nssh:\n  keys: [${h.privateKey}]\n  known_hosts: ${h.knownHostsFile}\n`;
}
