// End to end: releases kept and pruned on a simulated FreeBSD host. Five versions deployed with
// `retain: 3` leave three artifacts and sources (the live and the kept slot's among them);
// `alcaide releases` lists them; `rollback --to` the oldest kept one serves it without an upload
// or a build; `--to` a version the host no longer keeps is exit 2 with nothing changed.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isMutating, readCommandLog, readInvocations, type SimHost } from '../simhost/index';
import { E2eProject, ok } from '../helpers/e2eProject';
import { ARTIFACTS_DIR, SOURCES_DIR } from '../../src/freebsd/layout';
import type { HostReleases } from '../../src/host/releases';

let p: E2eProject;
let host: SimHost;
/** the commit of each version, oldest first */
const versions: string[] = [];

const BUILD_ROOT = '/usr/local/jails/hello_build';
const filesIn = (dir: string) => readdirSync(path.join(host.root, BUILD_ROOT, dir)).sort();
const artifactOf = (sha: string) => `hello-${sha}.tar.gz`;

async function served(): Promise<string> {
  const res = await fetch(`http://${host.host}/`, { signal: AbortSignal.timeout(10_000) });
  return res.text();
}

/** Commands sent since `from` that build a release or upload a source. */
const buildsAndUploads = (from: number) =>
  readCommandLog(host)
    .slice(from)
    .filter((e) => /mix do .*\+ release \$release /.test(e.cmd ?? '') || (/sha256/.test(e.cmd ?? '') && /\.tar\.part/.test(e.cmd ?? '')));

before(async () => {
  p = await E2eProject.start({ prefix: 'alcaide-releases-', queue: 'releases', config: { retain: 3 } });
  host = p.host;
});

after(async () => {
  await p?.stop();
});

describe('releases kept and pruned', () => {
  test('five deploys with retain 3: three artifacts and sources stay, the live and the kept slot among them', async () => {
    ok(await p.cli(['setup']));
    versions.push(p.head());
    ok(await p.cli(['deploy']));
    for (const v of ['1.1.0', '1.2.0', '1.3.0', '1.4.0']) {
      versions.push(p.commitVersion(v));
      const r = await p.cli(['deploy']);
      ok(r);
    }
    assert.equal(await served(), 'hello v1.4.0 slot=blue');
    const kept = versions.slice(2);
    assert.deepEqual(filesIn(ARTIFACTS_DIR), kept.map(artifactOf).sort());
    assert.deepEqual(filesIn(SOURCES_DIR), kept.map((v) => `${v}.tar`).sort());
  });

  test('`alcaide releases` lists each kept release with its size, when it was built and where it is', async () => {
    const r = await p.cli(['releases']);
    ok(r);
    const [, head, ...rows] = r.stdout.trim().split('\n');
    assert.match(head!, /VERSION +REF +SIZE +BUILT +LAST DEPLOYED +WHERE/);
    assert.deepEqual(
      rows.map((l) => l.trim().split(/\s+/)[0]),
      [versions[4], versions[3], versions[2]].map((v) => v!.slice(0, 12)),
    );
    assert.match(rows[0]!, /MiB .* live \(blue\)$/);
    assert.match(rows[1]!, /kept slot \(green\)$/);
    assert.match(rows[2]!, /artifact$/);
    const json = JSON.parse((await p.cli(['releases', '--json'])).stdout) as HostReleases[];
    assert.equal(json[0]!.host, host.host);
    assert.equal(json[0]!.live, 'blue');
    assert.deepEqual(
      json[0]!.releases.map((x) => x.version),
      [versions[4], versions[3], versions[2]],
    );
  });

  test('rollback --to the oldest kept release serves it from its kept artifact: no upload, no build', async () => {
    const from = readCommandLog(host).length;
    const r = await p.cli(['rollback', '--to', versions[2]!.slice(0, 8)]);
    ok(r);
    assert.match(r.stdout, /✓ hello [0-9a-f]{12} live on green \(blue stopped, kept for rollback\)/);
    assert.equal(await served(), 'hello v1.2.0 slot=green');
    assert.deepEqual(buildsAndUploads(from), [], 'nothing built or uploaded');
    // made recent again: it is the one `releases` lists first, and the prune removed nothing
    assert.deepEqual(filesIn(ARTIFACTS_DIR), versions.slice(2).map(artifactOf).sort());
    const json = JSON.parse((await p.cli(['releases', '--json'])).stdout) as HostReleases[];
    assert.equal(json[0]!.releases[0]!.version, versions[2]);
  });

  test('rollback --to a version the host no longer keeps: exit 2, what is kept listed, nothing changed', async () => {
    const ran = readInvocations(host).length;
    const r = await p.cli(['rollback', '--to', versions[0]!.slice(0, 8)]);
    assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, new RegExp(`release ${versions[0]!.slice(0, 12)} is not kept on ${host.host.replace(/\./g, '\\.')}`));
    assert.ok(r.stderr.includes(versions[2]!.slice(0, 12)), r.stderr);
    assert.deepEqual(
      readInvocations(host)
        .slice(ran)
        .filter((e) => isMutating(e.argv)),
      [],
    );
    assert.equal(await served(), 'hello v1.2.0 slot=green');
  });
});
