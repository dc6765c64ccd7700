// A bounded HTTP load generator for proof tests: N keep-alive loops (no client retries, so a
// request a client without retries would lose counts as failed), each request checked for
// status and exact body, every sample timed. Stops on stop() or at its deadline, whichever
// first; stop() says which, so a load that ended early cannot pass for a full one.
import http from 'node:http';

export interface Sample {
  /** ms since the load started, on the wall clock: a host log's time T (epoch ms) is T - t0 */
  start: number;
  /** how long the request took, ms */
  ms: number;
  ok: boolean;
  body: string;
  error?: string;
}

export interface LoadOptions {
  host: string;
  port?: number;
  path?: string;
  concurrency: number;
  /** hard bound: the load stops by itself after this long */
  maxMs: number;
  /** a body is right when this says so */
  accept: (status: number, body: string) => boolean;
}

export interface LoadEnd {
  /** false when the deadline (maxMs) stopped the loops before stop() was called */
  ranToEnd: boolean;
  /** when the loops were told to stop, ms since the load started */
  stoppedAt: number;
}

export interface Load {
  samples: Sample[];
  /** when the load started, epoch ms (the wall clock, as host logs record time) */
  t0: number;
  /** ms since the load started */
  now(): number;
  stop(): Promise<LoadEnd>;
  /** one request outside the loops, on a connection of its own (slow requests) */
  one(path: string, accept: (status: number, body: string) => boolean, timeoutMs?: number): Promise<Sample>;
}

export function get(agent: http.Agent | undefined, host: string, port: number, path: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, path, agent, method: 'GET', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export function startLoad(o: LoadOptions): Load {
  const port = o.port ?? 80;
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency });
  const samples: Sample[] = [];
  const t0 = Date.now();
  const now = () => Date.now() - t0;
  let stopped = false;
  let stoppedAt = 0;
  let ranToEnd = true;
  const halt = () => {
    if (stopped) return;
    stopped = true;
    stoppedAt = now();
  };
  const deadline = setTimeout(() => {
    ranToEnd = false;
    halt();
  }, o.maxMs);

  const measure = async (a: http.Agent | undefined, path: string, accept: LoadOptions['accept'], timeoutMs: number): Promise<Sample> => {
    const start = now();
    const t = performance.now();
    try {
      const r = await get(a, o.host, port, path, timeoutMs);
      return { start, ms: performance.now() - t, ok: accept(r.status, r.body), body: `${r.status} ${r.body}` };
    } catch (e) {
      return { start, ms: performance.now() - t, ok: false, body: '', error: (e as Error).message };
    }
  };

  const loop = async () => {
    while (!stopped) samples.push(await measure(agent, o.path ?? '/', o.accept, 10_000));
  };
  const loops = Array.from({ length: o.concurrency }, loop);

  return {
    samples,
    t0,
    now,
    async stop() {
      halt();
      clearTimeout(deadline);
      await Promise.all(loops);
      agent.destroy();
      return { ranToEnd, stoppedAt };
    },
    one: (path, accept, timeoutMs = 30_000) => measure(false as unknown as undefined, path, accept, timeoutMs),
  };
}

export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
