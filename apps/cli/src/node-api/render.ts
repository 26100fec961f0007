import type {
  AgentEvent,
  CarriedStream,
  ListedStream,
  NodeSettings,
  NodeStatus,
  NodesReply,
  PlayUrls,
  PublishReply,
  TicketsReply,
  WatchReply,
} from '@astral/contracts';
import { formatAge, formatBps, renderRecord, renderTable, shortId } from '../output';

/** The agent API's replies as text for humans: tables and records (`--json` prints the replies as they are). */

function streamKind(s: CarriedStream): string {
  if (s.origin === 'publish') return 'published here';
  return s.seed ? 'seeding' : 'watching';
}

export function renderStatus(s: NodeStatus, now = Date.now()): string {
  const relay = s.relay;
  const record: [string, string | number][] = [
    ['node id', s.nodeId],
    ['role', s.role],
    ['supernode', s.role === 'supernode' ? '(this node)' : (s.supernodeId ?? '-')],
    ...(s.members !== null ? [['members', s.members] as [string, number]] : []),
    ['host', s.host],
    [
      'ports',
      `rtmp ${s.ports.rtmp}, http-flv ${s.ports.http}, forward ${s.ports.forward}, api ${s.ports.api}`,
    ],
    ['upload limit', formatBps(s.uploadLimitBps, 'unlimited')],
    ['upload now', relay ? formatBps(relay.egressBps) : 'relay not reporting yet'],
    ['forwards', s.forwards],
    ['streams', s.streams.length],
    // Watched without a ticket yet: the node keeps trying until the watch is stopped.
    ...(s.acquiring?.length
      ? [
          ['acquiring', s.acquiring.map((a) => `${a.streamId} (${a.lastReason || 'asking'})`).join(', ')] as [
            string,
            string,
          ],
        ]
      : []),
  ];
  const parts = [renderRecord(record)];
  if (s.streams.length > 0) {
    const stats = new Map((relay?.streams ?? []).map((r) => [r.streamId, r]));
    parts.push(
      renderTable(
        ['stream', 'kind', 'upstream', 'hops', 'bitrate', 'fps', 'viewers', 'forwards', 'since'],
        s.streams.map((c) => {
          const r = stats.get(c.streamId);
          return [
            c.streamId,
            streamKind(c),
            shortId(c.upstreamNodeId),
            c.hops,
            r ? formatBps(r.bitrateBps) : '-',
            r ? Math.round(r.fps) : '-',
            r ? r.viewers : '-',
            r ? r.forwards.length : '-',
            formatAge(c.since, now),
          ];
        }),
      ),
    );
  }
  return parts.join('\n');
}

export function renderSettings(s: NodeSettings): string {
  return renderRecord([
    [
      'upload limit',
      s.uploadLimitBps === 0 ? '0 (never forwards)' : formatBps(s.uploadLimitBps, 'unlimited'),
    ],
    ['max children', `${s.maxChildren} (members accepted as a supernode)`],
  ]);
}

/** @param self this node's id, to mark its row (null when the status could not be read). */
export function renderNodes(n: NodesReply, self: string | null, now = Date.now()): string {
  const parts = [
    renderRecord([
      ['role', n.role],
      ['supernode', n.role === 'supernode' ? '(this node)' : (n.supernodeId ?? '-')],
      ['members', n.role === 'supernode' ? n.members.length : '-'],
    ]),
  ];
  const members = new Set(n.members);
  const relation = (id: string): string => {
    if (id === self) return 'this node';
    if (id === n.supernodeId) return 'our supernode';
    if (members.has(id)) return 'our member';
    return '';
  };
  parts.push(
    n.directory.length === 0
      ? 'The directory lists no nodes.'
      : renderTable(
          ['node id', 'address', 'supernode', 'children', 'upload limit', 'last seen', 'version', ''],
          n.directory.map((d) => [
            d.nodeId,
            `${d.host}:${d.rtmpPort}`,
            d.supernode ? 'yes' : 'no',
            d.supernode ? `${d.childCount}/${d.maxChildren ?? '-'}` : '-',
            formatBps(d.uploadLimitBps),
            `${formatAge(d.lastSeenAt, now)} ago`,
            d.version,
            relation(d.nodeId),
          ]),
        ),
  );
  return parts.join('\n');
}

