// A Temporal dev server persisted to SQLite that a test can stop and start again (same port,
// same database file), as `./temporal-dev.sh --restart` does: history survives the restart.
// Without a database file it keeps history in memory (faster; a restart loses it): the one
// server `npm run test:fast` shares between its files.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { EncryptionCodec, FAILURE_CONVERTER_PATH, type CodecKey } from '../../src/temporal/codec';
import { searchAttributeFlags } from '../../src/model/searchAttributes';
import { sqlitePragmaFlags } from '../../src/temporal/devServer';
import { temporalBinary } from './temporal';

export async function freePort(): Promise<number> {
  const s = net.createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as net.AddressInfo).port;
  s.close();
  await once(s, 'close');
  return port;
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((res) => {
      const c = net.connect(port, '127.0.0.1', () => (c.destroy(), res(true)));
      c.on('error', () => res(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`temporal dev server did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export class PersistentDevServer {
  private proc?: ChildProcess;
  readonly address: string;
  client!: Client;
  private connection?: Connection;

  private constructor(
    readonly port: number,
    readonly dbFile: string | undefined,
    /** `--sqlite-pragma` arguments with a database file: the product's by default */
    private readonly pragmaFlags: string[] = sqlitePragmaFlags(),
  ) {
    this.address = `127.0.0.1:${port}`;
  }

  static async start(dbFile: string | undefined, codecKeys: CodecKey[], pragmaFlags?: string[]): Promise<PersistentDevServer> {
    const s = new PersistentDevServer(await freePort(), dbFile, pragmaFlags);
    await s.up();
    s.connection = await Connection.connect({ address: s.address });
    s.client = new Client({
      connection: s.connection,
      dataConverter: { payloadCodecs: [new EncryptionCodec(codecKeys)], failureConverterPath: FAILURE_CONVERTER_PATH },
    });
    return s;
  }

  async up(): Promise<void> {
    const args = [
      'server',
      'start-dev',
      '--headless',
      '--ip',
      '127.0.0.1',
      '--port',
      String(this.port),
      ...(this.dbFile ? ['--db-filename', this.dbFile, ...this.pragmaFlags] : []),
      '--log-level',
      'error',
      ...searchAttributeFlags(),
    ];
    this.proc = spawn(temporalBinary(), args, { stdio: 'ignore' });
    await waitForPort(this.port, 30_000);
  }

  /** Stops the server (SIGTERM, then SIGKILL after 10 s). */
  async down(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = once(p, 'exit');
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  }

  /** Stop, then start again on the same port and database; returns how long it was gone. */
  async restart(): Promise<number> {
    const t0 = Date.now();
    await this.down();
    await this.up();
    return Date.now() - t0;
  }

  async close(): Promise<void> {
    await this.connection?.close().catch(() => undefined);
    await this.down();
  }
}
