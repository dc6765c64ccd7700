// Bundles the workflow code once at build time so a CLI-embedded worker starts in
// milliseconds instead of re-running webpack on every command.
const { bundleWorkflowCode } = require('@temporalio/worker');
const { writeFileSync } = require('node:fs');
const path = require('node:path');

async function main() {
  const dist = path.join(__dirname, '..', 'dist');
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.join(dist, 'workflows'),
    // failure messages as encoded attributes, so the payload codec encrypts them too
    failureConverterPath: path.join(dist, 'src', 'temporal', 'failureConverter.js'),
    logger: { info() {}, debug() {}, trace() {}, log() {}, warn: console.warn, error: console.error },
  });
  writeFileSync(path.join(dist, 'workflow-bundle.js'), code);
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
