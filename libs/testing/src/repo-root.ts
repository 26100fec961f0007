import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cached: string | undefined;

/**
 * The repository root: the nearest ancestor of this file holding bin/astral.js and the astral
 * package.json. Works from the TypeScript sources (jest) and from dist/ alike.
 */
export function repoRoot(): string {
  if (cached) return cached;
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(join(dir, 'bin', 'astral.js')) && existsSync(pkg)) {
      const name = (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name;
      if (name === 'astral') return (cached = dir);
    }
    if (dirname(dir) === dir) throw new Error(`cannot find the astral repository root above ${__dirname}`);
  }
}

/** The CLI entry point, run with process.execPath. */
export function astralBin(): string {
  return join(repoRoot(), 'bin', 'astral.js');
}

/** The sample fixture: 12 s of H.264 + AAC at about 1 Mbit/s. */
export function sampleFlvPath(): string {
  return join(repoRoot(), 'fixtures', 'sample.flv');
}
