// Where Temporal is: the local dev server by default; a cluster or Temporal Cloud when the
// environment or deploy.yml says so. Environment variables use the Temporal CLI's names so
// one set of settings serves both tools.
import { readFileSync } from 'node:fs';
import { UserError } from '../errors';
import type { CodecKey } from './codec';

export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  tls?: {
    clientCertPath?: string;
    clientKeyPath?: string;
    caPath?: string;
    serverName?: string;
  };
  apiKey?: string;
  /** payload encryption key (see codec.ts for where it comes from); none = payloads in clear */
  codecKey?: CodecKey;
}

export interface TemporalConfigSection {
  address?: string;
  namespace?: string;
  task_queue?: string;
  tls?: { client_cert?: string; client_key?: string; ca?: string; server_name?: string };
}

export const DEFAULT_ADDRESS = 'localhost:7233';
export const DEFAULT_NAMESPACE = 'default';
export const DEFAULT_TASK_QUEUE = 'alcaide';

/** Environment first, then deploy.yml's `temporal:` section, then the dev-server defaults. */
export function resolveTemporalSettings(cfg: TemporalConfigSection = {}, env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const pick = (name: string) => (env[name] !== undefined && env[name] !== '' ? env[name] : undefined);
  const cert = pick('TEMPORAL_TLS_CLIENT_CERT_PATH') ?? cfg.tls?.client_cert;
  const key = pick('TEMPORAL_TLS_CLIENT_KEY_PATH') ?? cfg.tls?.client_key;
  const ca = pick('TEMPORAL_TLS_CA_PATH') ?? cfg.tls?.ca;
  const serverName = pick('TEMPORAL_TLS_SERVER_NAME') ?? cfg.tls?.server_name;
  const apiKey = pick('TEMPORAL_API_KEY');
  const tlsFlag = pick('TEMPORAL_TLS');
  if (Boolean(cert) !== Boolean(key)) {
    throw new UserError(
      'a TLS client certificate and key must be given together (TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH, or temporal.tls in deploy.yml)',
      2,
    );
  }
  const wantsTls = Boolean(cert || ca || serverName || apiKey || tlsFlag === 'true' || tlsFlag === '1');
  return {
    address: pick('TEMPORAL_ADDRESS') ?? cfg.address ?? DEFAULT_ADDRESS,
    namespace: pick('TEMPORAL_NAMESPACE') ?? cfg.namespace ?? DEFAULT_NAMESPACE,
    taskQueue: pick('ALCAIDE_TASK_QUEUE') ?? cfg.task_queue ?? DEFAULT_TASK_QUEUE,
    tls: wantsTls ? { clientCertPath: cert, clientKeyPath: key, caPath: ca, serverName } : undefined,
    apiKey,
  };
}

export interface ConnectionTls {
  clientCertPair?: { crt: Buffer; key: Buffer };
  serverRootCACertificate?: Buffer;
  serverNameOverride?: string;
}

/** Reads the certificate files named in the settings (shared by client and worker connections). */
export function loadTls(s: TemporalSettings): ConnectionTls | undefined {
  if (!s.tls) return undefined;
  const read = (p: string, what: string) => {
    try {
      return readFileSync(p);
    } catch (e) {
      throw new UserError(`cannot read the Temporal TLS ${what} ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  return {
    clientCertPair:
      s.tls.clientCertPath && s.tls.clientKeyPath
        ? { crt: read(s.tls.clientCertPath, 'client certificate'), key: read(s.tls.clientKeyPath, 'client key') }
        : undefined,
    serverRootCACertificate: s.tls.caPath ? read(s.tls.caPath, 'CA certificate') : undefined,
    serverNameOverride: s.tls.serverName,
  };
}

/** Web UI base: the dev server's UI for a local address, Temporal Cloud's for *.tmprl.cloud. */
export function webUiBase(s: TemporalSettings, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.ALCAIDE_TEMPORAL_UI) return env.ALCAIDE_TEMPORAL_UI.replace(/\/$/, '');
  const [host, port] = s.address.split(':');
  if (host === 'localhost' || host === '127.0.0.1') return `http://${host}:${Number(port) + 1000}`;
  if (host?.endsWith('.tmprl.cloud')) return 'https://cloud.temporal.io';
  return undefined;
}

export function workflowUiUrl(s: TemporalSettings, workflowId: string, runId?: string): string | undefined {
  const base = webUiBase(s);
  if (!base) return undefined;
  const ns = encodeURIComponent(s.namespace);
  const id = encodeURIComponent(workflowId);
  return `${base}/namespaces/${ns}/workflows/${id}${runId ? `/${encodeURIComponent(runId)}` : ''}/history`;
}
