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

export async function httpViaSsh(
  conn: SshConnection,
  o: {
    host: string;
    port: number;
    path: string;
    /** a unix socket on the server to send the request to, instead of host:port */
    socket?: string;
    hostHeader?: string;
    timeoutMs?: number;
    tlsServername?: string;
    headers?: Record<string, string>;
  },
): Promise<TunnelResponse> {
  const tunnel = o.socket ? await openSocketTunnel(conn, o.socket) : await openTunnel(conn, o.host, o.port);
  // HTTPS to Caddy on the server's loopback: SNI picks the site; the check is about routing,
  // so the certificate (perhaps not issued yet) is not verified here.
  const stream = o.tlsServername ? tls.connect({ socket: tunnel as never, servername: o.tlsServername, rejectUnauthorized: false }) : tunnel;
  return new Promise((resolve, reject) => {
    const req = http.request(
      { createConnection: () => stream as never, path: o.path, method: 'GET', headers: { ...o.headers, Host: o.hostHeader ?? o.host, Connection: 'close' } },
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
      () => req.destroy(new Error(`no answer from ${o.host}:${o.port}${o.path} within ${(o.timeoutMs ?? 5000) / 1000}s`)),
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
