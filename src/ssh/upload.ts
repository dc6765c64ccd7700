// Streaming upload over an exec channel (`cat`), never holding the file in memory:
// skipped when the remote file already has the same sha256, resumed from a partial temp
// file after a drop, verified by size + sha256 before it is moved into place atomically.
// Two commands in all: one check, one that appends, verifies and installs.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, renameSync, rmSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { SshConnection } from './connection';

/** The two remote commands upload needs; built by the host-command layer for the target OS. */
export interface UploadCommands {
  /** prints "SIZE SHA256" (or nothing) for `dest`, a line "--", then the same for `part` */
  check(dest: string, part: string): string;
  /**
   * appends stdin to `part` (emptied first when `fresh`), moves it over `dest` with `mode` only
   * when it then has exactly the expected size and sha256, and prints what `part` had
   */
  appendVerifyInstall(part: string, dest: string, mode: string, expected: SizeSha, fresh: boolean): string;
  /** prints the file's bytes from `offset` on */
  readFrom(path: string, offset: number): string;
}

export interface SizeSha {
  size: number;
  sha: string;
}

export interface UploadOptions {
  mode?: string;
  label?: string;
  onProgress?: (bytes: number, total: number) => void;
  signal?: AbortSignal;
}

export interface UploadResult {
  sha256: string;
  size: number;
  skipped: boolean;
  resumedFrom: number;
  bytesSent: number;
}

export async function fileSha256(file: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(file), h);
  return h.digest('hex');
}

export function parseSizeSha(out: string): SizeSha | undefined {
  const m = /^(\d+)\s+([0-9a-f]{64})\s*$/.exec(out.trim());
  return m ? { size: Number(m[1]), sha: m[2]! } : undefined;
}

/** What the check command printed: the file in place and a partial one, each if there. */
export function parseCheck(out: string): { there?: SizeSha; part?: SizeSha } {
  const [there, part] = out.split('--\n');
  return { there: parseSizeSha(there ?? ''), part: parseSizeSha(part ?? '') };
}

export async function uploadFile(conn: SshConnection, local: string, remote: string, cmds: UploadCommands, o: UploadOptions = {}): Promise<UploadResult> {
  const label = o.label ?? `upload ${remote}`;
  const { size } = await stat(local);
  const sha256 = await fileSha256(local);
  const tmp = `${remote}.part`;
  const { there, part: partial } = parseCheck((await conn.run(cmds.check(remote, tmp), { label: `${label}: check` })).stdout);
  if (there && there.size === size && there.sha === sha256) {
    return { sha256, size, skipped: true, resumedFrom: 0, bytesSent: 0 };
  }
  let offset = partial && partial.size < size ? partial.size : 0;

  for (let attempt = 0; attempt < 2; attempt++) {
    let sent = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        sent += chunk.length;
        o.onProgress?.(offset + sent, size);
        cb(null, chunk);
      },
    });
    const source = createReadStream(local, { start: offset });
    source.pipe(counter);
    const send = cmds.appendVerifyInstall(tmp, remote, o.mode ?? '0644', { size, sha: sha256 }, offset === 0);
    const got = parseSizeSha((await conn.run(send, { label, stdin: counter, signal: o.signal })).stdout);
    if (got && got.size === size && got.sha === sha256) {
      return { sha256, size, skipped: false, resumedFrom: offset, bytesSent: sent };
    }
    // The partial file was not a prefix of this one (or got damaged): start over once.
    offset = 0;
  }
  throw new Error(`${label}: the uploaded file's checksum does not match after a full retry`);
}

export interface DownloadResult {
  sha256: string;
  size: number;
  /** the local file already was the remote one */
  skipped: boolean;
  resumedFrom: number;
}

/**
 * The remote file into `local`, streamed to disk: skipped when `local` already has its size and
 * sha256, resumed from `local.part` after a drop, verified before it is moved into place.
 */
export async function downloadFile(conn: SshConnection, remote: string, local: string, cmds: UploadCommands, o: UploadOptions = {}): Promise<DownloadResult> {
  const label = o.label ?? `download ${remote}`;
  const want = parseCheck((await conn.run(cmds.check(remote, `${remote}.none`), { label: `${label}: check` })).stdout).there;
  if (!want) throw new Error(`${label}: ${remote} is not on ${conn.name}`);
  if (existsSync(local) && (await stat(local)).size === want.size && (await fileSha256(local)) === want.sha) {
    return { ...want, sha256: want.sha, skipped: true, resumedFrom: 0 };
  }
  const part = `${local}.part`;
  for (let attempt = 0; attempt < 2; attempt++) {
    const have = existsSync(part) ? (await stat(part)).size : 0;
    const offset = attempt === 0 && have < want.size ? have : 0;
    const file = createWriteStream(part, { flags: offset ? 'a' : 'w' });
    const closed = new Promise<void>((resolve, reject) => file.on('close', resolve).on('error', reject));
    let got = offset;
    try {
      await conn.run(cmds.readFrom(remote, offset), {
        label,
        stdoutTo: file,
        signal: o.signal,
        onStdout: (d) => o.onProgress?.((got += d.length), want.size),
      });
    } finally {
      file.end();
      await closed;
    }
    if ((await stat(part)).size === want.size && (await fileSha256(part)) === want.sha) {
      renameSync(part, local);
      return { sha256: want.sha, size: want.size, skipped: false, resumedFrom: offset };
    }
    // not a prefix of this file after all (another version's, damaged): once more from the start
    rmSync(part, { force: true });
  }
  throw new Error(`${label}: the downloaded file's checksum does not match after a full retry`);
}
