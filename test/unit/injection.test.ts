// Injection, table-driven: every config field that reaches a host command, each with 30+
// hostile values. A value is either refused by validation with an error naming its config
// path, or accepted — and then it is inert (the quoting function leaves it bare because it
// holds no shell syntax), or, for the free-form fields, it reaches the program through the
// real builder and a real /bin/sh byte for byte. A canary file proves no injected command ran.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/load';
import { assertVersion, type AppTarget } from '../../src/model/target';
import { toAppTarget } from '../../src/config/target';
import { ConfigError } from '../../src/errors';
import { appCommand, releaseEval, renderEnvFile } from '../../src/freebsd/app';
import { jexec } from '../../src/freebsd/jail';
import { q } from '../../src/freebsd/sh';
import { tempProject } from '../helpers/cli';
import { HOSTILE } from '../helpers/hostile';

const CANARY = '/tmp/alcaide-pwned';
const CANARY2 = '/tmp/alcaide-pwned-2';
// HOSTILE (shared) plus values aimed at paths, names, options and the env file format.
const VALUES: string[] = [
  ...HOSTILE,
  `$(touch ${CANARY2})`,
  `x;touch ${CANARY2}`,
  `x\ntouch ${CANARY2}`,
  `x' ; touch ${CANARY2} ; '`,
  '../../etc/passwd',
  '/usr/local/jails/../../etc',
  'a b',
  '$IFS',
  '%s%n',
  '-rf',
  'a=b',
  'x\r',
  'ß',
  'A'.repeat(300),
  '{a,b}',
  'a\\nb',
  '\t',
];

const BASE = {
  app: 'my_app',
  server: { host: '203.0.113.10' },
  env: { clear: { PHX_HOST: 'example.com' }, secret: ['SECRET_KEY_BASE'] },
};

type Doc = Record<string, any>;
interface Field {
  /** the config path the error must name */
  path: string;
  set: (d: Doc, v: string) => void;
  /** where an accepted value lands in the target, to check it is inert */
  landed?: (t: AppTarget) => string;
  /** free-form: accepted values must survive the real builder and /bin/sh (checked below) */
  freeForm?: boolean;
  /** a path on the host's file system: no ".." segment either */
  fsPath?: boolean;
}

