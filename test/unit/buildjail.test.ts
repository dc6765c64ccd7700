// Build jail rebuild commands: exact strings, and the swap/restore scripts run by a real
// /bin/sh on real directories (hostile names included) from every stage a crash can leave.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import {
  buildCacheDecision,
  buildCachePaths,
  copyBuildCache,
  copySourceTarball,
  hexInstalled,
  otpRelease,
  parseOtpRelease,
  pkgUpgradeAll,
  pkgVersions,
  refreshHexRebar,
  removePrevRoot,
  restoreBuildRoot,
  swapBuildRoot,
} from '../../src/freebsd/buildjail';
import { layout } from '../../src/freebsd/layout';
import { HOSTILE } from '../helpers/hostile';

const L = layout({ app: 'my_app', basePath: '/usr/local/jails', freebsdVersion: '14.3-RELEASE' });
const B = L.jailPath('build');
const N = L.jailPath('build_next');

describe('build jail rebuild commands', () => {
  test('layout: the next build jail beside the build jail', () => {
    assert.equal(L.jailName('build_next'), 'my_app_build_next');
    assert.equal(N, '/usr/local/jails/my_app_build_next');
    assert.equal(L.jailConf('build_next'), '/etc/jail.conf.d/my_app_build_next.conf');
  });

  test('OTP release and toolchain commands', () => {
    assert.equal(
      otpRelease('my_app_build_next'),
      `jexec -l my_app_build_next /bin/sh -c 'erl -noshell -eval '\\''io:put_chars(erlang:system_info(otp_release)), halt().'\\'''`,
    );
    assert.equal(parseOtpRelease('26'), 26);
    assert.equal(parseOtpRelease(' 25\n'), 25);
    assert.equal(parseOtpRelease('R16B'), undefined);
    assert.equal(parseOtpRelease(''), undefined);
    assert.equal(hexInstalled(B), `ls /usr/local/jails/my_app_build/root/.mix/archives 2>/dev/null | grep -q '^hex'`);
    assert.equal(
      refreshHexRebar('my_app_build_next'),
      `jexec -l my_app_build_next /bin/sh -c 'export HOME=/root LANG=C.UTF-8 MIX_ENV=prod && mix local.hex --force && mix local.rebar --force'`,
    );
    assert.equal(pkgUpgradeAll('my_app_build_next'), 'env ASSUME_ALWAYS_YES=yes pkg -j my_app_build_next upgrade -y');
    assert.equal(pkgVersions(['elixir', 'git'], 'my_app_build_next'), 'pkg -j my_app_build_next info -q elixir git');
  });

  test("the build cache follows only to the same OTP major, read from what the jails' erl prints", () => {
    // the product's command under /bin/sh, jexec(8) running it here: this machine's real erl answers
    const erl = spawnSync('/bin/sh', ['-c', `jexec() { shift 2; "$@"; }; ${otpRelease('my_app_build')}`], { encoding: 'utf8' });
    assert.equal(erl.status, 0, erl.stderr);
    assert.match(erl.stdout, /^\d+$/, 'the bare major, no newline');
    const otp = parseOtpRelease(erl.stdout);
    assert.equal(otp, Number(erl.stdout));
    assert.deepEqual(buildCacheDecision(otp, Number(erl.stdout)), {
      carry: true,
      note: `OTP ${erl.stdout} in both: deps/, _build/ and the hex/rebar caches carried over`,
    });
    assert.deepEqual(buildCacheDecision(parseOtpRelease('25'), 26), {
      carry: false,
      note: 'OTP 25 → 26: build cache dropped, the next build compiles everything',
    });
    assert.deepEqual(buildCacheDecision(27, 26), { carry: false, note: 'OTP 27 → 26: build cache dropped, the next build compiles everything' });
    // erl did not answer in the jail in service
    assert.deepEqual(buildCacheDecision(parseOtpRelease(''), 26), {
      carry: false,
      note: 'OTP of the build jail in service unknown, new jail OTP 26: build cache dropped, the next build compiles everything',
    });
    // the banner of `elixir --version` (the other toolchain probe) names OTP majors but is not an answer to the probe
    const banner = spawnSync('elixir', ['--version'], { encoding: 'utf8' });
    assert.match(banner.stdout, /^Erlang\/OTP \d+ /);
    assert.equal(parseOtpRelease(banner.stdout), undefined);
  });

  test('build cache: deps/_build of the app, hex and rebar3 caches, each copied afresh', () => {
    assert.deepEqual(buildCachePaths('my_app'), ['/usr/local/alcaide/build/my_app', '/root/.hex', '/root/.cache/rebar3']);
    const cmd = copyBuildCache('my_app', B, N);
    assert.equal(
      cmd.split(' && if')[0],
      'if [ -d /usr/local/jails/my_app_build/usr/local/alcaide/build/my_app ]; then rm -rf /usr/local/jails/my_app_build_next/usr/local/alcaide/build/my_app && mkdir -p "$(dirname /usr/local/jails/my_app_build_next/usr/local/alcaide/build/my_app)" && cp -Rp /usr/local/jails/my_app_build/usr/local/alcaide/build/my_app /usr/local/jails/my_app_build_next/usr/local/alcaide/build/my_app; fi',
    );
    assert.equal(cmd.split(' && if').length, 3);
  });

  test('source tarball copied from the old jail (exit 3 when it is not there)', () => {
    const v = 'a'.repeat(40);
    assert.equal(
      copySourceTarball(v, '/j/a_build', '/j/a_build_next'),
      `if [ ! -f /j/a_build/usr/local/alcaide/src/${v}.tar ]; then exit 3; fi; mkdir -p "$(dirname /j/a_build_next/usr/local/alcaide/src/${v}.tar)" && cp -p /j/a_build/usr/local/alcaide/src/${v}.tar /j/a_build_next/usr/local/alcaide/src/${v}.tar.tmp && mv -f /j/a_build_next/usr/local/alcaide/src/${v}.tar.tmp /j/a_build_next/usr/local/alcaide/src/${v}.tar`,
    );
  });

  test('swap and restore: exact strings', () => {
    assert.equal(
      swapBuildRoot(B, N),
      "if [ ! -d /usr/local/jails/my_app_build_next ]; then echo 'no proven root at /usr/local/jails/my_app_build_next' >&2; exit 3; fi" +
        ' && if [ -d /usr/local/jails/my_app_build ]; then if [ -e /usr/local/jails/my_app_build.prev ]; then chflags -R noschg /usr/local/jails/my_app_build.prev && rm -rf /usr/local/jails/my_app_build.prev; fi && mv /usr/local/jails/my_app_build /usr/local/jails/my_app_build.prev; fi' +
        ' && mv /usr/local/jails/my_app_build_next /usr/local/jails/my_app_build',
    );
    assert.equal(
      restoreBuildRoot(B, N),
      'if [ ! -d /usr/local/jails/my_app_build.prev ]; then exit 0; fi' +
        " && if [ -d /usr/local/jails/my_app_build ]; then if [ -d /usr/local/jails/my_app_build_next ]; then echo 'both /usr/local/jails/my_app_build and /usr/local/jails/my_app_build_next exist: not touching either' >&2; exit 3; fi; mv /usr/local/jails/my_app_build /usr/local/jails/my_app_build_next; fi" +
        ' && mv /usr/local/jails/my_app_build.prev /usr/local/jails/my_app_build',
    );
    assert.equal(
      removePrevRoot(B),
      'if [ -e /usr/local/jails/my_app_build.prev ]; then chflags -R noschg /usr/local/jails/my_app_build.prev && rm -rf /usr/local/jails/my_app_build.prev; fi',
    );
  });
});

