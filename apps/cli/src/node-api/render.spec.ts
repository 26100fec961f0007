import type { NodeInfo, NodeStatus, OutgoingTicket, PlayUrls, RelayStreamStats } from '@astral/contracts';
import {
  playRecord,
  renderEvent,
  renderNodes,
  renderPublished,
  renderSettings,
  renderStatus,
  renderStreams,
  renderTickets,
  renderWatch,
} from './render';

const NOW = Date.parse('2025-01-01T12:00:00Z');
const SELF = 'bbb81481-4390-4d45-bccb-91a291ffe682';
const UP = 'c5e4f6df-edd9-45e1-8822-76b54513b51f';
const OTHER = '0d9a7f4e-1111-4222-8333-444455556666';

/** The cells of the table line whose first cell is `first`, trimmed and joined by ' | '. */
function row(text: string, first: string): string {
  const cells = text
    .split('\n')
    .map((l) =>
      l
        .split('│')
        .slice(1, -1)
        .map((c) => c.trim()),
    )
    .find((c) => c[0] === first);
  if (!cells) throw new Error(`no row starting with ${first} in:\n${text}`);
  return cells.join(' | ');
}

const status = (over: Partial<NodeStatus>): NodeStatus => ({
  nodeId: SELF,
  host: '127.0.0.1',
  ports: { rtmp: 1935, http: 8000, forward: 9000, api: 7000 },
  role: 'member',
  supernodeId: UP,
  members: null,
  uploadLimitBps: 4_000_000,
  forwards: 1,
  streams: [],
  relay: null,
  ...over,
});

const relayStream = (over: Partial<RelayStreamStats>): RelayStreamStats => ({
  streamId: 's1',
  origin: 'upstream',
  upstreamNodeId: UP,
  bitrateBps: 1_370_000,
  peakBitrateBps: 1_500_000,
  fps: 32.6,
  keyframeIntervalMs: 2000,
  viewers: 2,
  forwards: [],
  tagsIn: 900,
  lastTagAt: NOW,
  ...over,
});

const node = (nodeId: string, supernode: boolean): NodeInfo => ({
  nodeId,
  host: '127.0.0.1',
  rtmpPort: 1935,
  httpPort: 8000,
  forwardPort: 9000,
  apiPort: 7000,
  supernode,
  maxChildren: supernode ? 100 : null,
  childCount: supernode ? 1 : 0,
  uploadLimitBps: null,
  lastSeenAt: new Date(NOW - 1000).toISOString(),
  publicKey: null,
  version: '0.1.0',
  uploadBps: null,
  committedBps: null,
  players: 0,
  supernodeId: null,
});

const ticket = (over: Partial<OutgoingTicket>): OutgoingTicket => ({
  ticketId: 't1',
  streamId: 's1',
  requesterId: OTHER,
  state: 'confirmed',
  bitrateBps: 1_000_000,
  expiresAt: null,
  createdAt: NOW,
  token: null,
  lastHeartbeat: NOW,
  ...over,
});

describe(renderStatus.name, () => {
  it('shows a member with a watched stream and the relay numbers for it', () => {
    const sut = renderStatus(
      status({
        streams: [
          {
            streamId: 's1',
            origin: 'upstream',
            path: [UP, SELF],
            hops: 1,
            upstreamNodeId: UP,
            ticketId: 't1',
            since: NOW - 10_000,
            seed: false,
          },
        ],
        relay: { nodeId: SELF, uploadLimitBps: 4_000_000, egressBps: 1_370_000, streams: [relayStream({})] },
      }),
      NOW,
    );
    expect(row(sut, 'node id')).toBe(`node id | ${SELF}`);
    expect(row(sut, 'supernode')).toBe(`supernode | ${UP}`);
    expect(row(sut, 'ports')).toBe('ports | rtmp 1935, http-flv 8000, forward 9000, api 7000');
    expect(row(sut, 'upload limit')).toBe('upload limit | 4 Mbit/s');
    expect(row(sut, 'upload now')).toBe('upload now | 1.37 Mbit/s');
    expect(sut).not.toContain('members');
    expect(row(sut, 's1')).toBe('s1 | watching | c5e4f6df | 1 | 1.37 Mbit/s | 33 | 2 | 0 | 10s');
  });

  it('shows a supernode with its member count, and says when the relay has not reported', () => {
    const sut = renderStatus(
      status({ role: 'supernode', supernodeId: null, members: 3, uploadLimitBps: null }),
      NOW,
    );
    expect(row(sut, 'supernode')).toBe('supernode | (this node)');
    expect(row(sut, 'members')).toBe('members | 3');
    expect(row(sut, 'upload limit')).toBe('upload limit | unlimited');
    expect(row(sut, 'upload now')).toBe('upload now | relay not reporting yet');
    expect(sut).not.toContain('hops');
    expect(sut).not.toContain('acquiring');
  });

  it('lists the streams still acquiring, with the last reason', () => {
    const sut = renderStatus(
      status({
        acquiring: [
          { streamId: 's2', seed: false, since: NOW - 12_000, lastReason: 'no node carries the stream' },
        ],
      }),
      NOW,
    );
    expect(row(sut, 'acquiring')).toBe('acquiring | s2 (no node carries the stream)');
  });
});

describe(renderSettings.name, () => {
  it('says that a limit of 0 never forwards', () => {
    const sut = renderSettings({ uploadLimitBps: 0, maxChildren: 50 });
    expect(row(sut, 'upload limit')).toBe('upload limit | 0 (never forwards)');
    expect(row(sut, 'max children')).toBe('max children | 50 (members accepted as a supernode)');
  });
});

