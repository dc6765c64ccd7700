// The machine's CPU busy time, from /proc/stat: a sampler reads the aggregate `cpu` line every
// 100 ms, and any window (in epoch ms, the clock Temporal's event times use on this machine) is
// read off the samples, interpolated between the two around each end. Busy is
// user + nice + system + irq + softirq; the total adds idle, iowait and steal. Linux only.
import { readFileSync } from 'node:fs';

interface Sample {
  at: number;
  busy: number;
  total: number;
}

/** The busy and total jiffies of /proc/stat's first line, and the machine's number of CPUs. */
export function procStat(text = readFileSync('/proc/stat', 'utf8')): { busy: number; total: number; cores: number } {
  const lines = text.split('\n');
  const f = lines[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
  const busy = user + nice + system + irq + softirq;
  return { busy, total: busy + idle + iowait + steal, cores: lines.filter((l) => /^cpu\d+\s/.test(l)).length };
}

export interface CpuWindow {
  wallMs: number;
  /** average busy cores over the window (0 … cores) */
  busyCores: number;
  /** busyCores × the window's seconds */
  cpuSeconds: number;
}

export class CpuSampler {
  readonly cores = procStat().cores;
  private readonly samples: Sample[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(everyMs = 100) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  private sample(): void {
    const { busy, total } = procStat();
    this.samples.push({ at: Date.now(), busy, total });
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Busy and total jiffies at `at`, interpolated between the samples around it. */
  private at(at: number): { busy: number; total: number } {
    const s = this.samples;
    let i = s.findIndex((x) => x.at >= at);
    if (i < 0) i = s.length - 1;
    if (i === 0) return s[0]!;
    const a = s[i - 1]!;
    const b = s[i]!;
    const k = b.at === a.at ? 1 : Math.min(1, Math.max(0, (at - a.at) / (b.at - a.at)));
    return { busy: a.busy + k * (b.busy - a.busy), total: a.total + k * (b.total - a.total) };
  }

  /** The machine's busy time between two instants (epoch ms); take the last sample first. */
  window(from: number, to: number): CpuWindow {
    this.sample();
    const a = this.at(from);
    const b = this.at(to);
    const wallMs = Math.max(0, to - from);
    const busyCores = b.total > a.total ? ((b.busy - a.busy) / (b.total - a.total)) * this.cores : 0;
    return { wallMs, busyCores, cpuSeconds: (busyCores * wallMs) / 1000 };
  }
}
