'use strict';
// The asset half of `npm run build` (scripts/build.js): browser assets under apps/*/src/**/assets/ are plain .js,
// served as they are, and tsc does not copy .js files, so they are copied into dist/ as they are.
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..', '..');
/** Asset directories copied as they are (relative to ROOT, mirrored under outDir). */
const ASSET_DIRS = ['apps/directory/src/pages/assets'];

/** Copies every asset directory into outDir, at the same path relative to the repository root. */
function copyAssets(outDir) {
  for (const dir of ASSET_DIRS) {
    fs.cpSync(path.join(ROOT, dir), path.join(outDir, dir), { recursive: true });
  }
}

module.exports = { copyAssets };