describe('swap and restore on real directories', () => {
  // Linux has no chflags: a no-op stand-in; everything else is the real /bin/sh and coreutils.
  const run = (cmd: string) => spawnSync('/bin/sh', ['-c', `chflags() { :; }; ${cmd}`], { encoding: 'utf8' });
  const tags = (dir: string) => {
    const read = (p: string) => (existsSync(p) ? readFileSync(path.join(p, 'tag'), 'utf8') : '-');
    return { build: read(dir + '/b'), prev: read(dir + '/b.prev'), next: read(dir + '/n') };
  };
  const names = ['plain', ...HOSTILE.filter((v) => v && !v.includes('/') && !v.startsWith('-') && v.trim() === v)];

  for (const name of names) {
    test(`every stage converges (directory ${JSON.stringify(name)})`, () => {
      const base = mkdtempSync(path.join(os.tmpdir(), 'alcaide-swap-'));
      const dir = path.join(base, name);
      const root = (p: string, tag: string) => {
        mkdirSync(p, { recursive: true });
        writeFileSync(path.join(p, 'tag'), tag);
      };
      const b = `${dir}/b`;
      const n = `${dir}/n`;
      try {
        // fresh swap: old → .prev, new → build
        root(b, 'old');
        root(n, 'new');
        assert.equal(run(swapBuildRoot(b, n)).status, 0);
        assert.deepEqual(tags(dir), { build: 'new', prev: 'old', next: '-' });
        // again (a retry after it finished): nothing to swap, nothing lost
        assert.equal(run(swapBuildRoot(b, n)).status, 3);
        assert.deepEqual(tags(dir), { build: 'new', prev: 'old', next: '-' });
        // undo after the swap: old back, new at next
        assert.equal(run(restoreBuildRoot(b, n)).status, 0);
        assert.deepEqual(tags(dir), { build: 'old', prev: '-', next: 'new' });
        // undo again: no kept root, nothing changes
        assert.equal(run(restoreBuildRoot(b, n)).status, 0);
        assert.deepEqual(tags(dir), { build: 'old', prev: '-', next: 'new' });
        // a crash between the two renames: the retried swap finishes it and keeps the old root
        renameSync(b, `${b}.prev`);
        assert.equal(run(swapBuildRoot(b, n)).status, 0);
        assert.deepEqual(tags(dir), { build: 'new', prev: 'old', next: '-' });
        // the same crash, undone instead
        renameSync(b, n);
        assert.deepEqual(tags(dir), { build: '-', prev: 'old', next: 'new' });
        assert.equal(run(restoreBuildRoot(b, n)).status, 0);
        assert.deepEqual(tags(dir), { build: 'old', prev: '-', next: 'new' });
        // a stale .prev from an earlier rebuild is replaced by the root in service
        root(`${b}.prev`, 'stale');
        assert.equal(run(swapBuildRoot(b, n)).status, 0);
        assert.deepEqual(tags(dir), { build: 'new', prev: 'old', next: '-' });
        assert.equal(run(removePrevRoot(b)).status, 0);
        assert.deepEqual(tags(dir), { build: 'new', prev: '-', next: '-' });
      } finally {
        rmSync(base, { recursive: true, force: true });
      }
    });
  }

  test('cache and source copies run as written (hostile directory name)', () => {
    const base = mkdtempSync(path.join(os.tmpdir(), "alcaide-cache-it's $(x) "));
    try {
      const from = path.join(base, 'old');
      const to = path.join(base, 'new');
      mkdirSync(path.join(from, 'usr/local/alcaide/build/my_app/_build'), { recursive: true });
      writeFileSync(path.join(from, 'usr/local/alcaide/build/my_app/_build/x'), 'cached');
      mkdirSync(path.join(from, 'usr/local/alcaide/src'), { recursive: true });
      writeFileSync(path.join(from, `usr/local/alcaide/src/${'b'.repeat(40)}.tar`), 'tar');
      mkdirSync(to);
      for (let i = 0; i < 2; i++) assert.equal(run(copyBuildCache('my_app', from, to)).status, 0, 'and again (retry)');
      assert.equal(readFileSync(path.join(to, 'usr/local/alcaide/build/my_app/_build/x'), 'utf8'), 'cached');
      assert.ok(!existsSync(path.join(to, 'usr/local/alcaide/build/my_app/my_app')), 'a retry does not nest the copy');
      assert.equal(run(copySourceTarball('b'.repeat(40), from, to)).status, 0);
      assert.equal(readFileSync(path.join(to, `usr/local/alcaide/src/${'b'.repeat(40)}.tar`), 'utf8'), 'tar');
      assert.equal(run(copySourceTarball('c'.repeat(40), from, to)).status, 3);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
