// Claims: what each app holds on a host. The reader runs under the real /bin/sh on real files;
// the conflict rules are pure.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import {
  claimConflicts,
  claimedSubnets,
  claimFile,
  claimHint,
  claimOf,
  parseClaims,
  readClaims,
  renderClaim,
  subnetsOverlap,
  type Claim,
} from '../../src/freebsd/claims';
import { TEST_TARGET } from '../helpers/target';

const dir = mkdtempSync(path.join(os.tmpdir(), 'alcaide claims '));
after(() => rmSync(dir, { recursive: true, force: true }));

const sh = (cmd: string) => spawnSync('/bin/sh', ['-c', cmd], { encoding: 'utf8' });

const prod: Claim = {
  app: 'shop',
  subnet: '10.0.0.0/24',
  proxyPorts: [20010, 20011],
  site: 'shop.example',
  ip6: ['fd00:a1ca:1de::a00:2', 'fd00:a1ca:1de::a00:3'],
};
const staging: Claim = { ...prod, destination: 'staging', site: ':80' };
const other: Claim = { app: 'blog', subnet: '10.0.1.0/24', proxyPorts: [20020, 20021], site: 'blog.example' };

describe('claims on the host', () => {
  test('one file per app and destination; read back as written, from a directory with a space', () => {
    assert.equal(claimFile(prod), '/var/db/alcaide/claims.d/shop.claim');
    assert.equal(claimFile(staging), '/var/db/alcaide/claims.d/shop.staging.claim');
    const claims = path.join(dir, 'var db', 'claims.d');
    const none = sh(readClaims(claims));
    assert.equal(none.status, 0, none.stderr);
    assert.deepEqual(parseClaims(none.stdout), [], 'no claims directory: no claims');
    mkdirSync(claims, { recursive: true });
    for (const c of [prod, staging, other]) writeFileSync(claimFile(c, claims), renderClaim(c));
    writeFileSync(path.join(claims, 'broken.claim'), 'app=half\n');
    writeFileSync(path.join(claims, 'notes.txt'), 'app=not a claim\nsubnet=10.9.0.0/24\nproxy_ports=1 2\n');
    const r = sh(readClaims(claims));
    assert.equal(r.status, 0, r.stderr);
    const byName = (a: Claim, b: Claim) => `${a.app}.${a.destination ?? ''}`.localeCompare(`${b.app}.${b.destination ?? ''}`);
    assert.deepEqual(parseClaims(r.stdout).sort(byName), [other, prod, staging].sort(byName), 'the broken file and the non-claim are skipped');
  });

  test("a config's claim: its subnet, Caddy's slot ports, the slots' IPv6 addresses, its site (:80 without a domain)", () => {
    assert.deepEqual(claimOf(TEST_TARGET), {
      app: 'my_app',
      subnet: '10.0.0.0/24',
      proxyPorts: [24000, 24001],
      site: ':80',
      ip6: ['fd00:a1ca:1de::a00:2', 'fd00:a1ca:1de::a00:3'],
    });
  });

  test("a destination's claim names it and its domain, in a file of its own", () => {
    const c = claimOf({ ...TEST_TARGET, destination: 'staging', domain: 'staging.shop.example' });
    assert.deepEqual(c, {
      app: 'my_app',
      destination: 'staging',
      subnet: '10.0.0.0/24',
      proxyPorts: [24000, 24001],
      site: 'staging.shop.example',
      ip6: ['fd00:a1ca:1de::a00:2', 'fd00:a1ca:1de::a00:3'],
    });
    assert.equal(claimFile(c), '/var/db/alcaide/claims.d/my_app.staging.claim');
    assert.equal(
      renderClaim(c),
      '# alcaide: my_app (destination staging) holds its jails, subnet, ports and site on this host.\n' +
        '# Remove this file only when that app is gone from the host.\n' +
        'app=my_app\ndestination=staging\nsubnet=10.0.0.0/24\nproxy_ports=24000 24001\nsite=staging.shop.example\nip6=fd00:a1ca:1de::a00:2 fd00:a1ca:1de::a00:3\n',
    );
  });

  test('a destination of the same app on the same host takes its jails (and whatever else it shares)', () => {
    const problems = claimConflicts(staging, [prod, other]);
    assert.deepEqual(problems, [
      "the jails shop_blue, shop_green and shop_build are shop's",
      "the jail subnet 10.0.0.0/24 overlaps shop's 10.0.0.0/24",
      "Caddy's slot ports 20010, 20011 are shop's",
    ]);
    assert.match(
      claimHint(problems),
      /^to share this host, give this app its own `app` name .*, its own `network\.subnet`, its own `proxy\.ports`; or deploy it to another host$/,
    );
    assert.doesNotMatch(claimHint(problems), /domain/);
  });

  test('its own claim is no conflict; apps that share nothing are none either', () => {
    assert.deepEqual(claimConflicts(prod, [prod, other]), []);
    assert.deepEqual(claimConflicts(other, [prod, staging]), []);
  });

  test('another app: an overlapping subnet, one shared port, the same site', () => {
    const blog: Claim = { app: 'blog', subnet: '10.0.0.128/25', proxyPorts: [20011, 20030], site: 'shop.example' };
    const problems = claimConflicts(blog, [prod]);
    assert.deepEqual(problems, [
      "the jail subnet 10.0.0.128/25 overlaps shop's 10.0.0.0/24",
      "Caddy's slot port 20011 is shop's",
      "the site shop.example is shop's",
    ]);
    assert.equal(
      claimHint(problems),
      'to share this host, give this app its own `network.subnet`, its own `proxy.ports`, its own `domain`; or deploy it to another host',
    );
  });

  test('subnets overlap when one holds an address of the other', () => {
    assert.equal(subnetsOverlap('10.0.0.0/24', '10.0.0.0/24'), true);
    assert.equal(subnetsOverlap('10.0.0.0/16', '10.0.7.0/24'), true);
    assert.equal(subnetsOverlap('10.0.7.0/24', '10.0.0.0/16'), true);
    assert.equal(subnetsOverlap('10.0.0.0/24', '10.0.1.0/24'), false);
    assert.equal(subnetsOverlap('10.0.0.0/25', '10.0.0.128/25'), false);
  });

  test("pf's NAT: every claimed subnet once, in order", () => {
    assert.deepEqual(claimedSubnets(prod, []), ['10.0.0.0/24']);
    assert.deepEqual(claimedSubnets(other, [prod, other, { ...prod, destination: 'x' }]), ['10.0.0.0/24', '10.0.1.0/24']);
  });
});
