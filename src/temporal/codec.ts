// Payload encryption: every payload the client and the worker exchange through Temporal
// (workflow input and result, activity arguments and results, signals, queries, failure
// messages) is stored by the server as AES-256-GCM ciphertext. Search attributes are not
// payloads the codec sees; they stay clear and never hold secrets.
//
// Where the key comes from (first that exists):
//   1. ALCAIDE_CODEC_KEY (32 bytes in base64) — share it between the CLI, workers and the codec server
//   2. the project's master key (ALCAIDE_MASTER_KEY or .alcaide/master.key), through HKDF
//   3. none: payloads travel in clear. A project without a master key has no secrets, and
//      workflows only ever carry references (app, destination, version), never secret values.
// Decoding leaves unencrypted payloads alone (history written before the codec, the server's
// own payloads), so turning encryption on never breaks a running deploy.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { DIST_DIR } from '../distDir';
import { UserError } from '../errors';
import { loadMasterKey, masterKeyPath, MASTER_KEY_ENV } from '../config/secrets';

export const CODEC_KEY_ENV = 'ALCAIDE_CODEC_KEY';
export const ENCODING = 'binary/encrypted';
export const KEY_ID_META = 'encryption-key-id';
const INFO = 'alcaide/codec/v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const ENCODING_BYTES = Buffer.from(ENCODING);

// The whole original payload (metadata + data) is what gets encrypted, so even its encoding
// ("json/plain") and message type are hidden.
function serialize(p: Payload): Buffer {
  const metadata = Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]));
  return Buffer.from(JSON.stringify({ metadata, data: Buffer.from(p.data ?? new Uint8Array()).toString('base64') }));
}

function deserialize(b: Buffer): Payload {
  const o = JSON.parse(b.toString('utf8')) as { metadata: Record<string, string>; data: string };
  const metadata = Object.fromEntries(Object.entries(o.metadata).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))]));
  return { metadata, data: new Uint8Array(Buffer.from(o.data, 'base64')) };
}

export interface CodecKey {
  /** 16 hex digits, stored in each payload's metadata; not secret (a hash of the derived key) */
  id: string;
  key: Buffer;
  /** where it came from, for messages: "ALCAIDE_CODEC_KEY", ".alcaide/master.key", … */
  source: string;
}

/** Derives the payload key from key material (a codec key or the master key). */
export function codecKey(material: Buffer, source: string): CodecKey {
  const key = Buffer.from(hkdfSync('sha256', material, Buffer.alloc(0), INFO, 32));
  const id = createHash('sha256').update('alcaide/codec/key-id\0').update(key).digest('hex').slice(0, 16);
  return { id, key, source };
}

function decodeBase64Key(b64: string, source: string): Buffer {
  const t = b64.trim();
  const key = /^[A-Za-z0-9+/]+={0,2}$/.test(t) ? Buffer.from(t, 'base64') : Buffer.alloc(0);
  if (key.length !== 32) throw new UserError(`${source} is not a codec key (expected 32 bytes in base64, e.g. from \`openssl rand -base64 32\`)`, 2);
  return key;
}

/**
 * The key rule above. `root` is the project directory (home of .alcaide/); undefined when
 * there is no project (then only the environment counts). Returns undefined for "no key".
 */
export function resolveCodecKey(root: string | undefined, env: NodeJS.ProcessEnv = process.env): CodecKey | undefined {
  const fromEnv = env[CODEC_KEY_ENV];
  if (fromEnv) return codecKey(decodeBase64Key(fromEnv, CODEC_KEY_ENV), CODEC_KEY_ENV);
  if (env[MASTER_KEY_ENV]) return codecKey(loadMasterKey(root ?? process.cwd(), env), MASTER_KEY_ENV);
  if (root !== undefined && existsSync(masterKeyPath(root))) return codecKey(loadMasterKey(root, env), '.alcaide/master.key');
  return undefined;
}

/**
 * AES-256-GCM PayloadCodec. Encodes with the first key; decodes with whichever key the
 * payload names (so an old key can be kept for reading while a new one writes).
 */
export class EncryptionCodec implements PayloadCodec {
  readonly keys: CodecKey[];
  constructor(keys: CodecKey | CodecKey[]) {
    this.keys = Array.isArray(keys) ? keys : [keys];
    if (!this.keys.length) throw new Error('EncryptionCodec needs a key');
  }

  get keyId(): string {
    return this.keys[0]!.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.encodeOne(p));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.decodeOne(p));
  }

  encodeOne(p: Payload): Payload {
    const k = this.keys[0]!;
    const plain = serialize(p);
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', k.key, nonce);
    cipher.setAAD(Buffer.from(`${INFO}\0${k.id}`));
    const data = Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return { metadata: { encoding: ENCODING_BYTES, [KEY_ID_META]: Buffer.from(k.id) }, data };
  }

  decodeOne(p: Payload): Payload {
    const encoding = p.metadata?.encoding ? Buffer.from(p.metadata.encoding).toString() : undefined;
    if (encoding !== ENCODING) return p; // written without the codec: leave it alone
    const raw = p.metadata?.[KEY_ID_META];
    const id = raw ? Buffer.from(raw).toString() : '';
    const k = this.keys.find((x) => x.id === id);
    if (!k) {
      throw new UserError(
        `a Temporal payload is encrypted with key ${id || '(unnamed)'}, which this process does not have (it has ${this.keys.map((x) => `${x.id} from ${x.source}`).join(', ')})`,
        1,
        `use the same ${CODEC_KEY_ENV} or master key as the process that wrote it`,
      );
    }
    const data = Buffer.from(p.data ?? new Uint8Array());
    if (data.length < NONCE_BYTES + TAG_BYTES) throw new Error(`encrypted payload (key ${id}) is truncated`);
    const decipher = createDecipheriv('aes-256-gcm', k.key, data.subarray(0, NONCE_BYTES));
    decipher.setAAD(Buffer.from(`${INFO}\0${k.id}`));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(NONCE_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new Error(`encrypted payload (key ${id}) failed authentication: it was modified or damaged`);
    }
    return deserialize(plain);
  }
}

/** Without a key: payloads go out in clear, clear ones read fine, an encrypted one is a clear error. */
export class NoKeyCodec implements PayloadCodec {
  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads;
  }
  async decode(payloads: Payload[]): Promise<Payload[]> {
    for (const p of payloads) {
      if (p.metadata?.encoding && Buffer.from(p.metadata.encoding).toString() === ENCODING) {
        const id = p.metadata[KEY_ID_META] ? Buffer.from(p.metadata[KEY_ID_META]).toString() : '(unnamed)';
        throw new UserError(
          `a Temporal payload is encrypted (key ${id}) but this process has no codec key`,
          1,
          `set ${CODEC_KEY_ENV}, or ${MASTER_KEY_ENV} / .alcaide/master.key of the project, as the process that wrote it has`,
        );
      }
    }
    return payloads;
  }
}

export function payloadCodecFor(key: CodecKey | undefined): PayloadCodec {
  return key ? new EncryptionCodec(key) : new NoKeyCodec();
}

/** The failure converter module (encodeCommonAttributes), for clients, workers and the workflow bundle. */
export const FAILURE_CONVERTER_PATH = path.join(DIST_DIR, 'src', 'temporal', 'failureConverter.js');

/** The one data converter of every client and worker. */
export function dataConverterFor(key: CodecKey | undefined): DataConverter {
  return { payloadCodecs: [payloadCodecFor(key)], failureConverterPath: FAILURE_CONVERTER_PATH };
}
