// `alcaide setup`: each activity checks the host's real state first and changes only what
// differs, so a second run (or a retry after a crash) runs no mutating command.
import { CADDYFILE, gateDir, HOSTS_FILE, JAIL_CONF_DIR, PF_CONF, siteFile } from '../src/freebsd/layout';
import { caddyValidate } from '../src/freebsd/caddy';
import { renderMainCaddyfile, renderSite, withImportLine } from '../src/caddy/caddyfile';
import type { AppTarget } from '../src/model/target';
import { isWebHost } from '../src/model/fleet';
import { removeSiteFile } from '../src/freebsd/remove';
import { backupOnce, dirsExist, makeDirs, moveFile, readFile, removeFile, writeFileAtomic } from '../src/freebsd/files';
import { defaultInterface, interfaceCreate, interfaceExists, pfCheck, pfEnable, pfEnabled, pfLoad, renderPfBlock, withPfBlock } from '../src/freebsd/network';
import { pkgAllInstalled, pkgInstall } from '../src/freebsd/pkg';
import { hostFacts, hostFactsProblem, kldLoad, kldLoaded, parseHostFacts, serviceReload, serviceRunning, serviceStart } from '../src/freebsd/system';
import { baseFetched, extractBase, fetchBase, templateReady } from '../src/freebsd/template';
import { ensureHostsBlock } from '../src/freebsd/hosts';
import { hideJailsFromHostUsers } from '../src/freebsd/jailPrivacy';
import { buildJailSpec, converge, ensureFile, ensureJail, ensureSysrc, ensureSysrcWord, layoutOf, slotHost, slotHostsEntries } from './jails';
import { checkClaims } from './claims';
import { claimedSubnets, claimOf } from '../src/freebsd/claims';
import { precondition, withHeartbeat } from './remote';
import type { ActivityDeps } from './deps';
import { BUILD_PACKAGES } from '../src/freebsd/build';
import { stepResult, type StepResult } from '../src/model/step';

const verifyHost =
  (d: ActivityDeps) =>
  async (t: AppTarget): Promise<StepResult> => {
    const r = d.remote(t);
    const out = (await r.run(hostFacts(), 'verify host')).stdout;
    const problem = hostFactsProblem(t.server.host, out);
    if (problem) throw precondition(problem);
    const f = parseHostFacts(out)!;
    const { recorded } = await checkClaims(r, t, { record: true });
    return { changed: recorded, note: `FreeBSD ${f.release} ${f.arch}${recorded ? `; ${t.app} claims ${t.network.subnet} here` : ''}` };
  };

const enableJails =
  (d: ActivityDeps) =>
  async (t: AppTarget): Promise<StepResult> => {
    const r = d.remote(t);
    const changes: string[] = [];
    if (await ensureSysrc(r, 'jail_enable', 'YES')) changes.push('jail_enable=YES');
    const dirs = [JAIL_CONF_DIR, t.basePath];
    if (!(await r.ok(dirsExist(dirs), 'check jail directories'))) {
      await r.run(makeDirs(dirs), 'create jail directories');
      changes.push(`created ${dirs.join(', ')}`);
    }
    changes.push(...(await converge(r, 'hide the jails from host users', hideJailsFromHostUsers(t.basePath))));
    return stepResult(changes, 'jails already enabled');
  };

const setupJailNetwork =
  (d: ActivityDeps) =>
  async (t: AppTarget): Promise<StepResult> => {
    const r = d.remote(t);
    const { iface } = t.network;
    const changes: string[] = [];
    if (await ensureSysrcWord(r, 'cloned_interfaces', iface)) changes.push(`${iface} in cloned_interfaces`);
    if (!(await r.ok(interfaceExists(iface), `check ${iface}`))) {
      await r.run(interfaceCreate(iface), `create ${iface}`);
      changes.push(`created ${iface}`);
    }
    return stepResult(changes, `${iface} ready for ${t.network.subnet}`);
  };

const enableLinuxulator =
  (d: ActivityDeps) =>
  async (t: AppTarget): Promise<StepResult> => {
    const r = d.remote(t);
    const changes: string[] = [];
    if (await ensureSysrc(r, 'linux_enable', 'YES')) changes.push('linux_enable=YES');
    if (!(await r.ok(kldLoaded('linux64'), 'check linux64'))) {
      await r.run(kldLoad('linux64'), 'load linux64');
      changes.push('loaded linux64');
    }
    return stepResult(changes, 'Linux binary compatibility already on');
  };

