#!/usr/bin/env node
'use strict';
// `npm run build`: tsc -p tsconfig.build.json through the TypeScript API, plus the two things plain tsc does not do:
//  1. OpenAPI metadata (scripts/build/openapi-metadata.js): the @nestjs/swagger CLI plugin's findings about the
//     contracts' classes, written to libs/contracts/src/openapi/plugin-metadata.ts (committed) before the emit.
//  2. Browser assets (scripts/build/assets.js): apps/*/src/**/assets/ (plain .js, served as they are) are copied
//     into dist/.
// `node scripts/build.js --check-openapi` only checks that the committed metadata file is current (exit 1 if not).
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');
const { openApiMetadata } = require('./build/openapi-metadata');
const { copyAssets } = require('./build/assets');

const ROOT = path.join(__dirname, '..');
const TSCONFIG = path.join(ROOT, 'tsconfig.build.json');
const CHECK_ONLY = process.argv.includes('--check-openapi');

const formatHost = {
  getCanonicalFileName: (f) => f,
  getCurrentDirectory: () => ROOT,
  getNewLine: () => ts.sys.newLine,
};

function readConfig() {
  const parsed = ts.getParsedCommandLineOfConfigFile(TSCONFIG, undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.formatDiagnostics([d], formatHost));
    },
  });
  if (parsed.errors.length) throw new Error(ts.formatDiagnostics(parsed.errors, formatHost));
  return parsed;
}

function report(diagnostics) {
  if (!diagnostics.length) return;
  const format = process.stdout.isTTY ? ts.formatDiagnosticsWithColorAndContext : ts.formatDiagnostics;
  process.stdout.write(format(diagnostics, formatHost) + '\n');
}

async function main() {
  const config = readConfig();
  let program = ts.createProgram({ rootNames: config.fileNames, options: config.options });
  const { target, text } = await openApiMetadata(program);
  const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : undefined;
  const stale = current !== text;
  if (CHECK_ONLY) {
    if (stale) {
      console.error(
        `OpenAPI metadata out of date: ${path.relative(ROOT, target)}. Run \`npm run build\` and commit the result.`,
      );
      process.exit(1);
    }
    return;
  }
  if (stale) {
    fs.writeFileSync(target, text);
    console.log(`build: wrote ${path.relative(ROOT, target)}`);
    program = ts.createProgram({ rootNames: config.fileNames, options: config.options, oldProgram: program });
  }
  const diagnostics = [...ts.getPreEmitDiagnostics(program)];
  const emitted = program.emit();
  diagnostics.push(...emitted.diagnostics);
  report(diagnostics);

  copyAssets(config.options.outDir);
  if (diagnostics.some((d) => d.category === ts.DiagnosticCategory.Error)) process.exit(1);
}

main().catch((err) => {
  console.error(`build failed: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
