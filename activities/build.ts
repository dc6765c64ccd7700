// What the deploy's build and the rebuild's test build share: the version check, the source's
// upload into a build jail, and the build script run under its fence.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ApplicationFailure } from '@temporalio/activity';
import { failure } from '../src/failures';
import { buildScript } from '../src/freebsd/build';
import { freebsdUploadCommands } from '../src/freebsd/files';
import { flightKey, singleFlight } from '../src/freebsd/flight';
import { jexec } from '../src/freebsd/jail';
import { sourceTarball } from '../src/freebsd/layout';
import type { StepResult } from '../src/model/step';
import { shortVersion, versionProblem, type AppTarget } from '../src/model/target';
import type { ExecResult } from '../src/ssh/connection';
import { uploadFile } from '../src/ssh/upload';
import { precondition, withHeartbeat, type Remote } from './remote';

/** A commit id as notes show it. */

/** The version names files and directories on the host: a commit id, nothing else. */
export function checkVersion(version: string): string {
  const problem = versionProblem(version);
  if (problem) throw precondition(problem);
  return version;
}

/**
 * A jail that is not running (the host is still booting after a reboot) is not the build's or
 * the migration's fault: retried, where their own failures are final.
 */
export function jailNotRunning(res: { stderr: string }, jail: string, host: string): ApplicationFailure | undefined {
  if (!/^jexec: jail "[^"]*" not found/m.test(res.stderr)) return undefined;
  return failure('JailNotRunning', `${jail} is not running on ${host} (still booting?)`);
}

/** The commit's source into the build jail whose root is `jailRoot` (skipped when already there). */
export async function uploadSourceTo(r: Remote, t: AppTarget, version: string, jailRoot: string): Promise<StepResult> {
  checkVersion(version);
  const remote = `${jailRoot}${sourceTarball(version)}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'alcaide-src-'));
  try {
    const local = path.join(dir, `${version}.tar`);
    return await withHeartbeat(async () => {
      const git = spawn('git', ['-C', t.projectRoot, 'archive', '--format=tar', version], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      git.stderr.on('data', (d) => (stderr += d));
      const exited = new Promise<number>((resolve) => git.on('close', (c) => resolve(c ?? 1)));
      await pipeline(git.stdout, createWriteStream(local));
      if ((await exited) !== 0) throw precondition(`git archive ${shortVersion(version)} failed in ${t.projectRoot}: ${stderr.trim()}`);
      let sent = 0;
      const res = await withHeartbeat(
        () => uploadFile(r.conn, local, remote, freebsdUploadCommands, { label: 'upload source', onProgress: (b) => (sent = b) }),
        () => ({ bytes: sent }),
      );
      const kib = Math.round(res.size / 1024);
      return {
        changed: !res.skipped,
        note: res.skipped ? `already on the host (${kib} KiB)` : `${kib} KiB${res.resumedFrom ? `, resumed at ${Math.round(res.resumedFrom / 1024)} KiB` : ''}`,
      };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the build script in a build jail; the exit code is the caller's to judge. */
export async function runBuild(r: Remote, t: AppTarget, name: string, version: string, label: string): Promise<ExecResult> {
  checkVersion(version);
  let lastLine = '';
  return withHeartbeat(
    () =>
      r.check(singleFlight(flightKey(name, 'build'), jexec(name, buildScript(t.app, t.release.name, version))), label, {
        timeoutMs: 45 * 60_000,
        onStdout: (d) => (lastLine = d.toString().trim().split('\n').pop() ?? lastLine),
      }),
    () => ({ last: lastLine }),
  );
}
