import { StreamInfo } from '@astral/contracts';
import type { NodePlayUrls } from '../placement/play-urls';
import { bitrateText, durationSince, plural, resolutionText } from './format';
import { Html, html, layout, scriptJson } from './html';
import { streamHref } from './streams-page';

/** A carrier on the stream page (a view model of the page, not a reply): its RTMP, HTTP-FLV and HLS URLs. */
export interface CarrierLink extends Pick<NodePlayUrls, 'rtmp' | 'flv' | 'hls' | 'llHls'> {
  nodeId: string;
  hops: number;
}

/** The player's modes (stream-player.js; `?player=<mode>` picks one for a load). */
const PLAYER_MODES = [
  ['flv', 'FLV (low latency)'],
  ['ll-hls', 'LL-HLS'],
  ['hls', 'HLS'],
] as const;

/** What the stream page's scripts read from its <script type="application/json" id="astral-play">. */
export interface StreamPageData {
  streamId: string;
  /** Where the viewer's own node's API is by default (loopback, the agent's default API port). */
  ownNodeApi: string;
}

/** The compact tree: the carriers level by level, hops 0 (the source) first. */
export function renderTree(carriers: readonly CarrierLink[]): Html {
  if (!carriers.length)
    return html`<p class="muted" id="stream-tree">No node carries this stream right now.</p>`;
  const levels = new Map<number, CarrierLink[]>();
  for (const c of carriers) levels.set(c.hops, [...(levels.get(c.hops) ?? []), c]);
  const rows = [...levels.entries()]
    .sort(([a], [b]) => a - b)
    .map(
      ([hops, nodes]) =>
        html`<li data-hops="${hops}">
          <span class="level">${hops === 0 ? 'source' : `hop ${hops}`}</span>
          <ul>
            ${nodes.map(
              (n) =>
                html`<li data-node-id="${n.nodeId}" title="${n.nodeId}">
                  <code>${n.nodeId.slice(0, 8)}</code>
                </li>`,
            )}
          </ul>
        </li>`,
    );
  return html`<ol class="tree" id="stream-tree">
    ${rows}
  </ol>`;
}

function player(stream: StreamInfo, data: StreamPageData): Html {
  if (stream.status === 'ended') return html`<p class="notice">This stream has ended.</p>`;
  return html`<div class="player">
      <video id="player" controls muted autoplay playsinline></video>
    </div>
    <p id="play-status" class="status" role="status" aria-live="polite">Loading the player…</p>
    <form id="play-mode-form" class="play-mode">
      <label
        >Player
        <select id="play-mode" name="player">
          ${PLAYER_MODES.map(([value, text]) => html`<option value="${value}">${text}</option>`)}
        </select>
      </label>
    </form>
    <dl class="facts player-facts">
      <div>
        <dt>Playing from</dt>
        <dd id="play-node">—</dd>
      </div>
      <div>
        <dt>Hops from the source</dt>
        <dd id="play-hops">—</dd>
      </div>
      <div>
        <dt>Behind the source</dt>
        <dd id="play-latency">—</dd>
      </div>
    </dl>
    <details class="own-node">
      <summary>Watch through your own node</summary>
      <form id="own-node" method="get">
        <label
          >Your node's API (on this machine)
          <input name="node" size="28" inputmode="url" placeholder="${data.ownNodeApi}" />
        </label>
        <button type="submit">Use</button>
        <button type="submit" name="node" value="off">Don't</button>
      </form>
      <p class="muted">
        The page asks your node to watch the stream and plays from it over loopback, which costs your uplink
        nothing; your node then serves others within its upload limit.
      </p>
    </details>
    <script type="application/json" id="astral-play">
      ${scriptJson(data)}
    </script>`;
}

export function renderStreamPage(
  stream: StreamInfo,
  carriers: CarrierLink[],
  ownNodeApi = 'http://127.0.0.1:7000',
  now = Date.now(),
): string {
  const playable = stream.status !== 'ended';
  return layout(
    stream.title,
    html`<h1>${stream.title}</h1>
      ${stream.description ? html`<p>${stream.description}</p>` : ''}
      ${player(stream, { streamId: stream.streamId, ownNodeApi })}
      <dl class="facts">
        <div>
          <dt>Status</dt>
          <dd><span class="badge ${stream.status}">${stream.status}</span></dd>
        </div>
        <div>
          <dt>Viewers</dt>
          <dd>${plural(stream.viewers, 'viewer')}</dd>
        </div>
        <div>
          <dt>Bit rate</dt>
          <dd>${bitrateText(stream.bitrateBps)}</dd>
        </div>
        <div>
          <dt>Resolution</dt>
          <dd>${resolutionText(stream.width, stream.height)}</dd>
        </div>
        ${
          stream.status === 'live'
            ? html`<div>
                <dt>Live for</dt>
                <dd>${durationSince(stream.startedAt, now)}</dd>
              </div>`
            : ''
        }
        <div>
          <dt>Stream id</dt>
          <dd><code>${stream.streamId}</code></dd>
        </div>
        <div>
          <dt>Source node</dt>
          <dd><code>${stream.sourceNodeId}</code></dd>
        </div>
      </dl>
      <section aria-labelledby="tree-h">
        <h2 id="tree-h">The stream's tree</h2>
        <p class="muted">
          ${plural(carriers.length, 'node')} carry it. The whole network, live:
          <a href="/network">network view</a>.
        </p>
        ${renderTree(carriers)}
      </section>
      ${
        playable
          ? html`<section aria-labelledby="elsewhere-h">
              <h2 id="elsewhere-h">Play in another player</h2>
              <p>
                <a href="${streamHref(stream.streamId)}/play.flv"
                  ><code>${streamHref(stream.streamId)}/play.flv</code></a
                >
                (HTTP-FLV on this directory; it redirects to a node with room, e.g. <code>ffplay</code> or
                VLC),
                <a href="${streamHref(stream.streamId)}/play.m3u8"
                  ><code>${streamHref(stream.streamId)}/play.m3u8</code></a
                >
                (HLS, for Safari, TVs and any HLS player) and
                <a href="${streamHref(stream.streamId)}/play.m3u8?ll=1"
                  ><code>${streamHref(stream.streamId)}/play.m3u8?ll=1</code></a
                >
                (Low-Latency HLS).
              </p>
              <ul class="links">
                ${carriers.map(
                  (p) =>
                    html`<li>
                      <code>${p.nodeId.slice(0, 8)}</code> (hops ${p.hops}): <code>${p.rtmp}</code> ·
                      <code>${p.flv}</code> · <code>${p.hls}</code> · <code>${p.llHls}</code>
                    </li>`,
                )}
              </ul>
            </section>`
          : ''
      }`,
    playable ? ['mpegts.js', 'own-node.js', 'stream-tree.js', 'stream-hls.js', 'stream-player.js'] : [],
  );
}
