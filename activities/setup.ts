// `alcaide setup`: each activity checks the host's real state first and changes only what
// differs, so a second run (or a retry after a crash) runs no mutating command.
import { CADDYFILE, gateDir, siteFile } from '../src/freebsd/layout';
import { caddyValidate } from '../src/freebsd/caddy';
import { renderMainCaddyfile, renderSite, withImportLine } from '../src/caddy/caddyfile';
import type { AppTarget } from '../src/model/target';
import { backupOnce, dirsExist, makeDirs, moveFile, readFile, removeFile, writeFileAtomic } from '../src/freebsd/files';
import { defaultInterface, interfaceCreate, interfaceExists, pfCheck, pfEnable, pfEnabled, pfLoad, renderPfBlock, withPfBlock } from '../src/freebsd/network';
import { pkgAllInstalled, pkgInstall } from '../src/freebsd/pkg';
import { hostFacts, kldLoad, kldLoaded, parseHostFacts, serviceReload, serviceRunning, serviceStart } from '../src/freebsd/system';
import { baseFetched, extractBase, fetchBase, templateReady } from '../src/freebsd/template';
import { ensureHostsBlock } from '../src/freebsd/hosts';
import { buildJailSpec, converge, ensureFile, ensureJail, ensureSysrc, ensureSysrcWord, layoutOf, slotHost, slotHostsEntries } from './jails';
import { checkClaims } from './claims';
import { claimedSubnets, claimOf } from '../src/freebsd/claims';
import { precondition, Remote, withHeartbeat } from './remote';

export interface StepResult {
  changed: boolean;
  note: string;
}

const SUPPORTED_ARCH = ['amd64', 'arm64'];
export const BUILD_PACKAGES = ['elixir', 'erlang', 'node22', 'npm-node22', 'git'];

const summary = (changes: string[], unchanged: string) => ({ changed: changes.length > 0, note: changes.length ? changes.join('; ') : unchanged });

export async function verifyHost(t: AppTarget): Promise<StepResult> {
  const r = Remote.for(t);
  const out = (await r.run(hostFacts(), 'verify host')).stdout;
  const f = parseHostFacts(out);
  const host = t.server.host;
  if (!f || f.os !== 'FreeBSD') throw precondition(`${host} runs "${out.trim()}", not FreeBSD: alcaide deploys to FreeBSD 14 or newer`);
  if (f.major < 14) throw precondition(`${host} runs FreeBSD ${f.release}; alcaide needs FreeBSD 14 or newer (freebsd-update upgrade -r 14.3-RELEASE)`);
  if (!SUPPORTED_ARCH.includes(f.arch)) throw precondition(`${host} is ${f.arch}; supported: ${SUPPORTED_ARCH.join(', ')}`);
  const { recorded } = await checkClaims(r, t, { record: true });
  return { changed: recorded, note: `FreeBSD ${f.release} ${f.arch}${recorded ? `; ${t.app} claims ${t.network.subnet} here` : ''}` };
}

export async function enableJails(t: AppTarget): Promise<StepResult> {
  const r = Remote.for(t);
  const changes: string[] = [];
  if (await ensureSysrc(r, 'jail_enable', 'YES')) changes.push('jail_enable=YES');
  const dirs = ['/etc/jail.conf.d', t.basePath];
  if (!(await r.ok(dirsExist(dirs), 'check jail directories'))) {
    await r.run(makeDirs(dirs), 'create jail directories');
    changes.push(`created ${dirs.join(', ')}`);
  }
  return summary(changes, 'jails already enabled');
}

export async function setupJailNetwork(t: AppTarget): Promise<StepResult> {
  const r = Remote.for(t);
  const { iface } = t.network;
  const changes: string[] = [];
  if (await ensureSysrcWord(r, 'cloned_interfaces', iface)) changes.push(`${iface} in cloned_interfaces`);
  if (!(await r.ok(interfaceExists(iface), `check ${iface}`))) {
    await r.run(interfaceCreate(iface), `create ${iface}`);
    changes.push(`created ${iface}`);
  }
  return summary(changes, `${iface} ready for ${t.network.subnet}`);
}

