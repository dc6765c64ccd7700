// Removing an app: the builders' exact strings; the jail tree's removal run by a real /bin/sh on
// real directories, with mount(8) as FreeBSD prints it, refusing while a volume is mounted below;
// the CLI's confirmation and plan (nothing remote happens without --yes).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { destroyJailTree } from '../../src/freebsd/jail';
import { releaseClaim, removeJail, removeSite } from '../../src/freebsd/remove';
import { runCli, tempProject } from '../helpers/cli';
import { CLI } from '../helpers/paths';

const dir = mkdtempSync(path.join(os.tmpdir(), 'alcaide-remove-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** destroyJailTree under /bin/sh: mount -p prints `mounts`, umount unmounts nothing, chflags is a no-op. */
function destroy(root: string, conf: string, mounts: string) {
  writeFileSync(path.join(dir, 'mounts'), mounts);
  const stubs = `mount() { cat ${path.join(dir, 'mounts')}; }; umount() { echo "umount $*" >&2; return 0; }; chflags() { :; }; `;
  return spawnSync('/bin/sh', ['-c', `set -e; ${stubs}${destroyJailTree(root, conf)}`], { encoding: 'utf8' });
}

describe('a jail tree removed for good', () => {
  /** A jail root under `dir/NAME` holding a database's data, and its conf file. */
  const jailTree = (name: string) => {
    const root = path.join(dir, name, 'jails', 'shop_db');
    const data = path.join(root, 'var', 'db', 'postgres');
    mkdirSync(data, { recursive: true });
    writeFileSync(path.join(data, 'PG_VERSION'), '16\n');
    const conf = path.join(dir, name, 'shop_db.conf');
    writeFileSync(conf, 'shop_db {}\n');
    return { root, data, conf };
  };

  test('with a volume still mounted below it, nothing is removed and the script fails saying why', () => {
    const { root, data, conf } = jailTree('mounted');
    const r = destroy(root, conf, `/var/db/shop_postgres\t${data}\tnullfs\trw\t0 0\n/dev/ada0p2\t/\tufs\trw\t1 1\n`);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`umount -f ${data}`), 'it tried to unmount it first');
    assert.match(r.stderr, /file systems still mounted below it; not removed/);
    assert.ok(existsSync(path.join(data, 'PG_VERSION')), 'the data is untouched');
    assert.ok(existsSync(conf));
  });

  test('with nothing mounted below it (another jail with a similar name does not count), root and conf go', () => {
    const { root, data, conf } = jailTree('unmounted');
    assert.ok(existsSync(path.join(data, 'PG_VERSION')) && existsSync(conf), 'there before');
    const r = destroy(root, conf, `/x\t${root}2/var\tnullfs\trw\t0 0\n/dev/ada0p2\t/\tufs\trw\t1 1\n`);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!existsSync(root), 'the root is gone');
    assert.ok(!existsSync(conf), 'the conf is gone');
    assert.ok(existsSync(path.dirname(root)), 'its parent stays');
  });
});

describe('remove builders', () => {
  test('a jail: only when its root or conf exists; stopped with its service, out of jail_list, removed', () => {
    const s = removeJail({
      name: 'shop_blue',
      path: '/usr/local/jails/shop_blue',
      conf: '/etc/jail.conf.d/shop_blue.conf',
      stopService: 'service -j shop_blue shop onestop',
    });
    const lines = s.split('\n');
    assert.equal(lines[0], 'if [ -e /usr/local/jails/shop_blue ] || [ -e /etc/jail.conf.d/shop_blue.conf ]; then');
    assert.match(
      s,
      /if jls -j shop_blue jid >\/dev\/null 2>&1; then\n {2}service -j shop_blue shop onestop >&2 \|\| true\n {2}jail -f \/etc\/jail\.conf\.d\/shop_blue\.conf -r shop_blue >&2/,
    );
    assert.ok(lines.includes('  sysrc -q jail_list-=shop_blue >/dev/null'));
    assert.ok(s.includes(destroyJailTree('/usr/local/jails/shop_blue', '/etc/jail.conf.d/shop_blue.conf')));
    assert.deepEqual(lines.slice(-2), ["  changed 'removed shop_blue'", 'fi']);
  });

  test('the claim is released with one rm, reported', () => {
    assert.equal(
      releaseClaim('/var/db/alcaide/claims.d/shop.claim'),
      "if [ -e /var/db/alcaide/claims.d/shop.claim ]; then rm -f /var/db/alcaide/claims.d/shop.claim; changed 'released /var/db/alcaide/claims.d/shop.claim'; fi",
    );
  });
});

