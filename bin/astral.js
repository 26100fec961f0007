#!/usr/bin/env node
'use strict';
// Entry point of the `astral` CLI. Maps the @astral/* libraries onto the compiled tree, then runs the CLI.
const path = require('node:path');
const fs = require('node:fs');
const dist = path.join(__dirname, '..', 'dist');
const main = path.join(dist, 'apps', 'cli', 'src', 'main.js');
if (!fs.existsSync(main)) {
  console.error(
    'astral: the compiled code is missing (dist/). Run `npm install` (or `npm run build`) in ' +
      path.dirname(__dirname) +
      ' first.',
  );
  process.exit(1);
}
require('tsconfig-paths').register({
  baseUrl: dist,
  paths: { '@astral/*': ['libs/*/src'] },
  addMatchAll: false,
});
require(main);
