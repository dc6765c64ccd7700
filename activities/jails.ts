// Shared by setup and deploy: idempotent file, rc.conf and jail helpers (check, then act).
import { createHash } from 'node:crypto';
import type { AppTarget } from '../src/config/target';
import { fileExists, fileHasSha256, makeDirs, moveFile, removeTree, writeFileAtomic } from '../src/freebsd/files';
import { cloneTemplate, copyResolvConf, jailEnableAtBoot, jailEnabledAtBoot, jailRunning, jailStart, renderJailConf, type JailSpec } from '../src/freebsd/jail';
import { layout, type Layout } from '../src/freebsd/layout';
import { sysrcAdd, sysrcHas, sysrcIs, sysrcSet } from '../src/freebsd/system';
import { TEMPLATE_MARKER } from '../src/freebsd/template';
import { withHeartbeat, type Remote } from './remote';

export function layoutOf(t: AppTarget): Layout {
  return layout({ app: t.app, basePath: t.basePath, freebsdVersion: t.freebsdVersion });
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Writes a file only when its content differs (compared by sha256 on the host). */
export async function ensureFile(r: Remote, path: string, content: string, mode: string, label: string): Promise<boolean> {
  if (await r.ok(fileHasSha256(path, sha256(content)), `${label}: check`)) return false;
  await r.run(writeFileAtomic(path, mode), label, { stdin: content });
  return true;
}

/** The build jail (and, during a rebuild, its successor build_next): same parameters, own name, path and address. */
export function buildJailSpec(t: AppTarget, role: 'build' | 'build_next'): JailSpec {
  const l = layoutOf(t);
  const path = l.jailPath(role);
  return {
    name: l.jailName(role),
    path,
    hostname: l.jailName(role),
    iface: t.network.iface,
    ip: role === 'build' ? t.network.build : t.network.buildNext,
    params: { 'allow.raw_sockets': true },
    // Linux binaries some asset tool chains ship (Tailwind's standalone CLI) need these.
    mounts: [`linprocfs ${path}/compat/linux/proc linprocfs rw 0 0`, `linsysfs ${path}/compat/linux/sys linsysfs rw 0 0`],
  };
}

/** Sets rc.conf NAME=VALUE unless it already is (`file`: another rc.conf, e.g. a jail's). */
export async function ensureSysrc(r: Remote, name: string, value: string, file?: string): Promise<boolean> {
  if (await r.ok(sysrcIs(name, value, file), `check ${name}`)) return false;
  await r.run(sysrcSet(name, value, file), `set ${name}`);
  return true;
}

export async function ensureSysrcWord(r: Remote, name: string, word: string): Promise<boolean> {
  if (await r.ok(sysrcHas(name, word), `check ${name}`)) return false;
  await r.run(sysrcAdd(name, word), `add ${word} to ${name}`);
  return true;
}


/** A jail cloned from the template (atomically: temp dir, marker, rename), configured, running, started at boot. */
export async function ensureJail(r: Remote, l: Layout, spec: JailSpec, conf: string, o: { atBoot?: boolean } = {}): Promise<string[]> {
  const changes: string[] = [];
  if (await ensureFile(r, conf, renderJailConf(spec), '0644', `write ${conf}`)) changes.push(`wrote ${conf}`);
  if (!(await r.ok(fileExists(`${spec.path}/${TEMPLATE_MARKER}`), `check ${spec.name} root`))) {
    const tmp = `${spec.path}.tmp`;
    await r.run(removeTree(tmp), `clean ${spec.name} root`);
    // mount points of the jail's fstab lines must exist before it starts
    const mountPoints = (spec.mounts ?? []).map((m) => m.split(/\s+/)[1]!.replace(spec.path, tmp));
    const mkdirs = mountPoints.length ? ` && ${makeDirs(mountPoints)}` : '';
    await withHeartbeat(() => r.run(`${cloneTemplate(l.templateDir, tmp)}${mkdirs} && ${moveFile(tmp, spec.path)}`, `create ${spec.name} root`, { timeoutMs: 15 * 60_000 }));
    changes.push(`created ${spec.path}`);
  }
  if (changes.length) await r.run(copyResolvConf(spec.path), `resolv.conf into ${spec.name}`);
  if (!(await r.ok(jailRunning(spec.name), `check ${spec.name}`))) {
    await r.run(jailStart(spec.name, conf), `start jail ${spec.name}`);
    changes.push(`started ${spec.name}`);
  }
  if (o.atBoot !== false && !(await r.ok(jailEnabledAtBoot(spec.name), `check ${spec.name} at boot`))) {
    await r.run(jailEnableAtBoot(spec.name), `start ${spec.name} at boot`);
    changes.push(`${spec.name} starts at boot`);
  }
  return changes;
}

