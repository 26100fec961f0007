import { NodeInfo } from '@astral/contracts';
import { formatBitrate } from '@astral/config';
import { html, layout } from './html';

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
          ? html`<div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Node</th>
                    <th scope="col">Host</th>
                    <th scope="col">RTMP</th>
                    <th scope="col">HTTP</th>
                    <th scope="col">Forward</th>
                    <th scope="col">Supernode</th>
                    <th scope="col">Upload limit</th>
                    <th scope="col">Version</th>
                    <th scope="col">Last seen</th>
                  </tr>
                </thead>
                <tbody>
                  ${rows}
                </tbody>
              </table>
            </div>`
          : html`<p class="muted">No nodes.</p>`
      }`,
  );
}
