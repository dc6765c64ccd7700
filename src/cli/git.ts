// The version to deploy: a commit of the project's git repository.
import { execFile, spawnSync } from 'node:child_process';
import { UserError } from '../errors';
import { GITIGNORE_LINES } from './gitignore';

interface GitResult {
  code: number;
  out: string;
  err: string;
}

function git(root: string, args: string[]): GitResult {
  const r = spawnSync('git', ['-C', root, ...args], { encoding: 'utf8' });
  if (r.error) throw new UserError(`cannot run git: ${r.error.message}`);
  return { code: r.status ?? 1, out: r.stdout.trim(), err: r.stderr.trim() };
}

/** git without blocking: `deploy` connects to Temporal meanwhile. */
function gitAsync(root: string, args: string[]): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile('git', ['-C', root, ...args], { encoding: 'utf8', maxBuffer: 1024 * 1024 }, (error, stdout, stderr) => {
      // a number is git's exit status; anything else (ENOENT, output too large) means git did not run to the end
      if (error && typeof error.code !== 'number') reject(new UserError(`cannot run git: ${error.message}`));
      else resolve({ code: error ? (error.code as number) : 0, out: stdout.trim(), err: stderr.trim() });
    });
  });
}

export interface ResolvedVersion {
  sha: string;
  ref: string;
  dirty: boolean;
}

/**
 * The commit of `ref` (HEAD by default); a dirty working tree is refused unless allowed. The
 * git commands that do not depend on each other run side by side; their answers are judged in
 * this order, so the first problem is the one reported.
 */
export async function resolveVersion(root: string, ref = 'HEAD', allowDirty = false): Promise<ResolvedVersion> {
  const [revParse, tracked, status] = await Promise.all([
    // one process: "true" or "false" (a repository's .git) when in a repository, then the commit
    gitAsync(root, ['rev-parse', '--is-inside-work-tree', '--verify', '--quiet', `${ref}^{commit}`]),
    gitAsync(root, ['ls-files', '--', MASTER_KEY_FILE]),
    gitAsync(root, ['status', '--porcelain', '--untracked-files=no']),
  ]);
  const [inside, sha = ''] = revParse.out.split('\n');
  if (!inside) throw new UserError(`${root} is not a git repository: alcaide deploys a commit (git init, commit, then deploy)`, 2);
  if (revParse.code !== 0 || !/^[0-9a-f]{40}$/.test(sha)) throw new UserError(`--ref ${ref}: no such commit in ${root}`, 2);
  const committed = await gitAsync(root, ['ls-tree', '--name-only', sha, '--', MASTER_KEY_FILE]);
  refuseTrackedMasterKey(sha, tracked, committed);
  const dirty = status.out.length > 0;
  if (dirty && !allowDirty && ref === 'HEAD') {
    throw new UserError(
      `the working tree has uncommitted changes; a deploy ships a commit, so they would not be deployed:\n${status.out
        .split('\n')
        .slice(0, 10)
        .map((l) => `    ${l}`)
        .join('\n')}`,
      2,
      'commit them, or pass --allow-dirty to deploy HEAD without them',
    );
  }
  return { sha, ref, dirty };
}

const MASTER_KEY_FILE = '.alcaide/master.key';

/**
 * The master key never goes into git: anyone with the repository could decrypt the secrets,
 * and the deploy's `git archive` of a commit that holds it would ship it to the server.
 */
function refuseTrackedMasterKey(sha: string, lsFiles: GitResult, lsTree: GitResult): void {
  // paths are relative to the project directory (-C), which may sit below the repository's top
  const where = [...(lsFiles.out ? ['tracked by git'] : []), ...(lsTree.out ? [`in commit ${sha.slice(0, 12)}`] : [])];
  if (!where.length) return;
  throw new UserError(
    `${MASTER_KEY_FILE} is ${where.join(' and ')}: whoever has the repository can decrypt the secrets, and the deploy would upload the key with the source`,
    2,
    `git rm --cached ${MASTER_KEY_FILE}, add ${GITIGNORE_LINES.join(' and ')} to .gitignore (\`alcaide secrets init\` does), commit; the key stays in the git history, so change the secret values it protected`,
  );
}

/** The commit `ref` names in the project's repository, if it names one (no checks: `rollback --to` reads only the name). */
export function commitOf(root: string, ref: string): string | undefined {
  if (ref.startsWith('-')) return undefined;
  const rev = git(root, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  return rev.code === 0 && /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(rev.out) ? rev.out : undefined;
}