export async function enableLinuxulator(t: AppTarget): Promise<StepResult> {
  const r = Remote.for(t);
  const changes: string[] = [];
  if (await ensureSysrc(r, 'linux_enable', 'YES')) changes.push('linux_enable=YES');
  if (!(await r.ok(kldLoaded('linux64'), 'check linux64'))) {
    await r.run(kldLoad('linux64'), 'load linux64');
    changes.push('loaded linux64');
  }
  return summary(changes, 'Linux binary compatibility already on');
}

export async function configurePf(t: AppTarget): Promise<StepResult> {
  const r = Remote.for(t);
  // pf is a kernel module on GENERIC: pfctl needs /dev/pf (rc.d/pf loads it the same way)
  const changes: string[] = [];
  if (!(await r.ok(kldLoaded('pf'), 'check pf module'))) {
    await r.run(kldLoad('pf'), 'load pf');
    changes.push('loaded pf');
  }
  const extIf = (await r.run(defaultInterface(), 'find the default interface')).stdout.trim();
  if (!/^[a-z]+[0-9]+$/.test(extIf)) throw precondition(`${t.server.host} has no default route (route -n get default), so jails cannot reach the network through NAT`);
  const current = await r.check(readFile('/etc/pf.conf'), 'read pf.conf');
  if (current.code !== 0 && current.code !== 3) throw precondition(`cannot read /etc/pf.conf on ${t.server.host}: ${current.stderr.trim()}`);
  const existing = current.code === 3 ? '' : current.stdout;
  const { claims } = await checkClaims(r, t, { record: false });
  const desired = withPfBlock(existing, renderPfBlock(extIf, claimedSubnets(claimOf(t), claims)));
  if (desired !== existing) {
    const candidate = '/etc/pf.conf.alcaide-new';
    await r.run(writeFileAtomic(candidate, '0600'), 'write pf.conf candidate', { stdin: desired });
    const check = await r.check(pfCheck(candidate), 'check pf.conf');
    if (check.code !== 0) {
      await r.check(removeFile(candidate), 'remove pf.conf candidate');
      throw precondition(`the pf.conf with alcaide's NAT block does not load (pfctl -nf): ${check.stderr.trim()}; /etc/pf.conf was left unchanged`);
    }
    await r.run(moveFile(candidate, '/etc/pf.conf'), 'install pf.conf');
    changes.push(`NAT for ${t.network.subnet} via ${extIf} in /etc/pf.conf`);
  }
  if (await ensureSysrc(r, 'pf_enable', 'YES')) changes.push('pf_enable=YES');
  const enabled = await r.ok(pfEnabled(), 'check pf');
  // pfctl -f keeps existing states, so the SSH session survives (service pf start would flush them).
  if (!enabled) {
    await r.run(`${pfLoad('/etc/pf.conf')} && ${pfEnable()}`, 'enable pf');
    changes.push('pf enabled');
  } else if (desired !== existing) {
    await r.run(pfLoad('/etc/pf.conf'), 'reload pf');
    changes.push('pf reloaded');
  }
  return summary(changes, 'pf NAT already in place');
}

export async function prepareBaseTemplate(t: AppTarget): Promise<StepResult> {
  const r = Remote.for(t);
  const l = layoutOf(t);
  if (await r.ok(templateReady(l), 'check base template')) return { changed: false, note: `${t.freebsdVersion} template ready` };
  if (!(await r.ok(baseFetched(l), 'check base.txz'))) {
    await withHeartbeat(() => r.run(fetchBase(l), `download ${t.freebsdVersion} base.txz`, { timeoutMs: 30 * 60_000 }));
  }
  await withHeartbeat(() => r.run(extractBase(l, t.freebsdVersion), 'extract base.txz', { timeoutMs: 15 * 60_000 }));
  return { changed: true, note: `extracted ${t.freebsdVersion} into ${l.templateDir}` };
}

