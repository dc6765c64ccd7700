// Encrypted secrets: one file per destination, AES-256-GCM under a key derived from the
// project's master key. The file is safe to commit; the master key never is.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Document, parse as parseYaml, parseDocument } from 'yaml';
import { UserError } from '../errors';
import type { Config } from './load';
import { ENV_KEY_RE, NUL_FREE } from './schema';

const HEADER = 'ALCAIDE-SECRETS v1 aes-256-gcm';
const HEADER_RE = /^ALCAIDE-SECRETS v(\d+) /;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const MASTER_KEY_ENV = 'ALCAIDE_MASTER_KEY';

export type Secrets = Record<string, string>;

export function stateDir(root: string): string {
  return path.join(root, '.alcaide');
}
export function masterKeyPath(root: string): string {
  return path.join(stateDir(root), 'master.key');
}
export function secretsPath(root: string, destination?: string): string {
  return path.join(stateDir(root), destination ? `secrets.${destination}.enc` : 'secrets.enc');
}

export function generateMasterKey(): string {
  return randomBytes(32).toString('base64');
}

function decodeKey(b64: string, source: string): Buffer {
  const trimmed = b64.trim();
  const key = /^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) ? Buffer.from(trimmed, 'base64') : Buffer.alloc(0);
  if (key.length !== 32) throw new UserError(`${source} is not a master key (expected 32 bytes in base64, as written by \`alcaide secrets init\`)`);
  return key;
}

/** Whether this machine has the project's master key (in the environment or in .alcaide/). */
export function hasMasterKey(root: string, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env[MASTER_KEY_ENV]) || existsSync(masterKeyPath(root));
}

/** The master key from ALCAIDE_MASTER_KEY, else from .alcaide/master.key (which must be 0600). */
export function loadMasterKey(root: string, env: NodeJS.ProcessEnv = process.env): Buffer {
  const fromEnv = env[MASTER_KEY_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return decodeKey(fromEnv, MASTER_KEY_ENV);
  const file = masterKeyPath(root);
  if (!existsSync(file)) {
    throw new UserError(
      `no master key: ${path.relative(process.cwd(), file) || file} does not exist and ${MASTER_KEY_ENV} is not set`,
      1,
      'run `alcaide secrets init` to create one, or get the key from a teammate and put it in that file (mode 0600)',
    );
  }
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o077) {
    throw new UserError(`${file} is readable by other users (mode ${mode.toString(8)})`, 1, `run: chmod 600 ${file}`);
  }
  return decodeKey(readFileSync(file, 'utf8'), file);
}

