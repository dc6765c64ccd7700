// The Temporal Web UI in a real browser (Debian's chromium driven by playwright-core, never a
// downloaded browser): the dev server's own UI, wired to the real `alcaide codec-server`, on
// loopback. Deploys run with recording fake activities; what is tested is that an operator
// can read and act on them in the UI. Screenshots go to test-artifacts/browser/.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { WorkflowStatus } from '../../workflows/status';
import { deploy, fakes, startDeploy, TARGET, waitForStatus, withFakeWorker, type Mode } from '../helpers/deployFakes';
import { CLI, REPO_ROOT } from '../helpers/paths';
import { startTestEnv, TEST_CODEC_MATERIAL } from '../helpers/temporal';
import { within } from '../helpers/within';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts', 'browser');

async function freePort(): Promise<number> {
  const srv = net.createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as net.AddressInfo).port;
  srv.close();
  return port;
}

let env: TestWorkflowEnvironment;
let browser: Browser;
let codec: ChildProcess;
let ui: string;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const [uiPort, codecPort] = [await freePort(), await freePort()];
  ui = `http://127.0.0.1:${uiPort}`;
  codec = spawn(process.execPath, [CLI, 'codec-server', '--port', String(codecPort), '--origin', ui, `http://localhost:${uiPort}`], {
    cwd: ARTIFACTS,
    env: { ...process.env, ALCAIDE_CODEC_KEY: TEST_CODEC_MATERIAL, ALCAIDE_MASTER_KEY: '', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  codec.stdout!.on('data', (d) => (out += d));
  for (let i = 0; i < 100 && !out.includes('codec server on'); i++) await new Promise((r) => setTimeout(r, 100));
  assert.match(out, /codec server on http:\/\/127\.0\.0\.1:\d+/, 'the codec server started');
  [env, browser] = await Promise.all([
    startTestEnv({ ui: { port: uiPort, codecEndpoint: `http://127.0.0.1:${codecPort}` } }),
    chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    }),
  ]);
});

after(async () => {
  await browser?.close();
  await env?.teardown();
  codec?.kill('SIGTERM');
});

async function open(url: string, shot: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(url);
  await page.getByText('Workflow Type').first().waitFor({ timeout: 30_000 });
  await page.screenshot({ path: path.join(ARTIFACTS, `${shot}.png`), fullPage: true });
  return page;
}

/** Rendered text (code viewers split lines into many elements, so match on the page's text). */
async function waitForText(page: Page, text: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await page.innerText('body')).includes(text)) {
    if (Date.now() > end) throw new Error(`the page never showed ${JSON.stringify(text)}`);
    await page.waitForTimeout(250);
  }
}

const historyUrl = (id: string, runId: string) => `${ui}/namespaces/default/workflows/${encodeURIComponent(id)}/${runId}/history`;

