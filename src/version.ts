import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The package version, read once from package.json (two levels above dist/src). */
export const VERSION: string = (() => {
  for (const rel of ['../../package.json', '../package.json']) {
    try {
      return (JSON.parse(readFileSync(path.join(__dirname, rel), 'utf8')) as { version: string }).version;
    } catch {
      /* try the next location */
    }
  }
  return '0.0.0';
})();
