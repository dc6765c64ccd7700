// `npm run test:fast`: the tests to run after every change, in about a minute and a half (docs/testing.md).
// Pure builders (run by a real /bin/sh where they make scripts), config, the step tables,
// workflows with recording fake activities and the golden-history replay, all on ONE Temporal
// dev server started here (test/helpers/devServer.ts; the tests reuse it through
// TEMPORAL_TEST_ADDRESS) instead of one per file. `npm test` (CI) still runs everything.
// FAST_CONCURRENCY sets how many files run side by side (default 4: they mostly wait on the server).
const { spawn } = require('node:child_process');
const { once } = require('node:events');
const { existsSync } = require('node:fs');
const path = require('node:path');

const DIST_TEST = path.join(__dirname, '..', 'dist', 'test');

// by file, so a new test file joins the tier by being named here; the longest first, so that
// they never start last and leave the other slots idle
const FAST = [
  // workflows with recording fake activities; golden histories; the upgrade from the previous release
  'workflow/deploy',
  'workflow/operator',
  'workflow/setup',
  'workflow/rebuild',
  'workflow/upgrade',
  'workflow/golden',
  'workflow/remove',
  'workflow/rollback',
  'workflow/fleet-setup',
  'workflow/fleet-deploy',
  'workflow/releases',
  'workflow/hooks',
  'workflow/gates',
  // (not workflow/status-new-run: it times a worker's start, which main-thread workflows slow down)
  // builders, config, host scripts under a real /bin/sh, rendering of status and history
  'unit/config',
  'unit/config-docs',
  'unit/secret-adapters',
  'unit/fleet',
  'unit/bench-timeline',
  'unit/aliases',
  'unit/overview',
  'unit/releases',
  'unit/roles',
  'unit/injection',
  'unit/buildjail',
  'unit/remove',
  'unit/stall',
  'unit/failure-summary',
  'unit/appuser',
  'unit/script',
  'unit/takeover',
  'unit/schedules',
  'unit/codec',
  'unit/exposure',
  'unit/history-status',
  'unit/caddy',
  'unit/canary',
  'unit/claims',
  'unit/freebsd',
  'unit/settings',
  'unit/slot-choice',
  'unit/upload',
  'unit/logs',
  'unit/hooks',
  'unit/gates',
  // one source for every step, failure and host path; the layers' import directions
  'unit/step-tables',
  'unit/failures',
  'unit/layers',
  'unit/activities-registered',
].map((f) => path.join(DIST_TEST, `${f}.test.js`));

async function main() {
  const missing = FAST.filter((f) => !existsSync(f));
  if (missing.length) throw new Error(`not built (npm run build): ${missing.map((f) => path.relative(DIST_TEST, f)).join(', ')}`);
  const { PersistentDevServer } = require(path.join(DIST_TEST, 'helpers', 'devServer.js'));
  const { TEST_CODEC_KEY } = require(path.join(DIST_TEST, 'helpers', 'temporal.js'));
  const t0 = Date.now();
  // history in memory: nothing here restarts the server, and SQLite's syncs cost seconds
  const server = await PersistentDevServer.start(undefined, [TEST_CODEC_KEY]);
  let code = 1;
  try {
    const concurrency = process.env.FAST_CONCURRENCY ?? '4';
    // a file's limit, not a test's: fleet-deploy alone takes ~70 s, and four files share 2 cores
    const child = spawn(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--test-timeout=240000', '--test-force-exit', ...FAST], {
      stdio: 'inherit',
      // TEMPORAL_DEBUG: workers run workflows on the main thread, not a worker thread of their
      // own (the SDK's debug mode, without the deadlock timer): one starts with about 25 ms of
      // CPU instead of 250 ms, and the workflow tests start ~100; `npm test` runs them in worker
      // threads, as the product does
      env: { ...process.env, TEMPORAL_TEST_ADDRESS: server.address, TEMPORAL_DEBUG: '1' },
    });
    const [exit] = await once(child, 'exit');
    code = exit ?? 1;
  } finally {
    await server.close();
  }
  console.log(`fast tier: ${FAST.length} files in ${((Date.now() - t0) / 1000).toFixed(1)} s (dev server included, build not)`);
  process.exit(code);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
