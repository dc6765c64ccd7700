import type { Command } from 'commander';
import { type AppTarget } from '../../model/target';
import { toAppTarget } from '../../config/target';
import { appLog } from '../../freebsd/layout';
import { appCommand, asAppUser } from '../../freebsd/app';
import { readLogWithClock, tailFile } from '../../freebsd/files';
import { parseDuration } from '../../model/duration';
import { filterLog, LineSplitter, LogLineFilter, MAX_SINCE_MS, type HostClock, type LogFilter } from '../logFilter';
import { layout, type Slot } from '../../freebsd/layout';
import { jexec } from '../../freebsd/jail';
import { UserError } from '../../errors';
import { configFor, oneHostConfigFor, onHost, pickedHosts } from '../context';
import { StringDecoder } from 'node:string_decoder';

/** The host's state (its own SSH connection) and the live slot; none is a usage error. */
async function liveSlot(t: AppTarget): Promise<{ slot: Slot; close: () => void; conn: import('../../ssh/connection').SshConnection }> {
  // loaded only now: the SSH side stays out of the CLI bundle (scripts/bundle-cli.js)
  const { openHostState } = await import('../../host/hostState');
  const host = openHostState(t);
  const slot = await host.liveSlot().catch((e: unknown) => {
    host.close();
    throw e;
  });
  if (!slot) {
    host.close();
    throw new UserError(`${t.app} has no live slot on ${t.server.host}: deploy it first`);
  }
  return { slot, close: () => host.close(), conn: host.conn };
}

interface LogOptions {
  follow?: boolean;
  lines: string;
  grep?: string;
  ignoreCase?: boolean;
  since?: string;
}

/** One host's app log (the last `n` lines, then followed) to stdout, each line led by `prefix`; false when the reading command failed. */
async function hostLog(t: AppTarget, opts: LogOptions, filter: LogFilter | undefined, n: number, signal: AbortSignal, prefix = ''): Promise<boolean> {
  const write = (line: string) => void process.stdout.write(`${prefix}${line}\n`);
  const { slot, close, conn } = await liveSlot(t);
  const l = layout({ app: t.app, basePath: t.basePath, freebsdVersion: t.freebsdVersion });
  try {
    const onStderr = (d: Buffer) => process.stderr.write(d);
    const run = (command: string, onStdout: (d: Buffer) => void) =>
      conn
        .exec(command, { label: 'read the app log', onStdout, onStderr, signal })
        .catch((e: Error) => (e.name === 'AbortError' ? { code: 0 } : Promise.reject(e)));
    // unfiltered: tail(1) on the host, as cheap as it gets
    const r = filter
      ? await run(jexec(l.jailName(slot), readLogWithClock(appLog(t.app), Boolean(opts.follow))), filteredLogReader(filter, n, write))
      : await run(tailFile(`${l.jailPath(slot)}${appLog(t.app)}`, n, opts.follow), prefix ? lineReader(write) : (d) => process.stdout.write(d));
    return r.code === 0;
  } finally {
    close();
  }
}

/** Whole lines out of a byte stream (UTF-8 kept whole across chunks). */
function lineReader(write: (line: string) => void): (d: Buffer) => void {
  const text = new StringDecoder('utf8');
  const split = new LineSplitter();
  return (d) => {
    for (const line of split.push(text.write(d))) write(line);
  };
}

