// The one place a vendor CLI is started: argv as it is (no shell), the operator's environment
// plus the call's, stdout and stderr captured, stdin left to the operator's terminal (a CLI that
// asks for a password or a biometric unlock does so itself).
import { spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import { UserError } from '../../errors';
import type { RunVaultCli, SecretAdapter } from './types';

const MAX_OUTPUT = 64 * 1024 * 1024;

export function vaultRunner(adapter: Pick<SecretAdapter, 'title' | 'docs'>, env: NodeJS.ProcessEnv = process.env): RunVaultCli {
  return ({ argv, env: extra }) => {
    const [file, ...args] = argv;
    const r = spawnSync(file!, args, { env: { ...env, ...extra }, stdio: ['inherit', 'pipe', 'pipe'], maxBuffer: MAX_OUTPUT, shell: false });
    if (r.error) {
      if ((r.error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new UserError(`${file} (the ${adapter.title} CLI) is not installed or not on PATH`, 1, `install it: ${adapter.docs}`);
      }
      throw new UserError(`${adapter.title}: could not run ${file}: ${r.error.message}`);
    }
    return { status: r.status ?? 128 + (r.signal ? constants.signals[r.signal] : 0), stdout: r.stdout, stderr: r.stderr.toString('utf8') };
  };
}
