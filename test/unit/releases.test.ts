// The releases a host keeps: the listing and the prune run by a real /bin/sh on a build jail's
// directories in a temp dir (stat(1) as FreeBSD's, the simulated host's stand-in), foreign and
// hostile names among them; the ranking by use (a rollback makes a release recent again); the
// kept release's check; the worker's relay copies; which release `rollback --to` names.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, describe, test } from 'node:test';
import { pruneRelay, relayDirOf } from '../../activities/relay';
import { ARTIFACTS_DIR, appDir, SOURCES_DIR } from '../../src/freebsd/layout';
import { VERSION_MARKER } from '../../src/freebsd/app';
import {
  checkArtifact,
  keptReleases,
  listReleases,
  NO_ARTIFACT_EXIT,
  parseReleases,
  releasesToPrune,
  removeReleases,
  type ReleaseListing,
} from '../../src/freebsd/releases';
import { script } from '../../src/freebsd/sh';
import { chooseKept } from '../../src/cli/releasesView';
import type { HostReleases } from '../../src/host/releases';
import { UserError } from '../../src/errors';
import { runCli, tempProject } from '../helpers/cli';
import { REPO_ROOT } from '../helpers/paths';

const dir = mkdtempSync(path.join(os.tmpdir(), 'alcaide-releases-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** FreeBSD's stat(1) (the simulated host's stand-in) ahead of Linux's on PATH. */
const bin = path.join(dir, 'bin');
mkdirSync(bin);
writeFileSync(path.join(bin, 'stat'), `#!/bin/sh\nexec python3 ${path.join(REPO_ROOT, 'test', 'simhost', 'bin', 'stat')} "$@"\n`, { mode: 0o755 });
/** In `dir`: a name that ran as a command would leave a file there. */
const run = (cmd: string) => spawnSync('/bin/sh', ['-c', cmd], { cwd: dir, encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin` } });

const v = (n: number) => n.toString(16).padStart(2, '0').repeat(20);
const APP = 'my_app';
const T0 = 1_750_000_000;

/** A build jail root and two slot roots under `dir/name`, with releases 1..count built a minute apart (1 the oldest). */
function host(name: string, count: number, slots: { blue?: string; green?: string } = {}) {
  const root = path.join(dir, name);
  const build = path.join(root, 'build');
  const artifacts = path.join(build, ARTIFACTS_DIR);
  const sources = path.join(build, SOURCES_DIR);
  mkdirSync(artifacts, { recursive: true });
  mkdirSync(sources, { recursive: true });
  for (let i = 1; i <= count; i++) {
    for (const f of [path.join(artifacts, `${APP}-${v(i)}.tar.gz`), path.join(sources, `${v(i)}.tar`)]) {
      writeFileSync(f, 'x'.repeat(i * 10));
      utimesSync(f, T0 + i * 60, T0 + i * 60);
    }
  }
  for (const [slot, version] of Object.entries(slots)) {
    mkdirSync(path.join(root, slot, appDir(APP)), { recursive: true });
    writeFileSync(path.join(root, slot, appDir(APP), VERSION_MARKER), `${version}\n`);
  }
  const slotRoot = (s: string) => path.join(root, s);
  const listed = () => run(listReleases(APP, build, slotRoot)).stdout;
  return { root, build, artifacts, sources, listed, list: () => parseReleases(listed()) };
}

describe('the listing', () => {
  test("reads each artifact and source with its size and mtime, each slot's version; foreign and hostile names are not ours", () => {
    const h = host('listing', 2, { blue: v(2), green: v(1) });
    const foreign = [
      `other_app-${v(9)}.tar.gz`,
      `${APP}-${v(9)}.tar.gz.bak`,
      `${APP}-${v(0xab).toUpperCase()}.tar.gz`,
      `${APP}-${v(9).slice(1)}.tar.gz`,
      `${APP}-$(touch pwned).tar.gz`,
      `${APP}-'; touch pwned2; '.tar.gz`,
      `${APP}-\n${v(9)}.tar.gz`,
      'notes.txt',
    ];
    for (const f of foreign) writeFileSync(path.join(h.artifacts, f), 'not ours');
    writeFileSync(path.join(h.sources, `${v(9)}.tar.part`), 'partial');
    mkdirSync(path.join(h.artifacts, `${APP}-${v(8)}.tar.gz`)); // a directory
    symlinkSync('/etc/passwd', path.join(h.artifacts, `${APP}-${v(7)}.tar.gz`));
    // the script itself names only ours (the parser checks again)
    assert.deepEqual(
      h
        .listed()
        .split('\n')
        .filter((line) => /^(artifact|source) /.test(line))
        .map((line) => line.split(' ').slice(0, 2).join(' '))
        .sort(),
      [`artifact ${v(1)}`, `artifact ${v(2)}`, `source ${v(1)}`, `source ${v(2)}`],
    );
    const l = h.list();
    assert.deepEqual(l.artifacts, { [v(1)]: { size: 10, mtimeMs: (T0 + 60) * 1000 }, [v(2)]: { size: 20, mtimeMs: (T0 + 120) * 1000 } });
    assert.deepEqual(Object.keys(l.sources).sort(), [v(1), v(2)]);
    assert.deepEqual(l.slots, { blue: v(2), green: v(1) });
    assert.ok(!existsSync(path.join(dir, 'pwned')) && !existsSync(path.join(dir, 'pwned2')), 'no name is run as a command');
  });

  test('an empty build jail lists nothing and the script succeeds', () => {
    const h = host('empty', 0);
    const r = run(listReleases(APP, h.build, (s) => path.join(h.root, s)));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(parseReleases(r.stdout), { artifacts: {}, sources: {}, slots: {}, deploys: [] });
  });
});

describe('the prune', () => {
  const prune = (h: ReturnType<typeof host>, retain: number, protect: string[]) => {
    const gone = releasesToPrune(h.list(), retain, protect);
    const r = run(script(removeReleases(APP, h.build, gone)));
    assert.equal(r.status, 0, r.stderr);
    return { gone, stdout: r.stdout };
  };
  const left = (d: string) => readdirSync(d).sort();

  test('keeps the N most recent releases, the current one and both slots’, removes the rest with their partial uploads; foreign files stay', () => {
    // 7 built; blue (live) holds 6, green (kept) holds 2: an old release rolled back to once
    const h = host('prune', 7, { blue: v(6), green: v(2) });
    writeFileSync(path.join(h.artifacts, `${APP}-${v(1)}.tar.gz.part`), 'partial');
    writeFileSync(path.join(h.artifacts, `other_app-${v(1)}.tar.gz`), 'another app');
    writeFileSync(path.join(h.artifacts, `${APP}-$(reboot).tar.gz`), 'hostile');
    const { gone, stdout } = prune(h, 3, [v(7)]);
    assert.deepEqual(gone.sort(), [v(1), v(3), v(4)]);
    assert.match(stdout, new RegExp(`\\+ removed ${v(1).slice(0, 12)}`));
    assert.deepEqual(left(h.artifacts), [`${APP}-$(reboot).tar.gz`, ...[2, 5, 6, 7].map((i) => `${APP}-${v(i)}.tar.gz`), `other_app-${v(1)}.tar.gz`].sort());
    assert.deepEqual(
      left(h.sources),
      [2, 5, 6, 7].map((i) => `${v(i)}.tar`),
    );
  });

  test('the version being deployed stays even when it is not among the newest (a rollback --to an old one)', () => {
    const h = host('current', 5, { blue: v(5) });
    const { gone } = prune(h, 2, [v(1)]);
    assert.deepEqual(gone.sort(), [v(2), v(3)]);
    assert.ok(existsSync(path.join(h.artifacts, `${APP}-${v(1)}.tar.gz`)));
  });

  test('nothing beyond N: nothing removed, nothing printed', () => {
    const h = host('few', 3, { blue: v(3), green: v(2) });
    assert.deepEqual(prune(h, 5, [v(3)]), { gone: [], stdout: '' });
    assert.equal(left(h.artifacts).length, 3);
  });

  test('a name that is not a version is refused before any script is made', () => {
    assert.throws(() => removeReleases(APP, '/j', ['../../etc']), /not a version/);
    assert.throws(() => removeReleases(APP, '/j', [`${v(1)} /`]), /not a version/);
  });
});

describe('the ranking', () => {
  const listing = (deploys: ReleaseListing['deploys']): ReleaseListing => ({
    artifacts: Object.fromEntries([1, 2, 3, 4].map((i) => [v(i), { size: 1, mtimeMs: i * 60_000 }])),
    sources: {},
    slots: {},
    deploys,
  });

  test('a release deployed again (a rollback --to it) is recent again, whatever its mtime', () => {
    const l = listing([{ at: new Date(10 * 60_000).toISOString(), slot: 'blue', version: v(1), ref: 'v1.0' }]);
    assert.deepEqual(
      keptReleases(l).map((r) => r.version),
      [v(1), v(4), v(3), v(2)],
    );
    assert.deepEqual(releasesToPrune(l, 2, []), [v(3), v(2)]);
    assert.equal(keptReleases(l)[0]!.ref, 'v1.0');
  });

  test('a ref that says nothing (HEAD, a sha prefix) is not shown', () => {
    const l = listing([
      { at: new Date(1).toISOString(), slot: 'blue', version: v(1), ref: 'HEAD' },
      { at: new Date(2).toISOString(), slot: 'blue', version: v(2), ref: v(2).slice(0, 8) },
    ]);
    assert.ok(keptReleases(l).every((r) => r.ref === undefined));
  });

  test('deploy log lines that are not ours are skipped', () => {
    const l = parseReleases(
      ['deploy not json', `deploy {"at":"2026-11-30T03:00:00.000Z","slot":"red","version":"${v(1)}"}`, `deploy {"at":"x","slot":"blue","version":"../x"}`].join(
        '\n',
      ),
    );
    assert.deepEqual(l.deploys, []);
  });
});

describe('the kept release check', () => {
  test('a whole artifact passes, a damaged one fails, a missing one says so by its exit status', () => {
    const h = host('check', 0);
    writeFileSync(path.join(h.artifacts, `${APP}-${v(1)}.tar.gz`), gzipSync(Buffer.from('release')));
    const damaged = gzipSync(Buffer.from('release'.repeat(100)));
    damaged[damaged.length - 6] ^= 0xff;
    writeFileSync(path.join(h.artifacts, `${APP}-${v(2)}.tar.gz`), damaged);
    assert.equal(run(checkArtifact(APP, h.build, v(1))).status, 0);
    const bad = run(checkArtifact(APP, h.build, v(2)));
    assert.ok(bad.status !== 0 && bad.status !== NO_ARTIFACT_EXIT, `exit ${bad.status}`);
    assert.equal(run(checkArtifact(APP, h.build, v(3))).status, NO_ARTIFACT_EXIT);
  });
});

describe("the worker's relay copies", () => {
  test('the N newest by mtime stay, and the current one; other apps and partial downloads of kept ones stay', () => {
    const relay = path.join(dir, 'relay');
    mkdirSync(relay);
    for (let i = 1; i <= 5; i++) {
      const f = path.join(relay, `${APP}-${v(i)}.tar.gz`);
      writeFileSync(f, 'r');
      utimesSync(f, T0 + i, T0 + i);
    }
    writeFileSync(path.join(relay, `${APP}-${v(2)}.tar.gz.part`), 'p');
    writeFileSync(path.join(relay, `other_app-${v(1)}.tar.gz`), 'o');
    assert.equal(pruneRelay(APP, 2, v(1), relay), 2);
    assert.deepEqual(readdirSync(relay).sort(), [`${APP}-${v(1)}.tar.gz`, `${APP}-${v(4)}.tar.gz`, `${APP}-${v(5)}.tar.gz`, `other_app-${v(1)}.tar.gz`]);
    assert.equal(pruneRelay(APP, 2, v(1), path.join(dir, 'no-relay')), 0);
  });

  test("each destination relays in a directory of its own: one's prune never takes another's copies", () => {
    const root = path.join(dir, 'relays');
    const staging = relayDirOf({ destination: 'staging' }, root);
    const production = relayDirOf({ destination: 'production' }, root);
    assert.notEqual(staging, production);
    assert.notEqual(relayDirOf({}, root), staging);
    for (const d of [staging, production]) {
      mkdirSync(d, { recursive: true });
      for (let i = 1; i <= 3; i++) {
        writeFileSync(path.join(d, `${APP}-${v(i)}.tar.gz`), 'r');
        utimesSync(path.join(d, `${APP}-${v(i)}.tar.gz`), T0 + i, T0 + i);
      }
    }
    assert.equal(pruneRelay(APP, 1, v(3), production), 2);
    assert.equal(readdirSync(staging).length, 3, 'the staging copies stay');
  });
});

describe('rollback --to VERSION', () => {
  const rel = (version: string, extra: Partial<HostReleases['releases'][number]> = {}) => ({ version, usedAt: 0, artifact: { size: 1, mtimeMs: 0 }, ...extra });
  const hosts: HostReleases[] = [
    { host: 'h1', live: 'blue', releases: [rel(v(3), { slot: 'blue' }), rel(v(2), { slot: 'green' }), rel(v(1), { ref: 'v1.0' })] },
  ];
  const exit2 = (f: () => unknown, re: RegExp) =>
    assert.throws(f, (e: unknown) => e instanceof UserError && e.exitCode === 2 && re.test(e.message) && e.message.includes(v(1).slice(0, 12)));

  test('a sha prefix, the ref it was deployed as, or the commit git names: an artifact, the kept slot, or live already', () => {
    assert.deepEqual(chooseKept(v(1).slice(0, 6), hosts), { version: v(1), how: 'artifact', ref: 'v1.0' });
    assert.deepEqual(chooseKept('v1.0', hosts), { version: v(1), how: 'artifact', ref: 'v1.0' });
    assert.deepEqual(chooseKept('main', hosts, v(2)), { version: v(2), how: 'kept-slot' });
    assert.deepEqual(chooseKept(v(3).slice(0, 8), hosts), { version: v(3), how: 'live' });
  });

  test('a version no host keeps, one some host lacks, or a prefix of several: exit 2, listing what is kept', () => {
    exit2(() => chooseKept('nope', hosts), /no kept release and no commit/);
    exit2(() => chooseKept('tag', hosts, v(9)), /is not kept on h1/);
    exit2(() => chooseKept(v(1).slice(0, 6), [...hosts, { host: 'h2', releases: [] }]), /is not kept on h2/);
    const twins = [{ host: 'h1', releases: [rel(v(1)), rel(`${v(1).slice(0, 39)}f`)] }];
    exit2(() => chooseKept(v(1).slice(0, 8), twins), /names several kept releases/);
  });
});

describe('rollback --to on a fleet', () => {
  test('is refused, exit 2, before any host is reached', () => {
    const project = tempProject();
    after(project.cleanup);
    writeFileSync(path.join(project.dir, 'deploy.yml'), 'app: my_app\nservers:\n  - host: 192.0.2.1\n  - host: 192.0.2.2\n');
    const r = runCli(['rollback', '--to', 'v1.0'], { cwd: project.dir });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /rollback --to acts on one server/);
  });
});