const configurePf =
  (d: ActivityDeps) =>
  async (t: AppTarget): Promise<StepResult> => {
    const r = d.remote(t);
    // pf is a kernel module on GENERIC: pfctl needs /dev/pf (rc.d/pf loads it the same way)
    const changes: string[] = [];
    if (!(await r.ok(kldLoaded('pf'), 'check pf module'))) {
      await r.run(kldLoad('pf'), 'load pf');
      changes.push('loaded pf');
    }
    const extIf = (await r.run(defaultInterface(), 'find the default interface')).stdout.trim();
    if (!/^[a-z]+[0-9]+$/.test(extIf))
      throw precondition(`${t.server.host} has no default route (route -n get default), so jails cannot reach the network through NAT`);
    const current = await r.check(readFile(PF_CONF), 'read pf.conf');
    if (current.code !== 0 && current.code !== 3) throw precondition(`cannot read ${PF_CONF} on ${t.server.host}: ${current.stderr.trim()}`);
    const existing = current.code === 3 ? '' : current.stdout;
    const { claims } = await checkClaims(r, t, { record: false });
    const desired = withPfBlock(existing, renderPfBlock(extIf, claimedSubnets(claimOf(t), claims)));
    if (desired !== existing) {
      const candidate = `${PF_CONF}.alcaide-new`;
      await r.run(writeFileAtomic(candidate, '0600'), 'write pf.conf candidate', { stdin: desired });
      const check = await r.check(pfCheck(candidate), 'check pf.conf');
      if (check.code !== 0) {
        await r.check(removeFile(candidate), 'remove pf.conf candidate');
        throw precondition(`the pf.conf with alcaide's NAT block does not load (pfctl -nf): ${check.stderr.trim()}; ${PF_CONF} was left unchanged`);
      }
      await r.run(moveFile(candidate, PF_CONF), 'install pf.conf');
      changes.push(`NAT for ${t.network.subnet} via ${extIf} in ${PF_CONF}`);
    }
    if (await ensureSysrc(r, 'pf_enable', 'YES')) changes.push('pf_enable=YES');
    const enabled = await r.ok(pfEnabled(), 'check pf');
    // pfctl -f keeps existing states, so the SSH session survives (service pf start would flush them).
    if (!enabled) {
      await r.run(`${pfLoad(PF_CONF)} && ${pfEnable()}`, 'enable pf');
      changes.push('pf enabled');
    } else if (desired !== existing) {
      await r.run(pfLoad(PF_CONF), 'reload pf');
      changes.push('pf reloaded');
    }
    return stepResult(changes, 'pf NAT already in place');
  };

const prepareBaseTemplate =
  (d: ActivityDeps) =>
  async (t: AppTarget): Promise<StepResult> => {
    const r = d.remote(t);
    const l = layoutOf(t);
    if (await r.ok(templateReady(l), 'check base template')) return { changed: false, note: `${t.freebsdVersion} template ready` };
    if (!(await r.ok(baseFetched(l), 'check base.txz'))) {
      await withHeartbeat(() => r.run(fetchBase(l), `download ${t.freebsdVersion} base.txz`, { timeoutMs: 30 * 60_000 }));
    }
    await withHeartbeat(() => r.run(extractBase(l, t.freebsdVersion), 'extract base.txz', { timeoutMs: 15 * 60_000 }));
    return { changed: true, note: `extracted ${t.freebsdVersion} into ${l.templateDir}` };
  };

const setupCaddy =
  (d: ActivityDeps) =>
  async (t: AppTarget): Promise<StepResult> => {
    const r = d.remote(t);
    // no site on a host in no web role; one it served from before goes (its gates may point at a
    // slot a deploy there will stop)
    if (!isWebHost(t)) return stepResult(await converge(r, 'no site for the app', [removeSiteFile(t.app)]), `not a web host: no Caddy site for ${t.app}`);
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
    changes.push(...(await converge(r, `name the slots in ${HOSTS_FILE}`, [ensureHostsBlock(t.app, slotHostsEntries(t))])));
    const site = renderSite({
      app: t.app,
      domain: t.domain,
      slots: { blue: slotHost(t, 'blue'), green: slotHost(t, 'green') },
      port: t.appPort,
      proxyPorts: t.proxyPorts,
    });
    if (await ensureFile(r, siteFile(t.app), site, '0644', 'write site file')) changes.push(`site ${siteFile(t.app)}`);
    if (mainChanged || changes.some((c) => c.startsWith('site'))) {
      const valid = await r.check(caddyValidate(), 'validate the Caddyfile');
      if (valid.code !== 0) {
        const why = (valid.stderr || valid.stdout)
          .trim()
          .split('\n')
          .filter((l) => /error/i.test(l))
          .slice(-2)
          .join('; ');
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
    return stepResult(changes, 'Caddy running');
  };

const setupBuildJail =
  (d: ActivityDeps) =>
  async (t: AppTarget): Promise<StepResult> => {
    const r = d.remote(t);
    const l = layoutOf(t);
    const name = l.jailName('build');
    const changes = await ensureJail(r, l, buildJailSpec(t, 'build'), l.jailConf('build'));
    if (!(await r.ok(pkgAllInstalled(BUILD_PACKAGES, name), 'check build packages'))) {
      await withHeartbeat(() => r.run(pkgInstall(BUILD_PACKAGES, name), 'install build packages', { timeoutMs: 30 * 60_000 }));
      changes.push(`installed ${BUILD_PACKAGES.join(', ')}`);
    }
    return stepResult(changes, `${name} ready (${BUILD_PACKAGES.join(', ')})`);
  };

export function createSetupActivities(d: ActivityDeps) {
  return {
    verifyHost: verifyHost(d),
    enableJails: enableJails(d),
    setupJailNetwork: setupJailNetwork(d),
    enableLinuxulator: enableLinuxulator(d),
    configurePf: configurePf(d),
    prepareBaseTemplate: prepareBaseTemplate(d),
    setupCaddy: setupCaddy(d),
    setupBuildJail: setupBuildJail(d),
  };
}
