import { readFileSync } from 'node:fs';
import os from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter, type LoadedDataConverter } from '@temporalio/common';
import type { NativeConnection } from '@temporalio/worker';
import { UserError } from '../errors';
import { dataConverterFor, type CodecKey } from './codec';
import { failureConverter } from './failureConverter';
import { loadTls, type TemporalSettings } from './settings';

function connectionOptions(s: TemporalSettings) {
  const tls = loadTls(s);
  return { address: s.address, tls: tls ?? (s.apiKey ? true : undefined), apiKey: s.apiKey };
}

/** A clear, actionable error instead of a gRPC stack when Temporal cannot be reached. */
export function unreachable(s: TemporalSettings, cause: unknown): UserError {
  const local = /^(localhost|127\.0\.0\.1):/.test(s.address);
  return new UserError(
    `cannot reach Temporal at ${s.address} (namespace ${s.namespace}): ${(cause as Error).message?.split('\n')[0] ?? String(cause)}`,
    1,
    local
      ? 'start the local dev server with ./temporal-dev.sh, or set TEMPORAL_ADDRESS'
      : 'check TEMPORAL_ADDRESS, the TLS settings / TEMPORAL_API_KEY and your network',
  );
}

/**
 * dataConverterFor's converters, loaded here: the SDK would require its failureConverterPath,
 * which in the CLI bundle loads a second @temporalio/common from node_modules (~20 ms of every
 * command that talks to Temporal). The payload converter is the default, as there.
 */
export function clientDataConverter(key: CodecKey | undefined): LoadedDataConverter {
  return { payloadConverter: defaultPayloadConverter, failureConverter, payloadCodecs: dataConverterFor(key).payloadCodecs ?? [] };
}

export async function connectClient(s: TemporalSettings): Promise<Client> {
  try {
    const connection = await Connection.connect({ ...connectionOptions(s), connectTimeout: '5s' });
    return new Client({ connection, namespace: s.namespace, dataConverter: clientDataConverter(s.codecKey) });
  } catch (e) {
    throw unreachable(s, e);
  }
}

export async function connectWorker(s: TemporalSettings): Promise<NativeConnection> {
  // loaded only here: the worker package costs ~150 ms at start-up of every CLI command
  const { NativeConnection } = await import('@temporalio/worker');
  try {
    return await NativeConnection.connect(connectionOptions(s));
  } catch (e) {
    throw unreachable(s, e);
  }
}

export type WorkerKind = 'worker' | 'embedded';

/** Embedded workers say so in their identity, so the CLI does not mistake one that just exited for a live worker. */
export function workerIdentity(kind: WorkerKind): string {
  return `alcaide-${kind}:${process.pid}@${os.hostname()}`;
}

const WORKER_IDENTITY = /^alcaide-(?:worker|embedded):(\d+)@(.+)$/;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // a killed worker its parent has not reaped yet still answers kill(0): a zombie runs nothing
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return true; // no procfs (macOS, FreeBSD): kill(0) is all there is
  }
}

/** Whether `identity` is an alcaide worker (long-lived or embedded) of this host whose process is gone. */
export function deadLocalWorker(identity: string | null | undefined, host = os.hostname(), alive: (pid: number) => boolean = pidAlive): boolean {
  const m = WORKER_IDENTITY.exec(identity ?? '');
  if (!m || m[2] !== host) return false;
  const pid = Number(m[1]);
  return pid !== process.pid && !alive(pid);
}

// A live worker re-polls at least every ~70 s (long poll); the server keeps listing pollers
// for minutes after they are gone, and a worker that stopped cleanly looks the same.
const POLLER_FRESH_MS = 75_000;

/**
 * Whether a long-lived worker may be polling the task queue for workflow tasks: one seen in
 * the last 75 s whose process, if it ran on this machine, still exists. Embedded workers
 * (identity alcaide-embedded:…) end with their CLI and count only when asked. A worker of
 * another machine that stopped still counts for a while: withWorkerIfNone watches for that.
 */
export async function hasWorkflowPollers(client: Client, s: TemporalSettings, opts: { includeEmbedded?: boolean } = {}, now = Date.now()): Promise<boolean> {
  const res = await client.workflowService.describeTaskQueue({
    namespace: s.namespace,
    taskQueue: { name: s.taskQueue },
    taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW
  });
  return (res.pollers ?? []).some((p) => {
    if (!opts.includeEmbedded && p.identity?.startsWith('alcaide-embedded:')) return false;
    if (deadLocalWorker(p.identity)) return false;
    const seen = p.lastAccessTime?.seconds ? Number(p.lastAccessTime.seconds) * 1000 : 0;
    return now - seen < POLLER_FRESH_MS;
  });
}

/** Names of custom search attributes missing on the server. */
export async function missingSearchAttributes(client: Client, s: TemporalSettings, wanted: string[]): Promise<string[]> {
  const res = await client.connection.operatorService.listSearchAttributes({ namespace: s.namespace });
  const have = new Set(Object.keys(res.customAttributes ?? {}));
  return wanted.filter((n) => !have.has(n));
}
