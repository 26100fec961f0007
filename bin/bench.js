#!/usr/bin/env node
'use strict';
// Entry point of the benchmarks (`npm run bench -- <scenario> …`): maps @astral/* onto the compiled tree, then runs bench/main.
const path = require('node:path');
const fs = require('node:fs');
const dist = path.join(__dirname, '..', 'dist');
const main = path.join(dist, 'bench', 'main.js');
if (!fs.existsSync(main)) {
  console.error('bench: the compiled code is missing (dist/). Run `npm run build` first.');
  process.exit(1);
}
require('tsconfig-paths').register({ baseUrl: dist, paths: { '@astral/*': ['libs/*/src'] }, addMatchAll: false });
require(main);
