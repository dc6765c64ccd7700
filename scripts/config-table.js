// Regenerates the key table of docs/configuration.md from the deploy.yml schema (the keys'
// descriptions and defaults), between its markers. Run after `npm run build`;
// test/unit/config-docs.test.ts fails while the page differs.
const { readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const { withGeneratedTable } = require('../dist/src/config/docs');

const page = path.join(__dirname, '..', 'docs', 'configuration.md');
writeFileSync(page, withGeneratedTable(readFileSync(page, 'utf8')));
