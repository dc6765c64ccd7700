// A small WebSocket client (RFC 6455, text frames only) for proof tests: the handshake through
// http.request's 'upgrade' event, masked client frames, every server frame recorded with the
// time it came, so a test can say when a socket was closed and by whom.
import crypto from 'node:crypto';
import http from 'node:http';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export type WsEvent = { at: number; kind: 'text'; data: string } | { at: number; kind: 'close'; code?: number } | { at: number; kind: 'end' };

export interface WebSocketClient {
  /** response headers of the 101 */
  headers: http.IncomingHttpHeaders;
  /** what the server sent, in order; `at` is epoch ms */
  events: WsEvent[];
  sendText(data: string): void;
  /** the next text frame not yet returned by nextText */
  nextText(timeoutMs?: number): Promise<string>;
  /** resolves when the server ends the connection */
  ended: Promise<void>;
  destroy(): void;
}

function frame(opcode: number, payload: Buffer): Buffer {
  const mask = crypto.randomBytes(4);
  const n = payload.length;
  if (n >= 65_536) throw new Error('frame too large for this client');
  const head = n < 126 ? Buffer.from([0x80 | opcode, 0x80 | n]) : Buffer.from([0x80 | opcode, 0x80 | 126, n >> 8, n & 255]);
  return Buffer.concat([head, mask, Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!))]);
}

/** Opens `ws://host:port{path}` (an HTTP/1.1 upgrade); rejects on any answer but 101 or a wrong Sec-WebSocket-Accept. */
export function openWebSocket(o: { host: string; port?: number; path: string; origin?: string; timeoutMs?: number }): Promise<WebSocketClient> {
  const key = crypto.randomBytes(16).toString('base64');
  const headers: Record<string, string> = { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': key, 'Sec-WebSocket-Version': '13' };
  if (o.origin) headers.Origin = o.origin;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: o.host, port: o.port ?? 80, path: o.path, headers, agent: false, timeout: o.timeoutMs ?? 10_000 });
    req.on('timeout', () => req.destroy(new Error('no answer to the upgrade request')));
    req.on('error', reject);
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d) => (body += d)).on('end', () => reject(new Error(`no upgrade: HTTP ${res.statusCode} ${body}`)));
    });
    req.on('upgrade', (res, socket: Duplex, head: Buffer) => {
      const want = crypto
        .createHash('sha1')
        .update(key + GUID)
        .digest('base64');
      if (res.headers['sec-websocket-accept'] !== want) {
        socket.destroy();
        reject(new Error(`wrong Sec-WebSocket-Accept ${res.headers['sec-websocket-accept']}, want ${want}`));
        return;
      }
      resolve(client(socket, head, res.headers));
    });
    req.end();
  });
}

function client(socket: Duplex, head: Buffer, headers: http.IncomingHttpHeaders): WebSocketClient {
  const events: WsEvent[] = [];
  const waiters: (() => void)[] = [];
  const changed = () => waiters.splice(0).forEach((w) => w());
  let buf = head;
  let textsSeen = 0;
  const parse = () => {
    for (;;) {
      if (buf.length < 2) return;
      let n = buf[1]! & 127;
      let off = 2;
      if (n === 126) {
        if (buf.length < 4) return;
        n = buf.readUInt16BE(2);
        off = 4;
      } else if (n === 127) {
        if (buf.length < 10) return;
        n = Number(buf.readBigUInt64BE(2));
        off = 10;
      }
      if (buf.length < off + n) return;
      const opcode = buf[0]! & 15;
      const payload = buf.subarray(off, off + n);
      buf = buf.subarray(off + n);
      if (opcode === 1) events.push({ at: Date.now(), kind: 'text', data: payload.toString('utf8') });
      else if (opcode === 8) events.push({ at: Date.now(), kind: 'close', code: payload.length >= 2 ? payload.readUInt16BE(0) : undefined });
      else if (opcode === 9) socket.write(frame(10, payload));
      changed();
    }
  };
  const ended = new Promise<void>((resolve) => {
    let done = false;
    const end = () => {
      if (done) return;
      done = true;
      events.push({ at: Date.now(), kind: 'end' });
      changed();
      resolve();
    };
    socket.on('end', end).on('close', end).on('error', end);
  });
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    parse();
  });
  parse();
  return {
    headers,
    events,
    ended,
    sendText: (data) => socket.write(frame(1, Buffer.from(data, 'utf8'))),
    nextText: (timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no text frame within ${timeoutMs} ms: ${JSON.stringify(events)}`)), timeoutMs);
        const look = () => {
          const texts = events.filter((e): e is Extract<WsEvent, { kind: 'text' }> => e.kind === 'text');
          if (texts.length > textsSeen) {
            clearTimeout(timer);
            resolve(texts[textsSeen++]!.data);
          } else if (events.some((e) => e.kind === 'end')) {
            clearTimeout(timer);
            reject(new Error(`the connection ended: ${JSON.stringify(events)}`));
          } else waiters.push(look);
        };
        look();
      }),
    destroy: () => socket.destroy(),
  };
}
