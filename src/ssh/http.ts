// HTTP requests to addresses only the server can reach (a jail's IP, Caddy on its loopback or
// its admin socket), tunnelled through the existing SSH connection (direct-tcpip and
// direct-streamlocal), so checks need no HTTP client on the server and see exact status codes
// and headers.
import http from 'node:http';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { SshConnection } from './connection';
import { SshConnectionError } from './errors';

export interface TunnelResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export async function openTunnel(conn: SshConnection, host: string, port: number): Promise<Duplex> {
  const client = await conn.connect();
  return new Promise((resolve, reject) =>
    client.forwardOut('127.0.0.1', 0, host, port, (err, stream) =>
      err ? reject(new SshConnectionError(conn.name, `cannot reach ${host}:${port} from the server: ${err.message}`)) : resolve(stream),
    ),
  );
}

/** A stream to a unix socket on the server (OpenSSH's direct-streamlocal): Caddy's admin API on FreeBSD. */
export async function openSocketTunnel(conn: SshConnection, socketPath: string): Promise<Duplex> {
  const client = await conn.connect();
  return new Promise((resolve, reject) =>
    client.openssh_forwardOutStreamLocal(socketPath, (err, stream) =>
      err ? reject(new SshConnectionError(conn.name, `cannot reach ${socketPath} on the server: ${err.message}`)) : resolve(stream),
    ),
  );
}

/** Where on the server a request goes: an address, or a unix socket. */
export type TunnelTarget = { host: string; port: number } | { socket: string };

export const describeTarget = (t: TunnelTarget) => ('socket' in t ? `unix/${t.socket}` : `${t.host}:${t.port}`);

export async function httpViaSsh(
  conn: SshConnection,
  o: TunnelTarget & {
    path: string;
    /** the Host header: by default the address's host (localhost for a socket) */
    hostHeader?: string;
    timeoutMs?: number;
    tlsServername?: string;
    headers?: Record<string, string>;
  },
): Promise<TunnelResponse> {
  const tunnel = 'socket' in o ? await openSocketTunnel(conn, o.socket) : await openTunnel(conn, o.host, o.port);
  const host = o.hostHeader ?? ('host' in o ? o.host : 'localhost');
  // HTTPS to Caddy on the server's loopback: SNI picks the site; the check is about routing,
  // so the certificate (perhaps not issued yet) is not verified here.
  const stream = o.tlsServername ? tls.connect({ socket: tunnel as never, servername: o.tlsServername, rejectUnauthorized: false }) : tunnel;
  return new Promise((resolve, reject) => {
    const req = http.request(
      { createConnection: () => stream as never, path: o.path, method: 'GET', headers: { ...o.headers, Host: host, Connection: 'close' } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    // an SSH channel is not a net.Socket (no setTimeout), so the deadline is ours
    const timer = setTimeout(
      () => req.destroy(new Error(`no answer from ${describeTarget(o)}${o.path} within ${(o.timeoutMs ?? 5000) / 1000}s`)),
      o.timeoutMs ?? 5000,
    );
    req.on('close', () => clearTimeout(timer));
    req.on('error', (e) => {
      clearTimeout(timer);
      stream.destroy();
      reject(e);
    });
    req.end();
  });
}
