// `npm run test:fast`: the tests to run after every change, in under a minute (docs/testing.md).
// Pure builders (run by a real /bin/sh where they make scripts), config, the step tables,
// workflows with recording fake activities and the golden-history replay, all on ONE Temporal
// dev server started here (test/helpers/devServer.ts; the tests reuse it through
// TEMPORAL_TEST_ADDRESS) instead of one per file. `npm test` (CI) still runs everything.
// FAST_CONCURRENCY sets how many files run side by side (default 4: they mostly wait on the server).
const { spawn } = require('node:child_process');
const { once } = require('node:events');
const { existsSync, mkdtempSync, rmSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const DIST_TEST = path.join(__dirname, '..', 'dist', 'test');

// by file, so a new test file joins the tier by being named here
const FAST = [
  // builders, config, host scripts under a real /bin/sh, rendering of status and history
  'unit/appuser', 'unit/buildjail', 'unit/caddy', 'unit/claims', 'unit/codec', 'unit/config', 'unit/exposure',
  'unit/failure-summary', 'unit/freebsd', 'unit/history-status', 'unit/injection', 'unit/logs', 'unit/remove',
  'unit/schedules', 'unit/script', 'unit/settings', 'unit/slot-choice', 'unit/stall', 'unit/takeover', 'unit/upload',
  // workflows with recording fake activities; golden histories; the upgrade from the previous release
  'workflow/deploy', 'workflow/operator', 'workflow/rebuild', 'workflow/remove', 'workflow/setup', 'workflow/golden', 'workflow/upgrade',
].map((f) => path.join(DIST_TEST, `${f}.test.js`));

async function main() {
  const missing = FAST.filter((f) => !existsSync(f));
  if (missing.length) throw new Error(`not built (npm run build): ${missing.map((f) => path.relative(DIST_TEST, f)).join(', ')}`);
  const { PersistentDevServer } = require(path.join(DIST_TEST, 'helpers', 'devServer.js'));
  const { TEST_CODEC_KEY } = require(path.join(DIST_TEST, 'helpers', 'temporal.js'));
  const t0 = Date.now();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'alcaide-fast-'));
  const server = await PersistentDevServer.start(path.join(dir, 'temporal.db'), [TEST_CODEC_KEY]);
  let code = 1;
  try {
    const concurrency = process.env.FAST_CONCURRENCY ?? '4';
    const child = spawn(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--test-timeout=120000', '--test-force-exit', ...FAST], {
      stdio: 'inherit',
      env: { ...process.env, TEMPORAL_TEST_ADDRESS: server.address },
    });
    const [exit] = await once(child, 'exit');
    code = exit ?? 1;
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`fast tier: ${FAST.length} files in ${((Date.now() - t0) / 1000).toFixed(1)} s (dev server included, build not)`);
  process.exit(code);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