const FIELDS: Field[] = [
  { path: 'app', set: (d, v) => (d.app = v), landed: (t) => t.app },
  { path: 'release.name', set: (d, v) => (d.release = { name: v }), landed: (t) => t.release.name },
  { path: 'app_jail.base_path', set: (d, v) => (d.app_jail = { base_path: v }), landed: (t) => t.basePath, fsPath: true },
  { path: 'app_jail.freebsd_version', set: (d, v) => (d.app_jail = { freebsd_version: v }), landed: (t) => t.freebsdVersion },
  { path: 'network.interface', set: (d, v) => (d.network = { interface: v }), landed: (t) => t.network.iface },
  { path: 'network.subnet', set: (d, v) => (d.network = { subnet: v }), landed: (t) => t.network.subnet },
  { path: 'server.host', set: (d, v) => (d.server.host = v), landed: (t) => t.server.host },
  { path: 'server.user', set: (d, v) => (d.server.user = v), landed: (t) => t.server.user },
  { path: 'domain', set: (d, v) => (d.domain = v), landed: (t) => t.domain ?? '' },
  { path: 'health_check.path', set: (d, v) => (d.health_check = { path: v }), landed: (t) => t.healthCheck.path },
  { path: 'ssh.proxy_jump', set: (d, v) => (d.ssh = { proxy_jump: v }), landed: (t) => JSON.stringify(t.ssh).replace(/[{}":,[\]]/g, '') },
  { path: 'env.clear', set: (d, v) => (d.env.clear = { [v]: 'x' }), landed: (t) => Object.keys(t.envClear).join('') },
  { path: 'env.secret', set: (d, v) => (d.env.secret = [v]), landed: (t) => t.envSecretNames.join('') },
  { path: 'env.clear.V', set: (d, v) => (d.env.clear = { V: v }), freeForm: true },
  { path: 'release.migrate', set: (d, v) => (d.release = { migrate: v }), freeForm: true },
];

const project = tempProject('alcaide-inject-');
let n = 0;
function load(doc: Doc) {
  const dir = path.join(project.dir, `p${n++}`);
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'deploy.yml'), stringify(doc));
  return loadConfig({ configPath: path.join(dir, 'deploy.yml') });
}

/** A fake jail root: jexec runs the inner command with /usr/local mapped here. */
const fake = path.join(project.dir, 'root');
function viaJexec(command: string): { out: string; code: number | null } {
  // only the builder's own paths move (values may contain /usr/local/ too)
  const inner = command
    .replace('. /usr/local/etc/my_app.env ', `. ${fake}/etc/my_app.env `)
    .replace('cd /usr/local/my_app ', `cd ${fake}/my_app `)
    .replace('exec /usr/local/my_app/bin/my_app ', `exec ${fake}/my_app/bin/my_app `);
  const cmd = jexec('my_app_blue', inner);
  // jexec -l NAME CMD...: drop the options and the jail name, run the rest
  const r = spawnSync('/bin/sh', ['-c', `jexec() { shift 2; "$@"; }; ${cmd}`], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
  return { out: r.stdout, code: r.status };
}

before(() => {
  rmSync(CANARY, { force: true });
  rmSync(CANARY2, { force: true });
  mkdirSync(path.join(fake, 'etc'), { recursive: true });
  mkdirSync(path.join(fake, 'my_app', 'bin'), { recursive: true });
  writeFileSync(path.join(fake, 'etc', 'my_app.env'), '');
  // the release script and a stand-in program: print each argument, NUL-terminated
  for (const prog of ['my_app/bin/my_app', 'my_app/bin/args']) {
    writeFileSync(path.join(fake, prog), '#!/bin/sh\nprintf \'%s\\0\' "$@"\n');
    chmodSync(path.join(fake, prog), 0o755);
  }
});
after(() => {
  project.cleanup();
});

describe('hostile values in every config field that reaches a command', () => {
  assert.ok(VALUES.length >= 30);
  for (const f of FIELDS) {
    test(`${f.path}: ${VALUES.length} hostile values are refused naming ${f.path}, or reach the host as data`, () => {
      const outcome = { refused: 0, accepted: 0 };
      for (const v of VALUES) {
        const doc = structuredClone(BASE) as Doc;
        f.set(doc, v);
        let target;
        try {
          target = toAppTarget(load(doc));
        } catch (e) {
          assert.ok(e instanceof ConfigError, `${f.path}=${JSON.stringify(v)}: ${(e as Error).message}`);
          const prefix = f.path.replace(/\.V$/, '');
          assert.ok(e.message.includes(`${prefix}`), `${f.path}=${JSON.stringify(v)}: the error names the key: ${e.message}`);
          assert.doesNotMatch(e.message, /\n\s+at /);
          outcome.refused++;
          continue;
        }
        outcome.accepted++;
        if (f.freeForm) continue; // checked through the builders below
        const landed = f.landed!(target);
        assert.equal(q(landed), landed, `${f.path}=${JSON.stringify(v)} was accepted as ${JSON.stringify(landed)}: it must hold no shell syntax`);
        if (f.fsPath) assert.ok(!landed.split('/').includes('..'), `${f.path}: no ".." path segment`);
      }
      assert.ok(outcome.refused > 0 || f.freeForm, `${f.path}: validation refuses something`);
    });
  }

  test('env.clear values: every accepted value reaches the app byte for byte through the env file', () => {
    const vars = Object.fromEntries(VALUES.map((v, i) => [`V${i}`, v]));
    writeFileSync(path.join(fake, 'etc', 'my_app.env'), renderEnvFile(vars));
    for (const [k, v] of Object.entries(vars)) {
      // the real `alcaide run` command: env file sourced, then the program
      const r = viaJexec(appCommand('my_app', ['printenv', k]));
      assert.equal(r.out, `${v}\n`, `${k}=${JSON.stringify(v)}`);
    }
    writeFileSync(path.join(fake, 'etc', 'my_app.env'), '');
  });

  test('release.migrate: every value reaches `bin/APP eval` as one argument, through jexec and /bin/sh', () => {
    for (const v of VALUES.filter((x) => x !== '')) {
      const r = viaJexec(releaseEval('my_app', 'my_app', v));
      assert.equal(r.code, 0, JSON.stringify(v));
      assert.equal(r.out, `eval\0${v}\0`, `migrate=${JSON.stringify(v)}`);
    }
    const empty = structuredClone(BASE) as Doc;
    empty.release = { migrate: '' };
    assert.throws(() => load(empty), /release\.migrate: expected an Elixir expression/);
  });

  test('alcaide run words: each reaches the program as one argument', () => {
    const r = viaJexec(appCommand('my_app', [`${fake}/my_app/bin/args`, ...VALUES]));
    assert.equal(r.code, 0);
    assert.deepEqual(r.out.split('\0').slice(0, -1), VALUES);
  });

  test('the version (a commit id) is checked before it names files or reaches a command', () => {
    assertVersion('a'.repeat(40));
    assertVersion('0123456789abcdef'.repeat(4));
    for (const v of [...VALUES, 'A'.repeat(40), 'a'.repeat(39), 'HEAD']) {
      assert.throws(() => assertVersion(v), /version: expected a full git commit id \(40 or 64 hex digits\)/, JSON.stringify(v));
    }
  });

  test('canary: no injected command ran', () => {
    assert.ok(!existsSync(CANARY), `${CANARY} was created`);
    assert.ok(!existsSync(CANARY2), `${CANARY2} was created`);
  });
});
