import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The scripts the pages load from /assets/ (no CDN): mpegts.js from node_modules, and the stream page's player,
 * a plain browser script beside this file. `npm run build` (scripts/build.js) copies assets/ into dist/, which is
 * what `npx astral` and the container image run.
 */
const FILES = {
  'mpegts.js': () => require.resolve('mpegts.js/dist/mpegts.js'),
  'stream-player.js': () => join(__dirname, 'assets', 'stream-player.js'),
} as const;

export type PageAssetName = keyof typeof FILES;

const cache = new Map<PageAssetName, string>();

/** The text of an asset, read once per process. */
export function pageAsset(name: PageAssetName): string {
  let text = cache.get(name);
  if (text === undefined) {
    const path = FILES[name]();
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new Error(
        `the page asset ${name} is missing at ${path} (${(err as Error).message}): run \`npm run build\`, which copies apps/directory/src/pages/assets into dist/`,
        { cause: err },
      );
    }
    cache.set(name, text);
  }
  return text;
}
