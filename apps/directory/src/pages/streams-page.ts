import { StreamInfo, StreamPage } from '@astral/contracts';
import { bitrateText, durationSince, plural, resolutionText } from './format';
import { Html, html, layout } from './html';

/** The URL of a stream's page and of its preview image. */
export const streamHref = (streamId: string): string => `/streams/${encodeURIComponent(streamId)}`;
export const previewHref = (streamId: string): string => `${streamHref(streamId)}/preview.jpg`;

/** One live stream as a card: its preview (or a placeholder), title and what the directory knows of it. */
function liveCard(s: StreamInfo, now: number): Html {
  const preview = s.hasPreview
    ? html`<img
        class="preview"
        src="${previewHref(s.streamId)}"
        data-preview="${previewHref(s.streamId)}"
        alt="A recent frame of ${s.title}"
        width="320"
        height="180"
      />`
    : html`<div class="preview placeholder" role="img" aria-label="No preview yet">
        <span aria-hidden="true">▶</span>
      </div>`;
  return html`<li class="card" data-stream-id="${s.streamId}">
    <a href="${streamHref(s.streamId)}">
      ${preview}
      <span class="badge live">Live</span>
      <h3>${s.title}</h3>
    </a>
    <p class="facts">
      <span class="viewers" data-viewers="${s.viewers}">${plural(s.viewers, 'viewer')}</span>
      <span class="bitrate" data-bitrate-bps="${s.bitrateBps ?? ''}">${bitrateText(s.bitrateBps)}</span>
      <span class="resolution">${resolutionText(s.width, s.height)}</span>
      <span class="uptime">live ${durationSince(s.startedAt, now)}</span>
    </p>
  </li>`;
}

function otherRow(s: StreamInfo): Html {
  return html`<tr data-stream-id="${s.streamId}">
    <td><a href="${streamHref(s.streamId)}">${s.title}</a></td>
    <td><span class="badge ${s.status}">${s.status}</span></td>
    <td><time datetime="${s.createdAt}">${s.createdAt.slice(0, 16).replace('T', ' ')}</time></td>
  </tr>`;
}

/** The stream list: live streams as cards with previews, the rest (created, ended) in a table below. */
export function renderStreamsPage(page: StreamPage, q: string, now = Date.now()): string {
  const live = page.items.filter((s) => s.status === 'live');
  const other = page.items.filter((s) => s.status !== 'live');
  const refreshes = live.some((s) => s.hasPreview);
  return layout(
    'Streams',
    html`<h1>Streams</h1>
      <form class="search" method="get" action="/" role="search">
        <label class="sr-only" for="q">Search titles</label>
        <input id="q" type="search" name="q" value="${q}" placeholder="Search titles" maxlength="200" />
        <button type="submit">Search</button>
      </form>
      <p class="muted">${plural(page.total, 'stream')}${q ? html` matching “${q}”` : ''}</p>
      <section aria-labelledby="live-h">
        <h2 id="live-h">Live now</h2>
        ${
          live.length
            ? html`<ul class="cards">
                ${live.map((s) => liveCard(s, now))}
              </ul>`
            : html`<p class="muted">No stream is live.</p>`
        }
      </section>
      ${
        other.length
          ? html`<section aria-labelledby="other-h">
              <h2 id="other-h">Other streams</h2>
              <div class="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Title</th>
                      <th scope="col">Status</th>
                      <th scope="col">Created (UTC)</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${other.map(otherRow)}
                  </tbody>
                </table>
              </div>
            </section>`
          : ''
      }`,
    refreshes ? ['stream-list.js'] : [],
  );
}
