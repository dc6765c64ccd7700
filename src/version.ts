import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DIST_DIR } from './distDir';

/** The package version, read once from package.json (beside dist/). */
export const VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(path.join(DIST_DIR, '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
})();