describe(renderNodes.name, () => {
  it("marks this node, its supernode and its members in the directory's list", () => {
    const asMember = renderNodes(
      { role: 'member', supernodeId: UP, members: [], directory: [node(UP, true), node(SELF, false)] },
      SELF,
      NOW,
    );
    expect(row(asMember, UP)).toBe(
      `${UP} | 127.0.0.1:1935 | yes | 1/100 | unlimited | 1s ago | 0.1.0 | our supernode`,
    );
    expect(row(asMember, SELF)).toMatch(/ \| no \| - \| .* \| this node$/);

    const asSupernode = renderNodes(
      { role: 'supernode', supernodeId: null, members: [OTHER], directory: [node(OTHER, false)] },
      SELF,
      NOW,
    );
    expect(row(asSupernode, 'members')).toBe('members | 1');
    expect(row(asSupernode, OTHER)).toMatch(/ \| our member$/);
  });
});

describe(renderTickets.name, () => {
  it('lists outgoing tickets with their expiry and incoming ones with their upstream', () => {
    const sut = renderTickets(
      {
        outgoing: [
          ticket({ ticketId: 'offer-1', state: 'offered', expiresAt: NOW + 5000, createdAt: NOW - 2000 }),
          ticket({ ticketId: 'conf-1', requesterId: SELF, createdAt: NOW - 65_000 }),
        ],
        incoming: [{ ticketId: null, streamId: 's2', upstreamNodeId: UP, hops: 2 }],
      },
      NOW,
    );
    expect(row(sut, 'offer-1')).toBe('offer-1 | s1 | 0d9a7f4e | offered | 1 Mbit/s | 2s | in 5s');
    expect(row(sut, 'conf-1')).toBe('conf-1 | s1 | bbb81481 | confirmed | 1 Mbit/s | 1m 5s | never');
    expect(row(sut, '-')).toBe('- | s2 | c5e4f6df | 2');
  });

  it('says so when there are none', () => {
    expect(renderTickets({ outgoing: [], incoming: [] }, NOW)).toBe(
      'Outgoing: none (this node forwards to nobody).\nIncoming: none (this node pulls no stream from another).',
    );
  });
});

describe(renderEvent.name, () => {
  it('prints the time, the type and the other fields as key=value on one line', () => {
    const at = new Date(NOW).toISOString();
    const created = renderEvent({
      type: 'ticket-created',
      ticketId: 't1',
      streamId: 's1',
      direction: 'outgoing',
      peerId: UP,
      at,
    });
    expect(created).toMatch(
      new RegExp(`^\\S+  ticket-created    ticketId=t1 streamId=s1 direction=outgoing peerId=${UP}$`),
    );
    const switched = renderEvent({
      type: 'upstream-switched',
      streamId: 's1',
      from: null,
      to: UP,
      recoveryMs: 420,
      at,
    });
    expect(switched).toMatch(
      new RegExp(`^\\S+  upstream-switched streamId=s1 from=null to=${UP} recoveryMs=420$`),
    );
  });

  it('shows an unreadable time as it came', () => {
    expect(renderEvent({ type: 'stream-ended', streamId: 's1', at: 'yesterday' })).toBe(
      'yesterday  stream-ended      streamId=s1',
    );
  });
});

const PLAY: PlayUrls = {
  rtmp: 'rtmp://10.0.0.2:1935/live/s1',
  httpFlv: 'http://10.0.0.2:8000/live/s1.flv',
  hls: 'http://10.0.0.2:8000/live/s1/index.m3u8',
  llHls: 'http://10.0.0.2:8000/live/s1/ll.m3u8',
};

describe(playRecord.name, () => {
  it('names every play URL of a node, HLS and LL-HLS included', () => {
    expect(playRecord(PLAY)).toEqual([
      ['play (RTMP)', PLAY.rtmp],
      ['play (HTTP-FLV)', PLAY.httpFlv],
      ['play (HLS)', PLAY.hls],
      ['play (LL-HLS)', PLAY.llHls],
    ]);
  });

  it('is what publish and watch print', () => {
    const watched = renderWatch({ streamId: 's1', seed: false, upstreamNodeId: UP, hops: 1, play: PLAY });
    const published = renderPublished({
      streamId: 's1',
      key: 'k',
      rtmpUrl: 'rtmp://10.0.0.2:1935/live',
      publishUrl: 'http://10.0.0.2:8000/live/s1.flv?key=k',
      obs: { server: 'rtmp://10.0.0.2:1935/live', streamKey: 's1?key=k' },
      play: PLAY,
    });
    for (const text of [watched, published])
      for (const url of [PLAY.rtmp, PLAY.httpFlv, PLAY.hls, PLAY.llHls]) expect(text).toContain(url);
  });
});

describe(renderStreams.name, () => {
  it('lists each stream with its HTTP-FLV, HLS and LL-HLS URLs', () => {
    const sut = renderStreams(
      [
        {
          streamId: 's1',
          origin: 'upstream',
          path: [UP, SELF],
          hops: 1,
          upstreamNodeId: UP,
          ticketId: 't1',
          since: NOW - 60_000,
          seed: false,
          play: PLAY,
        },
      ],
      NOW,
    );
    expect(row(sut, 'stream')).toContain('play (HTTP-FLV) | play (HLS) | play (LL-HLS)');
    expect(row(sut, 's1')).toContain(`${PLAY.httpFlv} | ${PLAY.hls} | ${PLAY.llHls}`);
  });
});