export async function setupCaddy(t: AppTarget): Promise<StepResult> {
  const r = Remote.for(t);
  const changes: string[] = [];
  if (!(await r.ok(pkgAllInstalled(['caddy']), 'check caddy package'))) {
    await withHeartbeat(() => r.run(pkgInstall(['caddy']), 'install caddy', { timeoutMs: 15 * 60_000 }));
    changes.push('installed caddy');
  }
  const main = await r.check(readFile(CADDYFILE), 'read Caddyfile');
  const existing = main.code === 0 ? main.stdout : '';
  // The port installs its sample as the Caddyfile; an untouched sample (":80 Caddy works") is
  // replaced, an operator's own Caddyfile only gets the import line.
  const sample = await r.check(readFile(`${CADDYFILE}.sample`), 'read Caddyfile.sample');
  const pristine = !existing.trim() || (sample.code === 0 && sample.stdout === existing);
  const desiredMain = pristine ? renderMainCaddyfile() : withImportLine(existing);
  let mainChanged = false;
  if (desiredMain !== existing) {
    if (existing) await r.run(backupOnce(CADDYFILE, `${CADDYFILE}.before-alcaide`), 'keep the original Caddyfile');
    await r.run(writeFileAtomic(CADDYFILE, '0644'), 'write Caddyfile', { stdin: desiredMain });
    mainChanged = true;
    changes.push(pristine ? 'Caddyfile imports the app sites' : 'Caddyfile: import line added');
  }
  // The app's site is static from here on: deploys switch slots through gate files.
  if (!(await r.ok(dirsExist([gateDir(t.app)]), 'check the gate directory'))) {
    await r.run(makeDirs([gateDir(t.app)]), 'create the gate directory');
  }
  // the site's upstreams are the slots' names: /etc/hosts first
  changes.push(...(await converge(r, 'name the slots in /etc/hosts', [ensureHostsBlock(t.app, slotHostsEntries(t))])));
  const site = renderSite({ app: t.app, domain: t.domain, slots: { blue: slotHost(t, 'blue'), green: slotHost(t, 'green') }, port: t.appPort, proxyPorts: t.proxyPorts });
  if (await ensureFile(r, siteFile(t.app), site, '0644', 'write site file')) changes.push(`site ${siteFile(t.app)}`);
  if (mainChanged || changes.some((c) => c.startsWith('site'))) {
    const valid = await r.check(caddyValidate(), 'validate the Caddyfile');
    if (valid.code !== 0) {
      const why = (valid.stderr || valid.stdout).trim().split('\n').filter((l) => /error/i.test(l)).slice(-2).join('; ');
      if (!pristine && existing) await r.run(writeFileAtomic(CADDYFILE, '0644'), 'restore the Caddyfile', { stdin: existing });
      throw precondition(
        `Caddy rejects the configuration with ${t.app}'s site: ${why}. ${CADDYFILE} was left as it was` +
          (t.domain ? '' : `; if another site there serves :80, remove it or set \`domain\` in deploy.yml`),
      );
    }
  }
  if (await ensureSysrc(r, 'caddy_enable', 'YES')) changes.push('caddy_enable=YES');
  if (!(await r.ok(serviceRunning('caddy'), 'check caddy'))) {
    await r.run(serviceStart('caddy'), 'start caddy');
    changes.push('started caddy');
  } else if (mainChanged || changes.some((c) => c.startsWith('site'))) {
    await r.run(serviceReload('caddy'), 'reload caddy');
    changes.push('reloaded caddy');
  }
  return summary(changes, 'Caddy running');
}

export async function setupBuildJail(t: AppTarget): Promise<StepResult> {
  const r = Remote.for(t);
  const l = layoutOf(t);
  const name = l.jailName('build');
  const changes = await ensureJail(r, l, buildJailSpec(t, 'build'), l.jailConf('build'));
  if (!(await r.ok(pkgAllInstalled(BUILD_PACKAGES, name), 'check build packages'))) {
    await withHeartbeat(() => r.run(pkgInstall(BUILD_PACKAGES, name), 'install build packages', { timeoutMs: 30 * 60_000 }));
    changes.push(`installed ${BUILD_PACKAGES.join(', ')}`);
  }
  return summary(changes, `${name} ready (${BUILD_PACKAGES.join(', ')})`);
}