describe('the Temporal Web UI', () => {
  test('a finished deploy: every step appears by name, and the input is shown decoded, not as an encrypted blob', async () => {
    const { acts } = fakes({}, 'blue');
    const { status, workflowId } = await deploy(env, acts);
    assert.equal(status?.state, 'completed');
    const runId = (await env.client.workflow.getHandle(workflowId).describe()).runId;
    const page = await open(historyUrl(workflowId, runId), 'finished-deploy');
    // a deploy's history is over 100 events, the UI's first page: show them all on one
    const perPage = page.locator('select').filter({ has: page.locator('option', { hasText: /^100$/ }) });
    const sizes = (await perPage.locator('option').allTextContents()).map(Number).filter(Number.isFinite);
    await perPage.selectOption(String(Math.max(...sizes)));
    for (const name of [
      'ensureBuildJail',
      'uploadSource',
      'buildRelease',
      'chooseSlot',
      'createSlotJail',
      'installRelease',
      'writeAppEnv',
      'startApp',
      'runMigrations',
      'checkHealth',
      'switchTraffic',
      'verifyThroughCaddy',
      'drainSlot',
      'stopSlot',
      'recordDeploy',
    ]) {
      await page.getByText(name, { exact: true }).first().waitFor({ timeout: 15_000 });
    }
    // the input panel, decoded by the codec server
    await page.getByText('"192.0.2.1"').first().waitFor({ timeout: 15_000 });
    const body = await page.innerText('body');
    assert.ok(body.includes('"app": "my_app"'), 'the decoded workflow input is readable');
    assert.ok(!body.includes('binary/encrypted'), 'no encrypted blob is shown');
    await page.screenshot({ path: path.join(ARTIFACTS, 'finished-deploy-decoded.png'), fullPage: true });
    await page.close();
  });

  test('a held deploy shows the failed step and its error; the UI\'s own "Send a Signal" form sends retry and the deploy completes', async () => {
    const mode: Mode = { fail: 'runMigrations' };
    const { calls, acts } = fakes(mode, 'blue');
    await withFakeWorker(env, acts, async (taskQueue) => {
      const id = `alcaide-ui-${taskQueue}`;
      const handle = await startDeploy(env, taskQueue, id, { ...TARGET, onFailure: 'hold' });
      await waitForStatus(handle, (s) => s.state === 'held');
      const runId = (await handle.describe()).runId;
      const page = await open(historyUrl(id, runId), 'held-deploy');
      // the failed activity, by name, with its decoded error
      await page.getByText('Activity Task Failed').first().click({ timeout: 15_000 });
      await waitForText(page, 'injected failure in runMigrations');
      const details = await page.innerText('body');
      assert.match(details, /"message": "injected failure in runMigrations"/, 'the decoded error of the failed step');
      assert.match(details, /Activity Type\s+runMigrations/, 'the failed step by name');
      await page.getByText('injected failure in runMigrations').first().scrollIntoViewIfNeeded();
      await page.screenshot({ path: path.join(ARTIFACTS, 'held-deploy-error.png'), fullPage: true });

      // the operator fixes the cause, then retries from the UI
      mode.fail = undefined;
      await page.reload();
      await page.getByText('Workflow Type').first().waitFor({ timeout: 30_000 });
      const item = page.getByRole('menuitem', { name: 'Send a Signal' }).first();
      // the page hydrates after it renders: open the menu until it answers
      for (let i = 0; i < 20 && !(await item.isVisible()); i++) {
        await page.getByRole('button', { name: 'More Actions' }).click();
        await page.waitForTimeout(500);
      }
      await item.click();
      // the UI lists the workflow's own signals (from its metadata query), with their descriptions
      await page.getByRole('button', { name: 'Select a signal' }).click();
      const option = page.getByRole('option').filter({ hasText: 'runs the failed step again' });
      await option.waitFor({ timeout: 15_000 });
      assert.match((await option.innerText()).trim(), /^retry\s/, 'the retry signal, with its description');
      await option.click();
      await page.screenshot({ path: path.join(ARTIFACTS, 'send-retry-signal.png') });
      await page.getByRole('button', { name: 'Submit' }).click();
      const result = (await within(60_000, 'the deploy retried from the UI', handle.result())) as WorkflowStatus;
      assert.equal(result.state, 'completed');
      assert.equal(calls.filter((c) => c.startsWith('runMigrations')).length, 2, 'the failed step ran again, once');
      assert.equal(calls.filter((c) => c.startsWith('buildRelease')).length, 1, 'finished steps were not repeated');
      const history = await handle.fetchHistory();
      // nothing but the browser sent a signal in this test
      assert.equal(
        history.events?.filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'retry').length,
        1,
        'one retry signal, from the UI',
      );
      await page.reload();
      await page.getByText('COMPLETED').first().waitFor({ timeout: 15_000 });
      await page.screenshot({ path: path.join(ARTIFACTS, 'held-deploy-completed.png'), fullPage: true });
      await page.close();
    });
  });
});
