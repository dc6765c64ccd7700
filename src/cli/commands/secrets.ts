import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { isMap, parseDocument } from 'yaml';
import { DEFAULT_CONFIG_FILE } from '../../config/load';
import { ENV_KEY_RE } from '../../config/schema';
import { createMasterKey, masterKeyPath, MASTER_KEY_ENV, parseSecretsText, secretValueProblem, SecretsStore, setSecretInText } from '../../config/secrets';
import { ConfigError, UserError } from '../../errors';
import { globals } from '../context';
import { ensureGitignore } from '../gitignore';
import { color, mark } from '../output';
import { registerSecretsFetch } from './secretsFetch';

const DESTINATION_RE = /^[a-z][a-z0-9_-]{0,30}$/;

/** Secrets need only the project root and destination, not a valid deploy.yml. */
function storeFor(cmd: Command): SecretsStore {
  const g = globals(cmd);
  if (g.destination !== undefined && !DESTINATION_RE.test(g.destination)) {
    throw new ConfigError([`destination: expected a name of lowercase letters, digits, "_" and "-", got ${JSON.stringify(g.destination)}`]);
  }
  const root = path.dirname(path.resolve(g.config ?? DEFAULT_CONFIG_FILE));
  return new SecretsStore(root, g.destination);
}

function checkKey(key: string): void {
  if (!ENV_KEY_RE.test(key)) throw new UserError(`${JSON.stringify(key)} is not a valid secret name (letters, digits, "_", not starting with a digit)`, 2);
}

const TEMPLATE = `# Secrets, one per line as NAME: value (YAML). Saved encrypted when you close the editor.
# Multi-line values:  NAME: |
#                       line one
#                       line two
`;

export function registerSecrets(program: Command): void {
  const secrets = program
    .command('secrets')
    .description('manage the encrypted secrets file (.alcaide/secrets[.DEST].enc)')
    .addHelpText(
      'after',
      `
The master key lives in .alcaide/master.key (mode 0600, never committed) or in
${MASTER_KEY_ENV} for CI. The encrypted files are safe to commit.

Examples:
  $ alcaide secrets init
  $ alcaide secrets edit
  $ printf %s "$DATABASE_URL" | alcaide secrets set DATABASE_URL
  $ alcaide -d staging secrets show
  $ alcaide secrets get SECRET_KEY_BASE
  $ alcaide secrets fetch --adapter 1password --from app-prod/my_app SECRET_KEY_BASE`,
    );

  secrets
    .command('init')
    .description('create the master key (if there is none), an empty secrets file and the .gitignore entries for .alcaide/; never overwrites')
    .action((_o: unknown, cmd: Command) => {
      const store = storeFor(cmd);
      // before anything else: the key must not be committed by the next `git add -A`
      const added = ensureGitignore(store.root);
      if (added.length) console.log(`${mark.ok()} added ${added.join(', ')} to .gitignore`);
      if (store.exists()) throw new UserError(`${store.displayName} already exists; not overwriting it`, 1, 'use `alcaide secrets edit` to change it');
      const keyFile = masterKeyPath(store.root);
      if (!process.env[MASTER_KEY_ENV] && !existsSync(keyFile)) {
        createMasterKey(store.root);
        console.log(`${mark.ok()} created master key ${path.relative(process.cwd(), keyFile)} (mode 0600; keep it out of git, share it securely)`);
      }
      store.writeText(TEMPLATE);
      console.log(`${mark.ok()} created ${store.displayName}`);
    });

  secrets
    .command('edit')
    .description('decrypt into $EDITOR ($VISUAL, vi), re-encrypt on save if changed')
    .action(async (_o: unknown, cmd: Command) => {
      const store = storeFor(cmd);
      const original = store.exists() ? store.readText() : (store.writeText(TEMPLATE), TEMPLATE);
      const edited = await editText(original, path.basename(store.file, '.enc') + '.yml');
      if (edited === undefined || edited === original) {
        console.log('no changes');
        return;
      }
      store.writeText(edited);
      console.log(`${mark.ok()} saved ${store.displayName}`);
    });

  secrets
    .command('show')
    .description('list secret names (values redacted)')
    .action((_o: unknown, cmd: Command) => {
      const store = storeFor(cmd);
      const values = store.read();
      const names = Object.keys(values).sort();
      if (!names.length) console.log(color.dim(`(no secrets in ${store.displayName})`));
      for (const n of names) console.log(`${n}: ${color.dim('[redacted]')}`);
    });

  secrets
    .command('get <KEY>')
    .description('print one secret value (for scripts)')
    .action((key: string, _o: unknown, cmd: Command) => {
      checkKey(key);
      const store = storeFor(cmd);
      const values = store.read();
      if (!(key in values)) throw new UserError(`no secret ${key} in ${store.displayName}`);
      process.stdout.write(values[key]! + (process.stdout.isTTY ? '\n' : ''));
    });

  secrets
    .command('set <KEY>')
    .description('set one secret, value read from stdin (never from the command line)')
    .addHelpText(
      'after',
      `\nExamples:\n  $ alcaide secrets set SECRET_KEY_BASE          # prompts, input hidden\n  $ mix phx.gen.secret | alcaide secrets set SECRET_KEY_BASE`,
    )
    .action(async (key: string, _o: unknown, cmd: Command) => {
      checkKey(key);
      const store = storeFor(cmd);
      const text = store.exists() ? store.readText() : TEMPLATE;
      const value = await readValue(key);
      const problem = secretValueProblem(key, value);
      if (problem) throw new UserError(`${problem}; nothing changed`, 2);
      // an empty value is a value: the app gets KEY set to ""
      store.writeText(setSecretInText(text, key, value));
      console.log(`${mark.ok()} set ${key}${value === '' ? ' to an empty value' : ''} in ${store.displayName}`);
    });

  registerSecretsFetch(secrets, storeFor, TEMPLATE);

  secrets
    .command('unset <KEY>')
    .description('remove one secret')
    .action((key: string, _o: unknown, cmd: Command) => {
      checkKey(key);
      const store = storeFor(cmd);
      const doc = parseDocument(store.readText());
      if (!isMap(doc.contents) || !doc.has(key)) throw new UserError(`no secret ${key} in ${store.displayName}`);
      doc.delete(key);
      store.writeText(doc.toString());
      console.log(`${mark.ok()} removed ${key} from ${store.displayName}`);
    });
}

