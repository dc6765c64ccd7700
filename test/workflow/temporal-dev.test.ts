// temporal-dev.sh as a user runs it: start, idempotent start, status, UI, stop, and a
// completed workflow's history still there after a restart (SQLite persistence).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { SQLITE_PRAGMAS } from '../../src/temporal/devServer';
import { runCliAsync, tempProject } from '../helpers/cli';
import { REPO_ROOT } from '../helpers/paths';
import { temporalBinary } from '../helpers/temporal';

const project = tempProject();
const freePort = () =>
  new Promise<number>((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });

let env: NodeJS.ProcessEnv = {};
const script = (arg?: string) => {
  const r = spawnSync(path.join(REPO_ROOT, 'temporal-dev.sh'), arg ? [arg] : [], {
    cwd: project.dir,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout + r.stderr };
};

after(() => {
  script('--stop');
  project.cleanup();
});

test('temporal-dev.sh starts, is idempotent, keeps history across a restart, and stops', async () => {
  const port = await freePort();
  const uiPort = await freePort();
  env = {
    TEMPORAL_PORT: String(port),
    TEMPORAL_UI_PORT: String(uiPort),
    ALCAIDE_TEMPORAL_BIN: temporalBinary(),
    ALCAIDE_STATE_DIR: path.join(project.dir, '.alcaide'),
    ALCAIDE_UI_CODEC_ENDPOINT: undefined,
  };

  const start = script();
  assert.equal(start.code, 0, start.out);
  assert.match(start.out, new RegExp(`Temporal dev server started \\(pid \\d+\\): gRPC 127\\.0\\.0\\.1:${port}, Web UI http://127\\.0\\.0\\.1:${uiPort}`));
  const again = script();
  assert.equal(again.code, 0);
  assert.match(again.out, /already running/);
  assert.equal(script('--status').code, 0);
  const pid = Number(readFileSync(path.join(project.dir, '.alcaide', 'temporal.pid'), 'utf8'));
  // the history's SQLite keeps a write-ahead log, as the tests' servers do (one list, two languages)
  const pragmas = /^SQLITE_PRAGMAS=\((.*)\)$/m.exec(readFileSync(path.join(REPO_ROOT, 'temporal-dev.sh'), 'utf8'))?.[1];
  assert.deepEqual(pragmas?.split(' '), [...SQLITE_PRAGMAS]);
  assert.ok(existsSync(path.join(project.dir, '.alcaide', 'temporal.db-wal')), 'temporal.db-wal beside the history');

  const ui = await fetch(`http://127.0.0.1:${uiPort}/`);
  assert.equal(ui.status, 200, 'the Web UI answers');
  // the UI decodes payloads through `alcaide codec-server` (its default address)
  const uiSettings = (await (await fetch(`http://127.0.0.1:${uiPort}/api/v1/settings`)).json()) as { Codec?: { Endpoint?: string } };
  assert.equal(uiSettings.Codec?.Endpoint, 'http://127.0.0.1:8234');

  // A real workflow through the CLI, completed before the restart.
  writeFileSync(path.join(project.dir, 'deploy.yml'), 'app: my_app\nserver:\n  host: 203.0.113.10\n');
  const doctor = await runCliAsync(['doctor'], { cwd: project.dir, env: { TEMPORAL_ADDRESS: `127.0.0.1:${port}` } });
  assert.equal(doctor.code, 0, doctor.stdout + doctor.stderr);
  const workflowId = /workflows\/(alcaide-doctor-[^/]+)\/history/.exec(doctor.stdout)?.[1];
  assert.ok(workflowId, doctor.stdout);

  const stop = script('--stop');
  assert.equal(stop.code, 0);
  assert.match(stop.out, /stopped \(history kept in/);
  assert.throws(() => process.kill(pid, 0), 'the server process is gone');
  const status = script('--status');
  assert.equal(status.code, 3);
  assert.match(status.out, /not running/);

  assert.equal(script().code, 0);
  const connection = await Connection.connect({ address: `127.0.0.1:${port}` });
  try {
    const desc = await new Client({ connection }).workflow.getHandle(workflowId).describe();
    assert.equal(desc.status.name, 'COMPLETED', 'history survived the restart');
  } finally {
    await connection.close();
  }
  assert.equal(script('--stop').code, 0);
});

test('temporal-dev.sh refuses a port another process holds, and rejects unknown flags', async () => {
  const holder = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => holder.once('listening', r));
  const port = (holder.address() as net.AddressInfo).port;
  env = {
    TEMPORAL_PORT: String(port),
    TEMPORAL_UI_PORT: String(await freePort()),
    ALCAIDE_TEMPORAL_BIN: temporalBinary(),
    ALCAIDE_STATE_DIR: path.join(project.dir, 'busy'),
  };
  const r = script();
  holder.close();
  assert.equal(r.code, 1);
  assert.match(r.out, new RegExp(`port 127\\.0\\.0\\.1:${port} is already in use by another process; set TEMPORAL_PORT`));
  assert.equal(script('--bogus').code, 2);
  env = { ...env, ALCAIDE_TEMPORAL_BIN: '/nonexistent/temporal' };
  const nobin = script();
  assert.equal(nobin.code, 1);
  assert.match(nobin.out, /ALCAIDE_TEMPORAL_BIN=\/nonexistent\/temporal is not an executable file/);
});
