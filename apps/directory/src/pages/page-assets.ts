import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The files the pages load from /assets/ (no CDN): mpegts.js and hls.js from node_modules (hls.js only once a
 * viewer picks an HLS player: stream-hls.js adds it), and the pages' own plain browser scripts and stylesheet
 * beside this file. `npm run build` (scripts/build.js) copies assets/ into dist/, which is
 * what `npx astral` and the container image run.
 */
const beside = (name: string) => (): string => join(__dirname, 'assets', name);
const FILES = {
  'mpegts.js': () => require.resolve('mpegts.js/dist/mpegts.js'),
  'hls.js': () => require.resolve('hls.js/dist/hls.min.js'),
  'pages.css': beside('pages.css'),
  'stream-list.js': beside('stream-list.js'),
  'own-node.js': beside('own-node.js'),
  'stream-tree.js': beside('stream-tree.js'),
  'stream-hls.js': beside('stream-hls.js'),
  'stream-player.js': beside('stream-player.js'),
} as const;

export type PageAssetName = keyof typeof FILES;

export function isPageAsset(name: string): name is PageAssetName {
  return Object.prototype.hasOwnProperty.call(FILES, name);
}

/** The Content-Type of an asset, by its extension. */
export function pageAssetType(name: PageAssetName): string {
  return name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8';
}

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

/**
 * The pages' Content-Security-Policy: scripts, styles and images from this directory only (no inline code,
 * mpegts.js and hls.js included; hls.js runs without its blob: worker), media from the player's MediaSource (blob:)
 * or, for the browser's own HLS (iOS Safari), from any node, and fetches to any node, since the player streams
 * HTTP-FLV or HLS from whichever node the placement names and asks the viewer's own node on loopback.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "media-src 'self' blob: http: https:",
  "connect-src 'self' http: https: ws: wss:",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');