/** Creates the master key file; refuses to overwrite one. */
export function createMasterKey(root: string): string {
  const file = masterKeyPath(root);
  if (existsSync(file)) throw new UserError(`${file} already exists; refusing to overwrite the master key`);
  mkdirSync(stateDir(root), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${generateMasterKey()}\n`, { mode: 0o600, flag: 'wx' });
  return file;
}

/** The secrets files' key, derived from the master key. */
export function fileKey(master: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'alcaide/secrets/v1', 32));
}

// The destination is authenticated with the ciphertext, so production's file cannot be
// passed off as staging's.
function aad(destination?: string): Buffer {
  return Buffer.from(`${HEADER}\ndestination=${destination ?? ''}`);
}

export function encryptSecrets(plaintext: string, master: Buffer, destination?: string): string {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', fileKey(master), nonce);
  cipher.setAAD(aad(destination));
  const body = Buffer.concat([nonce, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  const lines = body.toString('base64').match(/.{1,76}/g) ?? [];
  return `${HEADER}\n${lines.join('\n')}\n`;
}

export function decryptSecrets(fileText: string, master: Buffer, destination: string | undefined, name: string): string {
  const [header, ...rest] = fileText.split('\n');
  const version = HEADER_RE.exec(header ?? '');
  if (!version) throw new UserError(`${name} is not an Alcaide secrets file (its first line should be "${HEADER}")`);
  if (header !== HEADER) {
    throw new UserError(`${name} uses secrets format v${version[1]}, which this version of alcaide cannot read`, 1, 'upgrade alcaide');
  }
  const body = Buffer.from(rest.join(''), 'base64');
  if (body.length < NONCE_BYTES + TAG_BYTES) throw new UserError(`${name} is truncated or damaged`);
  const decipher = createDecipheriv('aes-256-gcm', fileKey(master), body.subarray(0, NONCE_BYTES));
  decipher.setAAD(aad(destination));
  decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(body.subarray(NONCE_BYTES, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new UserError(
      `cannot decrypt ${name}: wrong master key, the file was modified, or it was encrypted for another destination`,
      1,
      `check ${MASTER_KEY_ENV} / .alcaide/master.key and the -d destination`,
    );
  }
}

/** Plaintext is a YAML mapping NAME: value; returns the problems found, if any. */
export function parseSecretsText(text: string): { secrets: Secrets; problems: string[] } {
  let data: unknown;
  try {
    data = parseYaml(text) ?? {};
  } catch (e) {
    return { secrets: {}, problems: [`not valid YAML: ${(e as Error).message.split('\n')[0]}`] };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { secrets: {}, problems: ['expected a mapping of NAME: value'] };
  }
  const secrets: Secrets = {};
  const problems: string[] = [];
  for (const [k, v] of Object.entries(data)) {
    if (!ENV_KEY_RE.test(k)) problems.push(`${JSON.stringify(k)} is not a valid secret name (letters, digits, "_", not starting with a digit)`);
    else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
      const problem = secretValueProblem(k, String(v));
      if (problem) problems.push(problem);
      else secrets[k] = String(v);
    } else problems.push(`${k}: expected a string value, got ${v === null ? 'nothing' : Array.isArray(v) ? 'a list' : 'a mapping'}`);
  }
  return { secrets, problems };
}

/** What keeps a secret's value from reaching the app byte for byte, if anything. */
export function secretValueProblem(name: string, value: string): string | undefined {
  return value.includes('\0') ? `${name}: expected ${NUL_FREE}, got a value with one` : undefined;
}

/** The secrets a configuration names: env.secret and the PostgreSQL accessory's password. */
export function secretNamesOf(c: Pick<Config, 'env' | 'accessories'>): string[] {
  return [...new Set([...c.env.secret, ...(c.accessories.postgresql ? [c.accessories.postgresql.password_secret] : [])])];
}

/**
 * The app's secrets read as a worker of this machine will read them, before a deploy touches
 * anything: invalid content (a NUL byte) or a named secret missing from the file stops it here.
 * Without the master key on this machine (a worker elsewhere holds it) there is nothing to check.
 */
export function checkAppSecrets(c: Pick<Config, 'env' | 'accessories' | 'root' | 'destination'>, env: NodeJS.ProcessEnv = process.env): void {
  const names = secretNamesOf(c);
  if (!names.length || !hasMasterKey(c.root, env)) return;
  const store = new SecretsStore(c.root, c.destination, env);
  const values = store.read();
  const missing = names.filter((n) => !(n in values));
  if (missing.length) {
    throw new UserError(
      `secrets missing from ${store.displayName}: ${missing.join(', ')}`,
      2,
      `alcaide${c.destination ? ` -d ${c.destination}` : ''} secrets set NAME`,
    );
  }
}

export class SecretsStore {
  readonly file: string;
  constructor(
    readonly root: string,
    readonly destination?: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.file = secretsPath(root, destination);
  }

  get displayName(): string {
    return path.relative(process.cwd(), this.file) || this.file;
  }

  exists(): boolean {
    return existsSync(this.file);
  }

  readText(): string {
    if (!this.exists()) {
      throw new UserError(
        `no secrets file ${this.displayName}${this.destination ? ` for destination "${this.destination}"` : ''}`,
        1,
        `run \`alcaide secrets init${this.destination ? ` -d ${this.destination}` : ''}\``,
      );
    }
    return decryptSecrets(readFileSync(this.file, 'utf8'), loadMasterKey(this.root, this.env), this.destination, this.displayName);
  }

  read(): Secrets {
    const { secrets, problems } = parseSecretsText(this.readText());
    if (problems.length) throw new UserError(`${this.displayName} holds invalid content: ${problems.join('; ')}`, 2, 'fix it with `alcaide secrets edit`');
    return secrets;
  }

  /** Encrypts and writes atomically (temp file + rename), so a crash never leaves half a file. */
  writeText(plaintext: string): void {
    const data = encryptSecrets(plaintext, loadMasterKey(this.root, this.env), this.destination);
    mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, data, { mode: 0o644 });
      chmodSync(tmp, 0o644);
      renameSync(tmp, this.file);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
  }
}

/** Sets one key in the YAML text, keeping the other lines (and comments) as they are. */
export function setSecretInText(text: string, key: string, value: string): string {
  const doc = text.trim() ? parseDocument(text) : new Document({});
  doc.set(key, value);
  return doc.toString();
}