/** Reads a whole value from a pipe (one trailing newline dropped) or a hidden line from a TTY. */
async function readValue(key: string): Promise<string> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  process.stderr.write(`value for ${key} (hidden): `);
  (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => {};
  const line = await new Promise<string>((resolve) => rl.once('line', resolve));
  rl.close();
  process.stderr.write('\n');
  return line;
}

/**
 * Opens the plaintext in the user's editor from a private 0600 file that is removed on
 * every exit path. Invalid YAML is offered back for another edit on a terminal.
 */
async function editText(initial: string, basename: string): Promise<string | undefined> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'alcaide-secrets-'));
  chmodSync(dir, 0o700);
  const file = path.join(dir, basename);
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  const onSignal = (sig: NodeJS.Signals) => {
    cleanup();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('SIGHUP', onSignal);
  try {
    writeFileSync(file, initial, { mode: 0o600 });
    const editor = process.env.EDITOR || process.env.VISUAL || 'vi';
    for (;;) {
      const r = spawnSync('/bin/sh', ['-c', `${editor} "$1"`, 'editor', file], { stdio: 'inherit' });
      if (r.error || r.status !== 0) {
        throw new UserError(
          `the editor (${editor}) ${r.error ? `could not start: ${r.error.message}` : `exited with status ${r.status ?? r.signal}`}; nothing changed`,
        );
      }
      const text = readFileSync(file, 'utf8');
      const { problems } = parseSecretsText(text);
      if (!problems.length) return text;
      process.stderr.write(`${color.red('error:')} ${problems.join('\n  ')}\n`);
      if (!process.stdin.isTTY || !(await confirm('edit again? [Y/n] '))) {
        throw new UserError('the edited secrets are invalid; nothing changed', 2);
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    cleanup();
  }
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await new Promise<string>((resolve) => rl.question(question, resolve));
  rl.close();
  return !/^n/i.test(answer.trim());
}
