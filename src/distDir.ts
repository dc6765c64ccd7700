import path from 'node:path';

declare const ALCAIDE_BUNDLED: boolean | undefined;

/**
 * The built tree, dist/: this module runs either as dist/src/distDir.js or inlined into the CLI
 * bundle dist/alcaide.js (scripts/bundle-cli.js defines ALCAIDE_BUNDLED there).
 */
export const DIST_DIR = typeof ALCAIDE_BUNDLED !== 'undefined' ? __dirname : path.resolve(__dirname, '..');
