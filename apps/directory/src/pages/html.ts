import { NodeInfo, StreamInfo, StreamPage } from '@astral/contracts';
import { formatBitrate, urlHost } from '@astral/config';

/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(value: string | number | boolean | null | undefined): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A template tag that escapes every interpolated value unless it is already `Html`. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0];
  values.forEach((v, i) => {
    const part = Array.isArray(v) ? v.map(piece).join('') : piece(v);
    out += part + strings[i + 1];
  });
  return new Html(out);
}

function piece(v: unknown): string {
  if (v instanceof Html) return v.text;
  if (
    v === null ||
    v === undefined ||
    typeof v === 'string' ||
    typeof v === 'number' ||
    typeof v === 'boolean'
  ) {
    return escapeHtml(v);
  }
  throw new TypeError(`cannot render a ${typeof v} into HTML`);
}

function layout(title: string, body: Html): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · Astral</title>
        <style>
          body {
            font-family: system-ui, sans-serif;
            margin: 2rem;
            max-width: 60rem;
          }
          table {
            border-collapse: collapse;
          }
          td,
          th {
            padding: 0.25rem 0.75rem;
            text-align: left;
            border-bottom: 1px solid #ddd;
          }
          code {
            word-break: break-all;
          }
        </style>
      </head>
      <body>
        <nav><a href="/">Streams</a> · <a href="/nodes">Nodes</a></nav>
        ${body}
      </body>
    </html> `.text;
}

/** A carrier's links on the stream page (a view model of the page, not a reply): its RTMP and HTTP-FLV URLs. */
export interface CarrierLink {
  nodeId: string;
  hops: number;
  rtmp: string;
  flv: string;
}

export function renderStreamsPage(page: StreamPage, q: string): string {
  const rows = page.items.map(
    (s) =>
      html`<tr>
        <td><a href="/streams/${encodeURIComponent(s.streamId)}">${s.title}</a></td>
        <td>${s.status}</td>
        <td>${s.createdAt}</td>
      </tr>`,
  );
  return layout(
    'Streams',
    html`<h1>Streams</h1>
      <form method="get" action="/">
        <input type="search" name="q" value="${q}" placeholder="Search titles" maxlength="200" />
        <button type="submit">Search</button>
      </form>
      <p>${page.total} stream(s)</p>
      ${
        rows.length
          ? html`<table>
              <thead>
                <tr>
                  <th>Title</th>
                  <th>Status</th>
                  <th>Created</th>
                </tr>
              </thead>
              <tbody>
                ${rows}
              </tbody>
            </table>`
          : html`<p>No streams.</p>`
      }`,
  );
}

/**
 * JSON inside a <script type="application/json"> element, the page's data for its player script
 * (assets/stream-player.js): `<` is escaped so no `</script>` can close it early, U+2028/U+2029 for old parsers.
 */
function scriptJson(value: unknown): Html {
  return new Html(
    JSON.stringify(value)
      .replace(/</g, '\\u003c')
      .replace(/\u2028/g, '\\u2028')
      .replace(/\u2029/g, '\\u2029'),
  );
}

export function renderStreamPage(stream: StreamInfo, carriers: CarrierLink[]): string {
  const items = carriers.map(
    (p) =>
      html`<li>
        node <code>${p.nodeId}</code> (hops ${p.hops}): <a href="${p.rtmp}"><code>${p.rtmp}</code></a> ·
        <a href="${p.flv}"><code>${p.flv}</code></a>
      </li>`,
  );
  const player =
    stream.status === 'ended'
      ? html`<p>This stream has ended.</p>`
      : html`<video id="player" controls muted autoplay playsinline width="640"></video>
          <p id="play-status">Loading the player…</p>
          <form id="local-node" method="get">
            <label>Your node's HTTP-FLV base <input name="node" size="30" /></label>
            <button type="submit">Use</button>
          </form>
          <script type="application/json" id="astral-play">
            ${scriptJson({ streamId: stream.streamId, carriers: carriers.map((p) => ({ nodeId: p.nodeId, hops: p.hops, flv: p.flv })) })}
          </script>
          <script src="/assets/mpegts.js"></script>
          <script src="/assets/stream-player.js"></script>`;
  return layout(
    stream.title,
    html`<h1>${stream.title}</h1>
      <p>${stream.description}</p>
      ${player}
      <dl>
        <dt>Stream id</dt>
        <dd><code>${stream.streamId}</code></dd>
        <dt>Status</dt>
        <dd>${stream.status}</dd>
        <dt>Source node</dt>
        <dd><code>${stream.sourceNodeId}</code></dd>
        <dt>Bit rate</dt>
        <dd>${formatBitrate(stream.bitrateBps)}</dd>
      </dl>
      <h2>Play elsewhere</h2>
      ${
        items.length
          ? html`<ul>
              ${items}
            </ul>`
          : html`<p>No node carries this stream right now.</p>`
      }`,
  );
}

export function renderNodesPage(nodes: NodeInfo[]): string {
  const rows = nodes.map(
    (n) =>
      html`<tr>
        <td><code>${n.nodeId}</code></td>
        <td>${n.host}</td>
        <td>${n.rtmpPort}</td>
        <td>${n.httpPort}</td>
        <td>${n.forwardPort}</td>
        <td>${n.supernode ? `yes (${n.childCount}/${n.maxChildren ?? '∞'})` : 'no'}</td>
        <td>${formatBitrate(n.uploadLimitBps)}</td>
        <td>${n.version}</td>
        <td>${n.lastSeenAt}</td>
      </tr>`,
  );
  return layout(
    'Nodes',
    html`<h1>Nodes</h1>
      ${
        rows.length
          ? html`<table>
              <thead>
                <tr>
                  <th>Node</th>
                  <th>Host</th>
                  <th>RTMP</th>
                  <th>HTTP</th>
                  <th>Forward</th>
                  <th>Supernode</th>
                  <th>Upload limit</th>
                  <th>Version</th>
                  <th>Last seen</th>
                </tr>
              </thead>
              <tbody>
                ${rows}
              </tbody>
            </table>`
          : html`<p>No nodes.</p>`
      }`,
  );
}

export function playUrls(
  streamId: string,
  node: { host: string; rtmpPort: number; httpPort: number },
): { rtmp: string; flv: string } {
  const host = urlHost(node.host);
  const id = encodeURIComponent(streamId);
  return {
    rtmp: `rtmp://${host}:${node.rtmpPort}/live/${id}`,
    flv: `http://${host}:${node.httpPort}/live/${id}.flv`,
  };
}
