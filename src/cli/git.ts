// The version to deploy: a commit of the project's git repository.
import { spawnSync } from 'node:child_process';
import { UserError } from '../errors';

function git(root: string, args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync('git', ['-C', root, ...args], { encoding: 'utf8' });
  if (r.error) throw new UserError(`cannot run git: ${r.error.message}`);
  return { code: r.status ?? 1, out: r.stdout.trim(), err: r.stderr.trim() };
}

export interface ResolvedVersion {
  sha: string;
  ref: string;
  dirty: boolean;
}

/** The commit of `ref` (HEAD by default); a dirty working tree is refused unless allowed. */
export function resolveVersion(root: string, ref = 'HEAD', allowDirty = false): ResolvedVersion {
  if (git(root, ['rev-parse', '--is-inside-work-tree']).code !== 0) {
    throw new UserError(`${root} is not a git repository: alcaide deploys a commit (git init, commit, then deploy)`, 2);
  }
  const rev = git(root, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  if (rev.code !== 0 || !/^[0-9a-f]{40}$/.test(rev.out)) throw new UserError(`--ref ${ref}: no such commit in ${root}`, 2);
  const status = git(root, ['status', '--porcelain', '--untracked-files=no']);
  const dirty = status.out.length > 0;
  if (dirty && !allowDirty && ref === 'HEAD') {
    throw new UserError(
      `the working tree has uncommitted changes; a deploy ships a commit, so they would not be deployed:\n${status.out.split('\n').slice(0, 10).map((l) => `    ${l}`).join('\n')}`,
      2,
      'commit them, or pass --allow-dirty to deploy HEAD without them',
    );
  }
  return { sha: rev.out, ref, dirty };
}
