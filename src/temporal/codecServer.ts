// The codec server: the Temporal Web UI (and `temporal workflow show --codec-endpoint`)
// send encrypted payloads here and get them back in clear, so an authorised operator reads
// the history while the Temporal server only ever stores ciphertext.
//
// Contract (Temporal's remote codec): POST /decode and POST /encode with
// {"payloads":[{"metadata":{"k":"<base64>"},"data":"<base64>"}]}, answered in the same shape;
// a body without "payloads" ({}) carries none.
//
// Who may call it:
// - anyone presenting `Authorization: Bearer <token>` (the token printed at start, or
//   ALCAIDE_CODEC_TOKEN): the temporal CLI (`--codec-auth "Bearer …"`), scripts;
// - the Web UI of the dev server, which cannot send that token (the UI adds an
//   Authorization header only with `pass_access_token`, over HTTPS, carrying its own OIDC
//   token; `temporal server start-dev` has neither): a request from a loopback address whose
//   browser-set Origin is one of the allowed UI origins, while this server listens on
//   loopback only. That keeps other web sites out (they cannot forge Origin) but not other
//   local users of the machine; use --require-token on shared machines.
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload } from '@temporalio/common';
import type { EncryptionCodec } from './codec';

export const CODEC_TOKEN_ENV = 'ALCAIDE_CODEC_TOKEN';
const MAX_BODY = 16 * 1024 * 1024;
const ALLOWED_HEADERS = 'Authorization, Content-Type, X-Namespace';

export interface CodecServerOptions {
  codec: EncryptionCodec;
  token: string;
  /** allowed browser origins (the Web UI), exact match */
  origins: string[];
  host?: string;
  port?: number;
  /** no token-less access for the UI, even on loopback */
  requireToken?: boolean;
  /** one line per request (method, path, status, payload count): never payload content */
  log?: (line: string) => void;
}

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const isLoopback = (addr?: string) => !!addr && (addr === '::1' || addr.startsWith('127.') || addr.startsWith('::ffff:127.'));

function fromJson(p: JsonPayload): Payload {
  const metadata: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(p.metadata ?? {})) {
    if (typeof v !== 'string') throw new Error(`metadata ${k} is not a base64 string`);
    metadata[k] = new Uint8Array(Buffer.from(v, 'base64'));
  }
  if (p.data !== undefined && typeof p.data !== 'string') throw new Error('data is not a base64 string');
  return { metadata, data: new Uint8Array(Buffer.from(p.data ?? '', 'base64')) };
}

function toJson(p: Payload): JsonPayload {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.metadata ?? {})) metadata[k] = Buffer.from(v ?? new Uint8Array()).toString('base64');
  return { metadata, data: Buffer.from(p.data ?? new Uint8Array()).toString('base64') };
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer (.+)$/i.exec(header ?? '');
  if (!m) return false;
  const a = Buffer.from(m[1]!.trim());
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface RunningCodecServer {
  url: string;
  server: http.Server;
  close(): Promise<void>;
}

export async function startCodecServer(o: CodecServerOptions): Promise<RunningCodecServer> {
  const host = o.host ?? '127.0.0.1';
  const loopbackOnly = isLoopback(host) || host === 'localhost';
  const origins = new Set(o.origins.map((x) => x.replace(/\/$/, '')));
  const log = o.log ?? (() => {});

  const server = http.createServer((req, res) => {
    const origin = req.headers.origin;
    const originAllowed = origin !== undefined && origins.has(origin);
    if (originAllowed) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Vary', 'Origin');
    }
    const url = new URL(req.url ?? '/', 'http://codec');
    // the CLI's --codec-endpoint may template the namespace into the path: /NS/decode
    const route = /(?:^|\/)(encode|decode)$/.exec(url.pathname)?.[1];
    const done = (status: number, body?: unknown) => {
      if (body !== undefined) res.setHeader('Content-Type', 'application/json');
      res.writeHead(status);
      res.end(body === undefined ? undefined : JSON.stringify(body));
      log(`${req.method} ${url.pathname} ${status}${origin ? ` origin ${origin}` : ''}`);
    };

    if (req.method === 'OPTIONS') {
      if (!originAllowed) return done(403, { error: `origin ${origin ?? '(none)'} is not allowed` });
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      res.setHeader('Access-Control-Max-Age', '600');
      return done(204);
    }
    if (!route) return done(404, { error: 'not found: POST /encode or /decode' });
    if (req.method !== 'POST') return done(405, { error: 'use POST' });
    if (origin !== undefined && !originAllowed) return done(403, { error: `origin ${origin} is not allowed` });
    const byToken = tokenMatches(req.headers.authorization, o.token);
    const byUi = !o.requireToken && loopbackOnly && originAllowed && isLoopback(req.socket.remoteAddress);
    if (!byToken && !byUi) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return done(401, { error: 'a valid bearer token is required' });
    }

    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        done(413, { error: 'request too large' });
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      if (res.writableEnded) return;
      void (async () => {
        let payloads: Payload[];
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
          // protobuf's JSON leaves an empty list out: `temporal workflow query` sends {} for no arguments
          const list = body !== null && typeof body === 'object' && !Array.isArray(body) ? ((body as { payloads?: unknown }).payloads ?? []) : undefined;
          if (!Array.isArray(list)) throw new Error('expected {"payloads": [...]}');
          payloads = (list as JsonPayload[]).map(fromJson);
        } catch (e) {
          return done(400, { error: `bad request: ${(e as Error).message}` });
        }
        try {
          const out = route === 'encode' ? await o.codec.encode(payloads) : await o.codec.decode(payloads);
          done(200, { payloads: out.map(toJson) });
        } catch (e) {
          // names the key id at most; never payload content
          done(422, { error: (e as Error).message });
        }
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shownHost}:${addr.port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