export function renderStreams(list: ListedStream[], now = Date.now()): string {
  if (list.length === 0) return 'This node carries no streams. Watch one with `astral node watch STREAM`.';
  return renderTable(
    ['stream', 'kind', 'upstream', 'hops', 'since', 'play (HTTP-FLV)', 'play (HLS)', 'play (LL-HLS)'],
    list.map((c) => [
      c.streamId,
      streamKind(c),
      shortId(c.upstreamNodeId),
      c.hops,
      formatAge(c.since, now),
      c.play.httpFlv,
      c.play.hls,
      c.play.llHls,
    ]),
  );
}

/** A node's play URLs as record lines (`astral node publish`, `watch`, `seed`, and `astral publish`). */
export function playRecord(play: PlayUrls): [string, string][] {
  return [
    ['play (RTMP)', play.rtmp],
    ['play (HTTP-FLV)', play.httpFlv],
    ['play (HLS)', play.hls],
    ['play (LL-HLS)', play.llHls],
  ];
}

export function renderPublished(p: PublishReply): string {
  return [
    renderRecord([['stream id', p.streamId], ...playRecord(p.play)]),
    '',
    'Publish settings. Shown this once: the node keeps only a hash of the key. Keep them secret.',
    `  OBS server:        ${p.obs.server}`,
    `  OBS stream key:    ${p.obs.streamKey}`,
    `  HTTP-FLV ingest:   ${p.publishUrl}`,
    `  (or: astral publish FILE.flv --publish-url '${p.publishUrl}')`,
  ].join('\n');
}

export function renderWatch(w: WatchReply): string {
  return renderRecord([
    ['stream id', w.streamId],
    ['mode', w.seed ? 'seeding (carried to forward to others)' : 'watching'],
    ['upstream', w.upstreamNodeId ?? '(source: published here)'],
    ['hops', w.hops],
    ...playRecord(w.play),
  ]);
}

export function renderTickets(t: TicketsReply, now = Date.now()): string {
  const outgoing =
    t.outgoing.length === 0
      ? 'Outgoing: none (this node forwards to nobody).'
      : `Outgoing (this node forwards to):\n${renderTable(
          ['ticket', 'stream', 'to node', 'state', 'bitrate', 'age', 'expires'],
          t.outgoing.map((o) => [
            o.ticketId,
            o.streamId,
            shortId(o.requesterId),
            o.state,
            formatBps(o.bitrateBps),
            formatAge(o.createdAt, now),
            o.expiresAt === null ? 'never' : o.expiresAt <= now ? 'now' : `in ${formatAge(now, o.expiresAt)}`,
          ]),
        )}`;
  const incoming =
    t.incoming.length === 0
      ? 'Incoming: none (this node pulls no stream from another).'
      : `Incoming (this node pulls from):\n${renderTable(
          ['ticket', 'stream', 'from node', 'hops'],
          t.incoming.map((i) => [i.ticketId ?? '-', i.streamId, shortId(i.upstreamNodeId), i.hops]),
        )}`;
  return `${outgoing}\n${incoming}`;
}

/** One event on one line for humans: time, type, then the other fields as key=value. */
export function renderEvent(event: AgentEvent): string {
  const at = new Date(event.at);
  const time = Number.isNaN(at.getTime()) ? event.at : at.toLocaleTimeString(undefined, { hour12: false });
  const rest = Object.entries(event)
    .filter(([k]) => k !== 'at' && k !== 'type')
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${time}  ${event.type.padEnd(17)} ${rest}`;
}
