import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { Payload } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common';
import { codecKey, EncryptionCodec, ENCODING, KEY_ID_META, NoKeyCodec, resolveCodecKey } from '../../src/temporal/codec';
import { fileKey } from '../../src/config/secrets';
import { HOSTILE } from '../helpers/hostile';
import { tempProject } from '../helpers/cli';

const project = tempProject('alcaide-codec-');
after(project.cleanup);
const k1 = codecKey(Buffer.alloc(32, 1), 'one');
const k2 = codecKey(Buffer.alloc(32, 2), 'two');
const b64 = (b: Buffer) => b.toString('base64');
const meta = (p: Payload, k: string) => (p.metadata?.[k] ? Buffer.from(p.metadata[k]!).toString() : undefined);

describe('EncryptionCodec', () => {
  test('round trip of every hostile value; the ciphertext shows none of it, only the encoding and key id', async () => {
    const codec = new EncryptionCodec(k1);
    const plain = HOSTILE.map((v) => defaultPayloadConverter.toPayload({ secret: v }));
    const enc = await codec.encode(plain);
    for (const [i, p] of enc.entries()) {
      assert.equal(meta(p, 'encoding'), ENCODING);
      assert.equal(meta(p, KEY_ID_META), k1.id);
      assert.deepEqual(Object.keys(p.metadata!).sort(), ['encoding', KEY_ID_META].sort(), 'the original encoding is hidden too');
      const v = HOSTILE[i]!;
      if (v.length > 2) assert.ok(!Buffer.from(p.data!).includes(Buffer.from(v)), `ciphertext of ${JSON.stringify(v)}`);
    }
    const dec = await codec.decode(enc);
    assert.deepEqual(
      dec.map((p) => defaultPayloadConverter.fromPayload(p)),
      HOSTILE.map((v) => ({ secret: v })),
    );
  });

  test('fresh nonce per payload: the same value encrypts differently', async () => {
    const codec = new EncryptionCodec(k1);
    const p = defaultPayloadConverter.toPayload('same');
    const [a, b] = await codec.encode([p, p]);
    assert.notDeepEqual(Buffer.from(a!.data!), Buffer.from(b!.data!));
  });

  test('unencrypted payloads (old history, the server’s own) are left alone', async () => {
    const p = defaultPayloadConverter.toPayload({ a: 1 });
    assert.deepEqual(await new EncryptionCodec(k1).decode([p]), [p]);
    assert.deepEqual(await new NoKeyCodec().decode([p]), [p]);
  });

  test('a keyring decodes old keys, encodes with the first', async () => {
    const old = await new EncryptionCodec(k2).encode([defaultPayloadConverter.toPayload('x')]);
    const ring = new EncryptionCodec([k1, k2]);
    assert.equal(defaultPayloadConverter.fromPayload((await ring.decode(old))[0]!), 'x');
    assert.equal(meta((await ring.encode([defaultPayloadConverter.toPayload('y')]))[0]!, KEY_ID_META), k1.id);
  });

  test('wrong key, missing key and tampering fail with a clear message', async () => {
    const enc = await new EncryptionCodec(k1).encode([defaultPayloadConverter.toPayload('secret')]);
    await assert.rejects(
      new EncryptionCodec(k2).decode(enc),
      new RegExp(`encrypted with key ${k1.id}, which this process does not have \\(it has ${k2.id} from two\\)`),
    );
    await assert.rejects(new NoKeyCodec().decode(enc), /encrypted \(key [0-9a-f]{16}\) but this process has no codec key/);
    const data = Buffer.from(enc[0]!.data!);
    data[20]! ^= 1;
    await assert.rejects(new EncryptionCodec(k1).decode([{ ...enc[0]!, data }]), /failed authentication/);
    // the key id is authenticated: relabelling a payload to another key of the ring fails
    const relabelled = { ...enc[0]!, metadata: { ...enc[0]!.metadata, [KEY_ID_META]: Buffer.from(k2.id) } };
    await assert.rejects(new EncryptionCodec([k1, k2]).decode([relabelled]), /failed authentication/);
  });

  test('the key id is not the key and differs per key', () => {
    assert.match(k1.id, /^[0-9a-f]{16}$/);
    assert.notEqual(k1.id, k2.id);
    assert.ok(!k1.key.toString('hex').includes(k1.id));
  });
});

describe('where the codec key comes from', () => {
  let n = 0;
  const dir = (withKey?: string, mode = 0o600) => {
    const d = path.join(project.dir, `p${n++}`);
    mkdirSync(path.join(d, '.alcaide'), { recursive: true });
    if (withKey) {
      writeFileSync(path.join(d, '.alcaide', 'master.key'), withKey + '\n');
      chmodSync(path.join(d, '.alcaide', 'master.key'), mode);
    }
    return d;
  };
  const master = Buffer.alloc(32, 5);

  test('ALCAIDE_CODEC_KEY first, then ALCAIDE_MASTER_KEY, then .alcaide/master.key, else none', () => {
    const root = dir(b64(master));
    assert.equal(resolveCodecKey(root, { ALCAIDE_CODEC_KEY: b64(Buffer.alloc(32, 3)), ALCAIDE_MASTER_KEY: b64(master) })!.source, 'ALCAIDE_CODEC_KEY');
    assert.equal(resolveCodecKey(root, { ALCAIDE_CODEC_KEY: b64(Buffer.alloc(32, 3)) })!.id, codecKey(Buffer.alloc(32, 3), '').id);
    const fromEnv = resolveCodecKey(dir(), { ALCAIDE_MASTER_KEY: b64(master) })!;
    const fromFile = resolveCodecKey(root, {})!;
    assert.equal(fromEnv.source, 'ALCAIDE_MASTER_KEY');
    assert.equal(fromFile.source, '.alcaide/master.key');
    assert.equal(fromEnv.id, fromFile.id, 'the same master key gives the same codec key wherever it is read from');
    assert.equal(resolveCodecKey(dir(), {}), undefined);
    assert.equal(resolveCodecKey(undefined, {}), undefined);
  });

  test('the codec key is derived: it is neither the master key nor the secrets file key', () => {
    const k = codecKey(master, 'm');
    assert.equal(k.key.length, 32);
    assert.notDeepEqual(k.key, master, 'the codec key is the master key');
    // the codec server and the workers hold the codec key: it must not open the secrets files
    assert.notDeepEqual(k.key, fileKey(master), 'the codec key is the secrets file key');
  });

  test('a bad codec key or a master key readable by others is refused, not ignored', () => {
    assert.throws(() => resolveCodecKey(dir(), { ALCAIDE_CODEC_KEY: 'short' }), /ALCAIDE_CODEC_KEY is not a codec key \(expected 32 bytes in base64/);
    assert.throws(() => resolveCodecKey(dir(b64(master), 0o644), {}), /master\.key is readable by other users \(mode 644\)/);
  });
});
