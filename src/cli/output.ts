import pc from 'picocolors';
import { UserError } from '../errors';
import { isErrorNamed } from '../temporal/describe';

// picocolors already honours NO_COLOR, FORCE_COLOR and non-TTY output (plain), and colours CI
// logs when CI is set.
export const color = pc;

export const mark = {
  ok: () => color.green('✓'),
  fail: () => color.red('✗'),
  warn: () => color.yellow('!'),
};

export function printError(e: unknown, verbose = false): number {
  if (e instanceof UserError) {
    process.stderr.write(`${color.red('error:')} ${e.message}\n`);
    if (e.hint) process.stderr.write(`${color.dim('hint:')} ${e.hint}\n`);
    return e.exitCode;
  }
  if (isErrorNamed(e, 'NamespaceNotFoundError')) {
    const ns = (e as { namespace?: string }).namespace ?? '';
    process.stderr.write(`${color.red('error:')} Temporal has no namespace '${ns}'\n`);
    process.stderr.write(
      `${color.dim('hint:')} set TEMPORAL_NAMESPACE or temporal.namespace in deploy.yml to one it has (temporal operator namespace list); the dev server has 'default'\n`,
    );
    return 1;
  }
  const err = e as Error;
  process.stderr.write(`${color.red('error:')} ${err?.message ?? String(e)}\n`);
  if (verbose && err?.stack) process.stderr.write(`${color.dim(err.stack)}\n`);
  else process.stderr.write(`${color.dim('(run with --verbose for details)')}\n`);
  return 1;
}
