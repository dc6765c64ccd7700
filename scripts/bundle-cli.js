// Bundles the CLI and the Temporal client it uses into dist/alcaide.js: one file for Node to
// read and one V8 code cache (bin/alcaide), instead of ~600 modules resolved and compiled on
// every command. The worker side (Temporal's worker and activity packages, the activities)
// and the SSH side (src/host, ssh2 with its native crypto) stay outside, required from dist/
// and node_modules/ as built, and only when a command runs a worker or talks SSH.
const esbuild = require('esbuild');
const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');

const dist = path.join(__dirname, '..', 'dist');
const WORKER_SIDE = [path.join(dist, 'activities'), path.join(dist, 'src', 'temporal', 'worker'), path.join(dist, 'src', 'host')];

const workerSideExternal = {
  name: 'worker-side-external',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      const abs = path.resolve(args.resolveDir, args.path);
      if (!WORKER_SIDE.some((p) => abs === p || abs.startsWith(p + path.sep))) return undefined;
      // required at run time relative to dist/alcaide.js
      return { path: './' + path.relative(dist, abs).split(path.sep).join('/'), external: true };
    });
  },
};

esbuild
  .build({
    entryPoints: [path.join(dist, 'src', 'cli', 'main.js')],
    outfile: path.join(dist, 'alcaide.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['@temporalio/worker', '@temporalio/activity', 'ssh2', '*.node'],
    define: { ALCAIDE_BUNDLED: 'true' },
    plugins: [workerSideExternal],
    logLevel: 'warning',
  })
  .then(finish, () => process.exit(1));

// The bundle as bin/alcaide compiles it:
// - esbuild escapes what is not ASCII in code (charset: ascii) but keeps comments as written: a
//   few of the dependencies' comments would make the whole bundle a two-byte string for V8
//   (twice the memory, and reading it as UTF-8 takes three times as long at every start).
//   Escaped, they read the same; in a comment the escape is only text.
// - inside Node's module wrapper already, so no 5.5 MB string is joined at every start.
function finish() {
  const out = path.join(dist, 'alcaide.js');
  const code = fs.readFileSync(out, 'utf8');
  const ascii = code.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  fs.writeFileSync(out, Module.wrap(ascii));
}
