import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { NETWORK_SOCKET_PATH } from '@astral/contracts';
import { Html, html } from '../pages/html';

/**
 * The network view's two scripts, served from /assets/ (no CDN) like the other pages' (pages/page-assets.ts):
 * cytoscape's browser build from node_modules, and the page's own script beside the other page assets, which
 * `npm run build` copies into dist/.
 */
const NETWORK_ASSETS = {
  'cytoscape.min.js': () => require.resolve('cytoscape/dist/cytoscape.min.js'),
  'network-view.js': () => join(__dirname, '..', 'pages', 'assets', 'network-view.js'),
} as const;

export type NetworkAssetName = keyof typeof NETWORK_ASSETS;

const assetCache = new Map<NetworkAssetName, string>();

/** The text of a network view asset, read once per process. */
export function networkAsset(name: NetworkAssetName): string {
  let text = assetCache.get(name);
  if (text === undefined) {
    const path = NETWORK_ASSETS[name]();
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new Error(
        `the network view asset ${name} is missing at ${path} (${(err as Error).message}): run \`npm ci\` (cytoscape) and \`npm run build\` (copies the page assets into dist/)`,
        { cause: err },
      );
    }
    assetCache.set(name, text);
  }
  return text;
}

/**
 * The page's shell: the graph's box, the text counts and legend (which the script fills in, and which screen
 * readers and tests read), and the socket's path for the script. Everything live arrives over the WebSocket.
 */
export function renderNetworkPage(): string {
  // Constants only (no user text, no `<`), so the JSON is safe inside <script type="application/json">.
  const config = JSON.stringify({ socketPath: NETWORK_SOCKET_PATH });
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>Network · Astral</title>
        <link rel="icon" href="data:," />
        <style>
          body {
            font-family: system-ui, sans-serif;
            margin: 2rem;
          }
          #network-graph {
            width: 100%;
            height: 70vh;
            min-height: 24rem;
            border: 1px solid #ccc;
            border-radius: 4px;
            background: #fafafa;
          }
          #network-counts {
            display: flex;
            gap: 1.5rem;
            margin: 0.5rem 0;
          }
          #network-counts div {
            display: flex;
            gap: 0.35rem;
          }
          #network-counts dd {
            margin: 0;
            font-weight: bold;
          }
          #network-legend {
            display: flex;
            flex-wrap: wrap;
            gap: 0.5rem 1.5rem;
            padding: 0;
            list-style: none;
            font-size: 0.9rem;
          }
          .swatch {
            display: inline-block;
            width: 1.6rem;
            height: 0.8rem;
            margin-right: 0.35rem;
            vertical-align: middle;
          }
          .swatch.node {
            background: #6c8ebf;
            border-radius: 50%;
            width: 0.8rem;
          }
          .swatch.supernode {
            background: #d79b00;
            width: 0.8rem;
            transform: rotate(45deg);
          }
          .swatch.stream {
            background: #fff;
            border: 2px solid #333;
            border-radius: 3px;
          }
          .swatch.membership {
            height: 0;
            border-top: 2px dashed #999;
          }
          .swatch.forward {
            height: 0;
            border-top: 3px solid currentColor;
          }
          #network-status[data-state='live'] {
            color: #2e7d32;
          }
          #network-status[data-state='down'] {
            color: #c62828;
          }
        </style>
      </head>
      <body>
        <nav><a href="/">Streams</a> · <a href="/nodes">Nodes</a> · <a href="/network">Network</a></nav>
        <h1>Network</h1>
        <p id="network-status" role="status" aria-live="polite" data-state="connecting">Connecting…</p>
        <dl id="network-counts" aria-label="Network counts">
          <div>
            <dt>Nodes</dt>
            <dd data-count="nodes">–</dd>
          </div>
          <div>
            <dt>Supernodes</dt>
            <dd data-count="supernodes">–</dd>
          </div>
          <div>
            <dt>Streams</dt>
            <dd data-count="streams">–</dd>
          </div>
          <div>
            <dt>Forwards</dt>
            <dd data-count="forwards">–</dd>
          </div>
          <div>
            <dt>Memberships</dt>
            <dd data-count="memberships">–</dd>
          </div>
        </dl>
        <ul id="network-legend" aria-label="Legend">
          <li><span class="swatch node"></span>node (short id, upload / limit)</li>
          <li><span class="swatch supernode"></span>supernode</li>
          <li><span class="swatch stream"></span>stream (title, viewers), linked to its source</li>
          <li><span class="swatch membership"></span>member of a supernode</li>
          <li>
            <span class="swatch forward"></span>forward ticket, upstream → downstream, one colour per stream
          </li>
        </ul>
        <ul id="network-streams" aria-label="Streams by colour"></ul>
        <div
          id="network-graph"
          role="img"
          aria-label="Graph of nodes, supernodes, streams and forwards"
        ></div>
        <script type="application/json" id="astral-network">
          ${new Html(config)}
        </script>
        <script src="/assets/cytoscape.min.js"></script>
        <script src="/assets/network-view.js"></script>
      </body>
    </html> `.text;
}

/** GET /network and its two scripts. */
@ApiExcludeController()
@Controller()
export class NetworkPageController {
  @Get('network')
  @Header('Content-Type', 'text/html; charset=utf-8')
  page(): string {
    return renderNetworkPage();
  }

  /** cytoscape's browser build from node_modules (no CDN). */
  @Get('assets/cytoscape.min.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=3600')
  cytoscape(): string {
    return networkAsset('cytoscape.min.js');
  }

  /** The network view's script (pages/assets/network-view.js). */
  @Get('assets/network-view.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=3600')
  script(): string {
    return networkAsset('network-view.js');
  }
}
