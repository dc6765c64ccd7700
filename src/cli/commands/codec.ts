import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_CONFIG_FILE } from '../../config/load';
import { UserError } from '../../errors';
import { CODEC_KEY_ENV, EncryptionCodec } from '../../temporal/codec';
import { CODEC_TOKEN_ENV, startCodecServer } from '../../temporal/codecServer';
import { webUiBase } from '../../temporal/settings';
import { configFor, globals, temporalFor } from '../context';
import { color } from '../output';

export const DEFAULT_CODEC_PORT = 8234;

/** The dev server's UI is reached as localhost or 127.0.0.1: allow both spellings. */
export function defaultOrigins(base: string | undefined): string[] {
  if (!base) return [];
  const u = new URL(base);
  const out = new Set([u.origin]);
  if (u.hostname === 'localhost') out.add(u.origin.replace('//localhost', '//127.0.0.1'));
  if (u.hostname === '127.0.0.1') out.add(u.origin.replace('//127.0.0.1', '//localhost'));
  return [...out];
}

export function registerCodecServer(program: Command): void {
  program
    .command('codec-server')
    .description('serve /encode and /decode so the Temporal Web UI and CLI show encrypted payloads in clear')
    .option('--port <n>', `port (default ${DEFAULT_CODEC_PORT}, or ALCAIDE_CODEC_PORT)`)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--origin <url...>', "the Web UI's origin(s) allowed by CORS (default: the dev server UI, as localhost and 127.0.0.1)")
    .option('--require-token', 'refuse the token-less Web UI access on loopback (shared machines)')
    .addHelpText(
      'after',
      `
The key is the one every alcaide process uses: ${CODEC_KEY_ENV}, else the project's master key.
Requests need \`Authorization: Bearer TOKEN\` (TOKEN printed at start, or ${CODEC_TOKEN_ENV}).
The dev server's Web UI cannot send a token: while this server listens on loopback, a
request from a loopback address with an allowed Origin is accepted without one, unless
--require-token. Start the dev server with ./temporal-dev.sh to wire its UI to this server.

Examples:
  $ alcaide codec-server
  $ ${CODEC_TOKEN_ENV}=... alcaide codec-server --port 8234 --origin https://temporal.example.com --require-token
  $ temporal workflow show -w alcaide-my_app --codec-endpoint http://127.0.0.1:8234 --codec-auth "Bearer TOKEN"`,
    )
    .action(async (opts: { port?: string; host: string; origin?: string[]; requireToken?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const portText = opts.port ?? process.env.ALCAIDE_CODEC_PORT ?? String(DEFAULT_CODEC_PORT);
      const port = Number(portText);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`--port: expected a port number, got ${JSON.stringify(portText)}`, 2);
      const origins = opts.origin ?? [];
      for (const o of origins) {
        let ok = false;
        try {
          const u = new URL(o);
          ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === o.replace(/\/$/, '');
        } catch {
          /* not a URL */
        }
        if (!ok) throw new UserError(`--origin: expected an origin like http://localhost:8233 (scheme, host, port; no path), got ${JSON.stringify(o)}`, 2);
      }
      const hasConfig = g.config !== undefined || existsSync(path.resolve(DEFAULT_CONFIG_FILE));
      const settings = temporalFor(hasConfig ? configFor(cmd) : undefined);
      if (!settings.codecKey) {
        throw new UserError(
          'no codec key: payloads are not encrypted, there is nothing to decode',
          1,
          `run it in the project directory (where .alcaide/master.key is), or set ${CODEC_KEY_ENV} or ALCAIDE_MASTER_KEY as the workers have it`,
        );
      }
      const fromEnv = process.env[CODEC_TOKEN_ENV];
      const token = fromEnv || randomBytes(24).toString('base64url');
      const running = await startCodecServer({
        codec: new EncryptionCodec(settings.codecKey),
        token,
        origins: origins.length ? origins : defaultOrigins(webUiBase(settings)),
        host: opts.host,
        port,
        requireToken: opts.requireToken,
        log: g.verbose ? (l) => console.log(color.dim(l)) : undefined,
      });
      console.log(`codec server on ${running.url} (key ${settings.codecKey.id} from ${settings.codecKey.source})`);
      console.log(`  Web UI origins: ${(origins.length ? origins : defaultOrigins(webUiBase(settings))).join(', ') || '(none)'}`);
      console.log(`  bearer token: ${fromEnv ? `from ${CODEC_TOKEN_ENV}` : token}`);
      console.log(color.dim(`  temporal workflow show -w ID --codec-endpoint ${running.url} --codec-auth "Bearer …"`));
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await running.close();
      console.log('codec server stopped');
    });
}
