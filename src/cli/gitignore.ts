// The project's .gitignore keeps the master key and local state out of git; the encrypted
// secrets files and the hooks (docs/hooks.md) may go in.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const GITIGNORE_LINES = ['.alcaide/*', '!.alcaide/secrets*.enc', '!.alcaide/hooks/'];

/** Appends the lines `dir/.gitignore` lacks (creating it); returns those it added. */
export function ensureGitignore(dir: string): string[] {
  const file = path.join(dir, '.gitignore');
  const have = existsSync(file) ? readFileSync(file, 'utf8').split('\n') : [];
  const missing = GITIGNORE_LINES.filter((l) => !have.includes(l));
  if (missing.length) {
    const lead = have.length && have[have.length - 1] !== '' ? '\n' : '';
    appendFileSync(file, `${lead}# alcaide: master key and local state stay out of git; encrypted secrets and hooks may go in\n${missing.join('\n')}\n`);
  }
  return missing;
}
