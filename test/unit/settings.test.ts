import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadTls, resolveTemporalSettings, webUiBase, workflowUiUrl } from '../../src/temporal/settings';

describe('Temporal connection settings', () => {
  test('defaults point at the local dev server', () => {
    assert.deepEqual(resolveTemporalSettings({}, {}), {
      address: 'localhost:7233',
      namespace: 'default',
      taskQueue: 'alcaide',
      tls: undefined,
      apiKey: undefined,
    });
  });

  test('deploy.yml, then environment variables (the Temporal CLI names) override', () => {
    const cfg = { address: 'temporal.internal:7233', namespace: 'ops', task_queue: 'deploys' };
    assert.equal(resolveTemporalSettings(cfg, {}).address, 'temporal.internal:7233');
    const s = resolveTemporalSettings(cfg, { TEMPORAL_ADDRESS: 'other:7233', TEMPORAL_NAMESPACE: 'x', ALCAIDE_TASK_QUEUE: 'q' });
    assert.equal(s.address, 'other:7233');
    assert.equal(s.namespace, 'x');
    assert.equal(s.taskQueue, 'q');
  });

  test('Temporal Cloud: an API key turns TLS on', () => {
    const s = resolveTemporalSettings({}, { TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_API_KEY: 'k' });
    assert.equal(s.apiKey, 'k');
    assert.ok(s.tls);
    assert.equal(webUiBase(s, {}), 'https://cloud.temporal.io');
  });

  test('mTLS needs both certificate and key; unreadable files are a clear error', () => {
    assert.throws(() => resolveTemporalSettings({}, { TEMPORAL_TLS_CLIENT_CERT_PATH: '/c.pem' }), /a TLS client certificate and key must be given together/);
    const s = resolveTemporalSettings({ tls: { client_cert: '/nonexistent/c.pem', client_key: '/nonexistent/k.pem' } }, {});
    assert.throws(() => loadTls(s), /cannot read the Temporal TLS client certificate \/nonexistent\/c\.pem: ENOENT/);
  });

  test('the Web UI link of a workflow on the dev server', () => {
    const s = resolveTemporalSettings({ address: '127.0.0.1:7233' }, {});
    assert.equal(workflowUiUrl(s, 'deploy-my_app', 'r1'), 'http://127.0.0.1:8233/namespaces/default/workflows/deploy-my_app/r1/history');
    assert.equal(workflowUiUrl(resolveTemporalSettings({ address: 'temporal.internal:7233' }, {}), 'x'), undefined);
  });
});
