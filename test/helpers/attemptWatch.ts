// Watches one simulated host's processes (it and its jails share this kernel's /proc and the
// host's mount namespace, which tells them from other hosts' processes) for the work of a step — a build's VM, a migration's VM, an install's tar — and
// records which SSH session each belongs to. Two sessions doing the same work at the same
// moment are two attempts of a step running side by side: what single-flight steps forbid.
// Timestamps are taken here, from the host's process table, not from the product's own log.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export type WorkKind = 'build' | 'migrate' | 'install';

/** The process that does the work (never the shells around it, whose argv holds the script). */
export function workKind(argv: string[], app: string): WorkKind | undefined {
  const vm = argv[0]?.endsWith('/beam.smp');
  if (vm && argv.includes('release') && argv.includes('deps.get')) return 'build';
  if (vm && argv.some((a) => /Release\.migrate/.test(a))) return 'migrate';
  if (argv.some((a) => /(^|\/)tar$/.test(a)) && argv.includes('-xzf') && argv.some((a) => a.endsWith(`/usr/local/${app}.tmp`))) return 'install';
  return undefined;
}

export interface Overlap {
  kind: WorkKind;
  at: number;
  /** session id → pid and command line of one of its processes doing the work */
  sessions: Record<number, string>;
}

export class AttemptWatch {
  private timer?: NodeJS.Timeout;
  private readonly overlaps: Overlap[] = [];
  /** kind → session → when it was first seen doing that work */
  private readonly firstSeen = new Map<WorkKind, Map<number, number>>();

  private mountNs = '';

  constructor(
    private readonly app: string,
    private readonly everyMs = 50,
  ) {}

  /** Watches the host whose init has pid `hostInitPid`. */
  start(hostInitPid: number): void {
    this.mountNs = readlinkSync(`/proc/${hostInitPid}/ns/mnt`);
    this.timer = setInterval(() => this.sample(), this.everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Overlaps since `from` (ms epoch), and how many sessions did each kind of work since then. */
  since(from: number): { overlaps: Overlap[]; sessions: (k: WorkKind) => number } {
    return {
      overlaps: this.overlaps.filter((o) => o.at >= from),
      sessions: (k) => [...(this.firstSeen.get(k)?.values() ?? [])].filter((t) => t >= from).length,
    };
  }

  private sample(): void {
    const now = Date.now();
    const found = new Map<number, { kind: WorkKind; ppid: number; sid: number; argv: string }>();
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
        const kind = workKind(argv, this.app);
        if (!kind || readlinkSync(`/proc/${pid}/ns/mnt`) !== this.mountNs) continue;
        // /proc/PID/stat: "pid (comm) state ppid pgrp session ...": comm may hold spaces
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        found.set(Number(pid), { kind, ppid: Number(f[1]), sid: Number(f[3]), argv: argv.join(' ').slice(-160) });
      } catch {
        continue; // the process ended while being read
      }
    }
    const bySession = new Map<WorkKind, Map<number, string>>();
    for (const [pid, p] of found) {
      // the VM forks erl_child_setup, which calls setsid() before it execs: until then it is a
      // copy of its parent in a session of its own, not a second attempt
      if (found.get(p.ppid)?.kind === p.kind) continue;
      if (!bySession.has(p.kind)) bySession.set(p.kind, new Map());
      bySession.get(p.kind)!.set(p.sid, `${pid}: ${p.argv}`);
      if (!this.firstSeen.has(p.kind)) this.firstSeen.set(p.kind, new Map());
      if (!this.firstSeen.get(p.kind)!.has(p.sid)) this.firstSeen.get(p.kind)!.set(p.sid, now);
    }
    for (const [kind, sessions] of bySession) if (sessions.size > 1) this.overlaps.push({ kind, at: now, sessions: Object.fromEntries(sessions) });
  }
}