describe('the site removed (run by /bin/sh; caddy and service stubbed, files real)', () => {
  const root = path.join(dir, 'site');
  const site = path.join(root, 'usr/local/etc/caddy/sites/shop.caddy');
  const state = path.join(root, 'var/db/alcaide/shop');
  const logs = path.join(root, 'var/log/caddy/shop');
  // the builder's absolute paths moved under `root`; `caddy validate` exits $VALID; calls logged
  const run = (valid: number) => {
    const script = removeSite('shop', '/var/db/alcaide/shop')
      .replaceAll('/usr/local/etc/caddy/sites', path.dirname(site))
      .replaceAll('/var/db/alcaide/shop', state)
      .replaceAll('/var/log/caddy/shop', logs);
    const stubs = `changed() { echo "+ $*"; }; service() { echo "service $*" >> ${root}/calls; [ "$2" != status ] || return 0; }; caddy() { echo "caddy $1" >> ${root}/calls; return ${valid}; }; `;
    return spawnSync('/bin/sh', ['-c', `set -e; ${stubs}${script}`], { encoding: 'utf8' });
  };
  const calls = () => (existsSync(`${root}/calls`) ? readFileSync(`${root}/calls`, 'utf8').trim().split('\n') : []);
  const fresh = () => {
    rmSync(root, { recursive: true, force: true });
    mkdirSync(path.dirname(site), { recursive: true });
    mkdirSync(path.join(state, 'gates'), { recursive: true });
    mkdirSync(logs, { recursive: true });
    writeFileSync(path.join(logs, 'blue.access.log'), '{}\n');
    writeFileSync(site, 'shop.example { }\n');
  };

  test('Caddy rejects what remains: the site is put back, nothing else removed, the script fails saying why', () => {
    fresh();
    const r = run(1);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /Caddy rejects its configuration without .*shop\.caddy; the site was put back/);
    assert.ok(existsSync(site) && !existsSync(`${site}.removing`));
    assert.ok(existsSync(state));
    assert.deepEqual(calls(), ['service caddy status', 'caddy validate']);
  });

  test('validated: Caddy reloaded, the site and the state gone; a second run changes nothing', () => {
    fresh();
    const r = run(0);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [`+ removed the site ${site}`, `+ removed ${state}`, `+ removed ${logs}`]);
    assert.ok(!existsSync(site) && !existsSync(`${site}.removing`) && !existsSync(state) && !existsSync(logs));
    assert.deepEqual(calls(), ['service caddy status', 'caddy validate', 'service caddy reload']);
    const again = run(0);
    assert.equal(again.status, 0);
    assert.equal(again.stdout, '');
    assert.equal(calls().length, 3, 'nothing ran the second time');
  });

  test('a run cut short after the site was set aside is finished by the next', () => {
    fresh();
    renameSync(site, `${site}.removing`);
    const r = run(0);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /removed the site/);
    assert.ok(!existsSync(`${site}.removing`));
    assert.deepEqual(calls(), ['service caddy status', 'caddy validate', 'service caddy reload']);
  });
});

describe('alcaide remove', () => {
  const project = tempProject('alcaide-remove-cli-');
  after(project.cleanup);
  const yml = `app: shop\nserver:\n  host: 192.0.2.10\ndomain: shop.example\naccessories:\n  postgresql:\n    volume: /var/db/shop_pg:/var/db/postgres\n    user: shop\n    database: shop\n    password_secret: PG\n`;
  writeFileSync(path.join(project.dir, 'deploy.yml'), yml);

  test('--dry-run says what goes and what stays', () => {
    const r = runCli(['remove', '--dry-run'], { cwd: project.dir, env: { NO_COLOR: '1' } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Removes shop from 192\.0\.2\.10:/);
    assert.match(r.stdout, /its Caddy site \(shop\.example\)/);
    assert.match(r.stdout, /the jails shop_blue, shop_green, shop_build, shop_db/);
    assert.match(r.stdout, /\/var\/db\/alcaide\/claims\.d\/shop\.claim/);
    assert.match(r.stdout, /Stays: the database's data in \/var\/db\/shop_pg/);
  });

  test('without --yes and without a terminal to ask on, it refuses with exit 2 before connecting anywhere', () => {
    const r = runCli(['remove'], { cwd: project.dir, env: { NO_COLOR: '1', TEMPORAL_ADDRESS: '127.0.0.1:1' } });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /remove takes shop off 192\.0\.2\.10 for good: pass --yes to confirm \(nothing was changed\)/);
    assert.doesNotMatch(r.stderr, /connect|Temporal/i);
  });

  test('on a terminal it asks for the app name; anything else removes nothing', () => {
    // script(1) gives the CLI a pseudo-terminal; the answer arrives on it
    const r = spawnSync('script', ['-qec', `${process.execPath} ${CLI} remove`, '/dev/null'], {
      cwd: project.dir,
      input: 'shop_typo\n',
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', TEMPORAL_ADDRESS: '127.0.0.1:1' },
      timeout: 30_000,
    });
    assert.match(r.stdout, /Type the app name \(shop\) to remove it: /);
    assert.match(r.stdout, /not removed: "shop_typo" is not shop/);
    assert.equal(r.status, 1, r.stdout);
  });
});
