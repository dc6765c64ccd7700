// Golden histories: deploy histories recorded by an earlier build of the workflows and kept in
// the repository (test/fixtures/histories/). Each must replay through the current workflow
// bundle: a change that would break deploys in flight during an upgrade (a step added, removed
// or reordered without a patch) fails here, where replaying a history recorded seconds earlier
// by the same code cannot. Re-record only on purpose, when such a change is meant and guarded:
//   RECORD_HISTORIES=1 node --test dist/test/workflow/golden.test.js
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { dataConverterFor } from '../../src/temporal/codec';
import { WORKFLOW_BUNDLE } from '../../src/temporal/worker';
import { deploy, fakes, STEP_ACTIVITIES, UNDO } from '../helpers/deployFakes';
import { REPO_ROOT } from '../helpers/paths';
import { startTestEnv, TEST_CODEC_KEY } from '../helpers/temporal';

const DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'histories');
const RECORD = process.env.RECORD_HISTORIES === '1';

/** What each golden history is: together they take every step and every undo. */
const RECORDINGS = {
  'deploy-first': () => fakes({}),
  'deploy-to-green': () => fakes({}, 'blue'),
  'deploy-health-fails': () => fakes({ fail: 'checkHealth' }, 'blue'),
  'deploy-verify-fails': () => fakes({ fail: 'verifyThroughCaddy' }, 'blue'),
};

let env: TestWorkflowEnvironment | undefined;
before(async () => {
  if (RECORD) env = await startTestEnv();
});
after(async () => env?.teardown());

// protobufjs' own object form (longs and enums as strings, bytes as base64) round-trips exactly
const { History } = temporal.api.history.v1;
const toJson = (h: object) => `${JSON.stringify(History.toObject(History.fromObject(h), { longs: String, enums: String, bytes: String }), null, 1)}\n`;
const replay = (name: string, json: string) =>
  Worker.runReplayHistory({ workflowBundle: { codePath: WORKFLOW_BUNDLE }, dataConverter: dataConverterFor(TEST_CODEC_KEY) }, History.fromObject(JSON.parse(json)), name);

const goldens = () => readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

// defined only when recording, so an ordinary run has no skipped test
if (RECORD)
  test('record the golden histories (RECORD_HISTORIES=1)', async () => {
    for (const [name, make] of Object.entries(RECORDINGS)) {
      const { workflowId } = await deploy(env!, make().acts);
      writeFileSync(path.join(DIR, `${name}.json`), toJson(await env!.client.workflow.getHandle(workflowId).fetchHistory()));
    }
  });

test('every golden history replays through the current workflow code', async () => {
  assert.deepEqual(goldens(), Object.keys(RECORDINGS).map((n) => `${n}.json`).sort());
  for (const f of goldens()) await replay(f, readFileSync(path.join(DIR, f), 'utf8'));
});

test('together the goldens schedule every step and every undo', () => {
  const scheduled = new Set(goldens().flatMap((f) => [...readFileSync(path.join(DIR, f), 'utf8').matchAll(/"activityType":\s*\{\s*"name":\s*"(\w+)"/g)].map((m) => m[1])));
  assert.deepEqual([...STEP_ACTIVITIES, ...UNDO].filter((a) => !scheduled.has(a)), []);
});

test('a history the code would not produce fails the replay (the check is real)', async () => {
  // the recorded first deploy with two of its steps swapped, as a reordering would leave it
  const json = readFileSync(path.join(DIR, 'deploy-first.json'), 'utf8').replace(/"installRelease"/g, '"@tmp"').replace(/"writeAppEnv"/g, '"installRelease"').replace(/"@tmp"/g, '"writeAppEnv"');
  await assert.rejects(replay('swapped', json), (e: Error) => /nondetermin/i.test(`${e.name} ${e.message}`));
});