export function registerRemote(program: Command): void {
  program
    .command('logs')
    .description("the live slot's app log (of every host of a fleet, or those -H/-R pick, each line led by its host)")
    .option('-f, --follow', 'keep printing new lines')
    .option('-n, --lines <n>', 'how many lines (the last N that match)', '100')
    .option('-g, --grep <regex>', 'only lines that match (a JavaScript regular expression, applied here, not on the server)')
    .option('-i, --ignore-case', 'with --grep: ignore case')
    .option('--since <duration>', "only entries at most this old (e.g. 10m, 2h; under 24h): by the time each entry starts with, Phoenix's Logger format")
    .addHelpText(
      'after',
      `\nLines without a leading time (a stack trace) belong to the entry above them. The log is rotated\nby newsyslog(8) in the slot jail (daily and at 10 MiB, 7 kept as ${'/var/log/APP.log.N.bz2'}).\n\nExamples:\n  $ alcaide logs -n 50\n  $ alcaide -d production logs -f\n  $ alcaide logs --grep 'error|warning' -i --since 1h\n  $ alcaide logs -f --grep 'POST /orders'\n  $ alcaide -R worker logs -n 20        # a fleet: the worker hosts' logs`,
    )
    .action(async (opts: LogOptions, cmd: Command) => {
      const n = Number(opts.lines);
      if (!Number.isInteger(n) || n < 0) throw new UserError(`--lines: expected a whole number, got ${JSON.stringify(opts.lines)}`, 2);
      const filter = logFilter(opts);
      const config = configFor(cmd);
      const hosts = pickedHosts(config);
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      if (hosts.length === 1) {
        if (!(await hostLog(toAppTarget(onHost(config, hosts[0]!)), opts, filter, n, stop.signal))) process.exitCode = 1;
        return;
      }
      // every host at once, each line led by its host
      const ends = await Promise.allSettled(hosts.map((h) => hostLog(toAppTarget(onHost(config, h)), opts, filter, n, stop.signal, `${h.host} | `)));
      for (const [i, e] of ends.entries()) {
        if (e.status === 'fulfilled' && e.value) continue;
        process.stderr.write(`${hosts[i]!.host}: ${e.status === 'rejected' ? (e.reason as Error).message : 'reading the log failed'}\n`);
        process.exitCode = 1;
      }
    });

  program
    .command('run')
    .description('run a command in the live slot with the app environment (a terminal for bin/APP remote)')
    .argument('<command...>', 'the command and its arguments')
    .addHelpText(
      'after',
      '\nExamples:\n  $ alcaide run bin/my_app remote\n  $ alcaide run bin/my_app eval "MyApp.Release.migrate()"\n  $ alcaide run -- ls -la',
    )
    .action(async (words: string[], _o: unknown, cmd: Command) => {
      const t = toAppTarget(oneHostConfigFor(cmd, 'run'));
      const { slot, close, conn } = await liveSlot(t);
      const name = layout({ app: t.app, basePath: t.basePath, freebsdVersion: t.freebsdVersion }).jailName(slot);
      try {
        process.exitCode = await conn.interactive(asAppUser(name, t.app, appCommand(t.app, words)));
      } finally {
        close();
      }
    });
}

function logFilter(opts: { grep?: string; ignoreCase?: boolean; since?: string }): LogFilter | undefined {
  const f: LogFilter = {};
  if (opts.grep !== undefined) {
    try {
      f.grep = new RegExp(opts.grep, opts.ignoreCase ? 'i' : '');
    } catch (e) {
      throw new UserError(`--grep: not a regular expression: ${(e as Error).message}`, 2);
    }
  }
  if (opts.since !== undefined) {
    const ms = parseDuration(opts.since);
    if (ms === undefined || ms <= 0) throw new UserError(`--since: expected a duration such as 10m or 2h, got ${JSON.stringify(opts.since)}`, 2);
    if (ms > MAX_SINCE_MS) throw new UserError('--since: at most 23h59m (log entries carry the time of day, not the date; the log is rotated daily)', 2);
    f.sinceMs = ms;
  }
  return f.grep || f.sinceMs !== undefined ? f : undefined;
}

/**
 * Reads what readLogWithClock prints: the clock line, the size line, that many bytes of log
 * (of which the last `n` kept lines are printed), then followed lines, each filtered.
 */
function filteredLogReader(f: LogFilter, n: number, write: (line: string) => void): (d: Buffer) => void {
  let head = Buffer.alloc(0);
  let clock: HostClock | undefined;
  let size = 0;
  let follow: { split: LineSplitter; filter: LogLineFilter } | undefined;
  const onFollow = (d: Buffer) => {
    for (const line of follow!.split.push(d.toString('utf8'))) if (follow!.filter.keep(line)) write(line);
  };
  return (d: Buffer) => {
    if (follow) return onFollow(d);
    head = Buffer.concat([head, d]);
    if (!clock) {
      const first = head.indexOf(10);
      const second = first < 0 ? -1 : head.indexOf(10, first + 1);
      if (second < 0) return;
      const [date, time] = head.subarray(0, first).toString().trim().split(' ');
      const [y, mo, dd] = date!.split('-').map(Number);
      const [h, mi, s] = time!.split(':').map(Number);
      clock = { wallMs: Date.UTC(y!, mo! - 1, dd!, h!, mi!, s!) };
      size = Number(
        head
          .subarray(first + 1, second)
          .toString()
          .trim(),
      );
      head = head.subarray(second + 1);
    }
    if (head.length < size) return;
    for (const line of filterLog(head.subarray(0, size).toString('utf8'), f, clock, n)) write(line);
    // what is appended from now on is recent by definition: only --grep applies
    follow = { split: new LineSplitter(), filter: new LogLineFilter({ grep: f.grep }, clock) };
    const rest = head.subarray(size);
    head = Buffer.alloc(0);
    if (rest.length) onFollow(rest);
  };
}
