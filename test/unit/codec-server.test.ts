// The codec server over real HTTP: the Temporal remote-codec JSON shape, bearer token,
// CORS for the Web UI (preflight with the headers the UI sends), token-less UI access on
// loopback only with an allowed Origin.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { codecKey, EncryptionCodec, ENCODING } from '../../src/temporal/codec';
import { startCodecServer, type RunningCodecServer } from '../../src/temporal/codecServer';
import { defaultOrigins } from '../../src/cli/commands/codec';

const key = codecKey(Buffer.alloc(32, 4), 'test');
const TOKEN = 'tok-' + 'x'.repeat(20);
const UI = 'http://localhost:8233';
const SECRET = `it's "q" $(touch /tmp/x) \`id\` ünï 🔑\nline2`;
let srv: RunningCodecServer;
let strict: RunningCodecServer;
const logged: string[] = [];

const toJson = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});
const fromJson = (p: { metadata: Record<string, string>; data: string }): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))])),
  data: new Uint8Array(Buffer.from(p.data, 'base64')),
});

async function post(base: string, route: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}/${route}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    json: text ? (JSON.parse(text) as { payloads?: { metadata: Record<string, string>; data: string }[]; error?: string }) : undefined,
  };
}
const auth = { Authorization: `Bearer ${TOKEN}` };

before(async () => {
  srv = await startCodecServer({ codec: new EncryptionCodec(key), token: TOKEN, origins: [UI], log: (l) => logged.push(l) });
  strict = await startCodecServer({ codec: new EncryptionCodec(key), token: TOKEN, origins: [UI], requireToken: true });
});
after(async () => {
  await srv?.close();
  await strict?.close();
});

describe('alcaide codec server', () => {
  test('encode then decode round-trips a hostile value in the Temporal JSON shape', async () => {
    const plain = defaultPayloadConverter.toPayload({ secret: SECRET });
    const enc = await post(srv.url, 'encode', { payloads: [toJson(plain)] }, auth);
    assert.equal(enc.status, 200);
    const encrypted = enc.json!.payloads![0]!;
    assert.equal(Buffer.from(encrypted.metadata.encoding!, 'base64').toString(), ENCODING);
    assert.ok(!Buffer.from(encrypted.data, 'base64').toString('latin1').includes('touch'));
    // what the worker wrote decodes through the server, and vice versa
    assert.deepEqual(defaultPayloadConverter.fromPayload((await new EncryptionCodec(key).decode([fromJson(encrypted)]))[0]!), { secret: SECRET });
    const dec = await post(srv.url, 'decode', enc.json, auth);
    assert.equal(dec.status, 200);
    assert.deepEqual(defaultPayloadConverter.fromPayload(fromJson(dec.json!.payloads![0]!)), { secret: SECRET });
    // the namespace-templated path of `temporal --codec-endpoint http://…/{namespace}` works too
    assert.equal((await post(srv.url, 'default/decode', enc.json, auth)).status, 200);
    // clear payloads (the server's own, old history) pass through unchanged
    const clear = await post(srv.url, 'decode', { payloads: [toJson(plain)] }, auth);
    assert.deepEqual(clear.json!.payloads![0], toJson(plain));
    assert.ok(!logged.join('\n').includes('touch'), 'the request log holds no payload content');
  });

  test('a body without payloads carries none: {} answers {"payloads":[]} (what `temporal workflow query` sends for no arguments)', async () => {
    for (const route of ['encode', 'decode', 'default/encode']) {
      const r = await post(srv.url, route, {}, auth);
      assert.equal(r.status, 200, `${route}: ${JSON.stringify(r.json)}`);
      assert.deepEqual(r.json, { payloads: [] });
    }
  });

  test('no token, a wrong token, or a non-Bearer scheme: 401', async () => {
    const body = { payloads: [] };
    for (const h of [
      {} as Record<string, string>,
      { Authorization: 'Bearer wrong' },
      { Authorization: `Basic ${TOKEN}` },
      { Authorization: `Bearer ${TOKEN}x` },
    ]) {
      const r = await post(srv.url, 'decode', body, h);
      assert.equal(r.status, 401, JSON.stringify(h));
      assert.equal(r.headers.get('www-authenticate'), 'Bearer');
    }
    assert.equal((await post(srv.url, 'decode', body, auth)).status, 200);
  });

  test('CORS preflight for the UI origin allows the headers the UI sends', async () => {
    const res = await fetch(`${srv.url}/decode`, {
      method: 'OPTIONS',
      headers: { Origin: UI, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-namespace,authorization' },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), UI);
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
    assert.match(res.headers.get('access-control-allow-methods') ?? '', /POST/);
    const allowed = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase();
    for (const h of ['content-type', 'x-namespace', 'authorization']) assert.ok(allowed.includes(h), h);
    const evil = await fetch(`${srv.url}/decode`, { method: 'OPTIONS', headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' } });
    assert.equal(evil.status, 403);
    assert.equal(evil.headers.get('access-control-allow-origin'), null);
  });

  test('the Web UI (allowed Origin, loopback, no token) decodes; another origin or --require-token does not', async () => {
    const [enc] = await new EncryptionCodec(key).encode([defaultPayloadConverter.toPayload('hello')]);
    const ui = await post(srv.url, 'decode', { payloads: [toJson(enc!)] }, { Origin: UI, 'X-Namespace': 'default' });
    assert.equal(ui.status, 200);
    assert.equal(ui.headers.get('access-control-allow-origin'), UI);
    assert.equal(defaultPayloadConverter.fromPayload(fromJson(ui.json!.payloads![0]!)), 'hello');
    assert.equal((await post(srv.url, 'decode', { payloads: [] }, { Origin: 'https://evil.example' })).status, 403);
    assert.equal(
      (await post(srv.url, 'decode', { payloads: [] }, { Origin: 'https://evil.example', ...auth })).status,
      403,
      'a token does not open it to other web sites',
    );
    assert.equal((await post(strict.url, 'decode', { payloads: [] }, { Origin: UI })).status, 401);
    assert.equal((await post(strict.url, 'decode', { payloads: [] }, { Origin: UI, ...auth })).status, 200);
  });

  test('bad requests: wrong method, unknown path, bad JSON, a payload of another key', async () => {
    assert.equal((await fetch(`${srv.url}/decode`, { headers: auth })).status, 405);
    assert.equal((await post(srv.url, 'nothing', {}, auth)).status, 404);
    assert.equal((await post(srv.url, 'decode', '{not json', auth)).status, 400);
    for (const body of [{ payloads: 'x' }, [], null, 'x'])
      assert.equal((await post(srv.url, 'decode', JSON.stringify(body), auth)).status, 400, JSON.stringify(body));
    const [other] = await new EncryptionCodec(codecKey(Buffer.alloc(32, 5), 'other')).encode([defaultPayloadConverter.toPayload(SECRET)]);
    const r = await post(srv.url, 'decode', { payloads: [toJson(other!)] }, auth);
    assert.equal(r.status, 422);
    assert.match(r.json!.error!, /encrypted with key [0-9a-f]{16}, which this process does not have/);
  });

  test('default origins: the dev server UI as localhost and as 127.0.0.1', () => {
    assert.deepEqual(defaultOrigins('http://127.0.0.1:8233'), ['http://127.0.0.1:8233', 'http://localhost:8233']);
    assert.deepEqual(defaultOrigins('https://cloud.temporal.io'), ['https://cloud.temporal.io']);
    assert.deepEqual(defaultOrigins(undefined), []);
  });
});
