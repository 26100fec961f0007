/**
 * The inputs aimed at one port: seeds (real sessions and requests, the known kills included) and a
 * seeded generator that sends seeds as they are, structured variations, byte mutations of seeds
 * (spliced with each other), and random bytes.
 */
import { FlvTag, encodeFlvHeader, encodeFlvTag } from '@astral/media';
import {
  BAD_REQUEST_LINES,
  HOSTILE_JSON,
  METHODS,
  Seed,
  generatedJson,
  hugeHeaders,
  httpRequest,
  mutatedPath,
  webSocketUpgrade,
} from './http-corpus';
import {
  Builder,
  connectWithWrongObject,
  connectWithoutCommandObject,
  handshake,
  rtmpSession,
} from './rtmp-corpus';
import { MutationOp, Rng, mutate } from './mutators';

export const FUZZ_PORTS = ['rtmp', 'http', 'forward', 'api', 'directory'] as const;
export type FuzzPort = (typeof FUZZ_PORTS)[number];

export interface CorpusContext {
  host: string;
  port: number;
  /** The live stream (it may be played and refused, never stopped). */
  streamId: string;
  /** The first tags of the sample (metadata, sequence headers, a keyframe). */
  tags: readonly FlvTag[];
  seed: number;
}

export interface FuzzInput {
  /** Sequence number, from 1. */
  n: number;
  /** 'seed', 'variant', 'mutant' or 'random'. */
  how: 'seed' | 'variant' | 'mutant' | 'random';
  label: string;
  ops: MutationOp[];
  bytes: Buffer;
  slow: boolean;
}

const get = (target: string, headers: [string, string][] = [['Host', '127.0.0.1']]): Buffer =>
  httpRequest({ method: 'GET', target, headers });
const seed = (label: string, bytes: Buffer | Builder, slow = false): Seed =>
  bytes instanceof Builder
    ? { label, bytes: bytes.build(), fields: bytes.fields, slow }
    : { label, bytes, slow };

/** An FLV body (header and tags) with every tag's DataSize recorded as a length field. */
export function flvBody(tags: readonly FlvTag[]): Builder {
  const b = new Builder().push(encodeFlvHeader(true, true)).uint(0, 4);
  for (const tag of tags) {
    const wire = encodeFlvTag(tag);
    b.fields.push({ offset: b.length + 1, size: 3 });
    b.push(wire);
  }
  return b;
}

function randomId(rng: Rng): string {
  return rng.bytes(8).toString('hex');
}

function httpSeeds(c: CorpusContext, rng: Rng): Seed[] {
  const flv = flvBody(c.tags);
  const body = flv.build();
  const post = (target: string, b: Buffer, chunked = true): Buffer =>
    httpRequest({ method: 'POST', target, body: b, chunked });
  return [
    seed('play the live stream', get(`/live/${c.streamId}.flv`)),
    seed('play an unknown stream', get(`/live/${randomId(rng)}.flv`)),
    seed('GET /li~ve/x.flv (issue 11 kill)', get('/li~ve/x.flv')),
    seed('WebSocket upgrade to / (issue 11 kill)', webSocketUpgrade('/')),
    seed('WebSocket play of the live stream', webSocketUpgrade(`/live/${c.streamId}.flv`)),
    seed('WebSocket upgrade to /li~ve/x.flv', webSocketUpgrade('/li~ve/x.flv')),
    seed('FLV POST, wrong key', post(`/live/${randomId(rng)}.flv?key=wrong`, body)),
    seed('FLV POST to the live stream, wrong key', post(`/live/${c.streamId}.flv?key=wrong`, body)),
    seed('FLV POST, header only', post(`/live/${randomId(rng)}.flv?key=x`, body.subarray(0, 13))),
    seed(
      'FLV POST, truncated tag',
      post(`/live/${randomId(rng)}.flv?key=x`, body.subarray(0, Math.min(body.length - 1, 13 + 11 + 20))),
    ),
    seed(
      'FLV POST, 16 MB tag claim',
      post(
        `/live/${randomId(rng)}.flv?key=x`,
        Buffer.concat([body.subarray(0, 13), Buffer.from([9, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0])]),
      ),
    ),
    seed('FLV POST, random body', post(`/live/${randomId(rng)}.flv?key=x`, rng.bytes(4096))),
    seed(
      'POST, Content-Length lie',
      httpRequest({
        method: 'POST',
        target: `/live/${randomId(rng)}.flv`,
        headers: [
          ['Host', 'h'],
          ['Content-Length', '999999999'],
        ],
        body: rng.bytes(100),
        noLength: true,
      }),
    ),
    seed(
      '1 MiB header',
      httpRequest({ method: 'GET', target: `/live/${c.streamId}.flv`, headers: hugeHeaders(1 << 20, false) }),
    ),
    seed(
      '80 KB of headers',
      httpRequest({ method: 'GET', target: '/live/x.flv', headers: hugeHeaders(80_000, true) }),
    ),
    seed(
      'slowloris GET',
      get(`/live/${c.streamId}.flv`, [
        ['Host', '127.0.0.1'],
        ['X-Slow', 'a'.repeat(200)],
      ]),
      true,
    ),
    seed('HEAD the live stream', httpRequest({ method: 'HEAD', target: `/live/${c.streamId}.flv` })),
    seed('OPTIONS *', httpRequest({ method: 'OPTIONS', target: '*' })),
  ].map((s) =>
    s.label.startsWith('FLV POST') ? { ...s, fields: shift(flv.fields, s.bytes.length - body.length) } : s,
  );
}

/** Length fields of a body at the end of a request: offsets moved by the request head's length. */
function shift(fields: Builder['fields'], by: number): Builder['fields'] {
  return by < 0 ? [] : fields.map((f) => ({ offset: f.offset + by, size: f.size }));
}

function forwardSeeds(c: CorpusContext, rng: Rng): Seed[] {
  return [
    seed('GET http://[ (issue 11 kill)', Buffer.from('GET http://[ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')),
    seed('forward with a forged ticket', get(`/forward/${c.streamId}.flv?ticket=${randomId(rng)}`)),
    seed('forward without a ticket', get(`/forward/${c.streamId}.flv`)),
    seed('forward, empty ticket', get(`/forward/${c.streamId}.flv?ticket=&ticket=`)),
    seed('forward, 60 KB ticket', get(`/forward/${c.streamId}.flv?ticket=${'t'.repeat(60_000)}`)),
    seed('forward, unknown stream', get(`/forward/${randomId(rng)}.flv?ticket=x`)),
    seed('stats', get('/stats')),
    seed('metrics', get('/metrics')),
    seed('healthz', get('/healthz')),
    seed(
      '1 MiB header',
      httpRequest({ method: 'GET', target: '/stats', headers: hugeHeaders(1 << 20, false) }),
    ),
    seed(
      '80 KB of headers',
      httpRequest({ method: 'GET', target: '/stats', headers: hugeHeaders(80_000, true) }),
    ),
    seed(
      'slowloris GET',
      get(`/forward/${c.streamId}.flv?ticket=x`, [
        ['Host', '127.0.0.1'],
        ['X-Slow', 'a'.repeat(200)],
      ]),
      true,
    ),
    seed(
      'POST random body',
      httpRequest({
        method: 'POST',
        target: `/forward/${c.streamId}.flv`,
        body: rng.bytes(2048),
        chunked: true,
      }),
    ),
    seed('WebSocket upgrade to /', webSocketUpgrade('/')),
    ...BAD_REQUEST_LINES.map((l) =>
      seed(`request line ${l.slice(0, 30)}`, Buffer.from(`${l}\r\nHost: 127.0.0.1\r\n\r\n`)),
    ),
  ];
}

const API_ROUTES: readonly [string, string][] = [
  ['GET', '/api/status'],
  ['GET', '/api/streams'],
  ['POST', '/api/streams'],
  ['POST', '/api/streams/{id}/watch'],
  ['POST', '/api/streams/{id}/seed'],
  ['DELETE', '/api/streams/{id}/watch'],
  ['GET', '/api/settings'],
  ['PATCH', '/api/settings'],
  ['GET', '/api/nodes'],
  ['GET', '/api/tickets'],
  ['DELETE', '/api/tickets/{id}'],
  ['GET', '/api/events'],
  ['GET', '/healthz'],
];

const DIRECTORY_ROUTES: readonly [string, string][] = [
  ['GET', '/'],
  ['GET', '/nodes'],
  ['GET', '/streams/{id}'],
  ['GET', '/assets/mpegts.js'],
  ['GET', '/api/nodes?role=supernode&limit=99999999999'],
  ['GET', '/api/supernodes?near=%ff&limit=-1'],
  ['GET', '/api/streams'],
  ['GET', '/api/streams/{id}'],
  ['GET', '/api/streams/{id}/carriers'],
  ['POST', '/api/nodes'],
  ['POST', '/api/nodes/{id}/heartbeat'],
  ['POST', '/api/nodes/{id}/supernode'],
  ['DELETE', '/api/nodes/{id}'],
  ['DELETE', '/api/nodes/{id}/supernode'],
  ['POST', '/api/streams'],
  ['POST', '/api/streams/{id}/announce'],
  ['POST', '/api/streams/{id}/end'],
  ['GET', '/metrics'],
  ['GET', '/healthz'],
  ['GET', '/readyz'],
];

function jsonSeeds(routes: readonly [string, string][], c: CorpusContext, rng: Rng): Seed[] {
  const bodies = [...HOSTILE_JSON, ...generatedJson(c.seed, 40)];
  const out: Seed[] = [];
  for (const [method, path] of routes) {
    const target = path.replace(
      '{id}',
      rng.chance(0.5) ? randomId(rng) : '00000000-0000-4000-8000-000000000000',
    );
    if (method === 'GET' || method === 'DELETE')
      out.push(seed(`${method} ${path}`, httpRequest({ method, target })));
    else {
      for (let i = 0; i < 3; i++) {
        const body = Buffer.from(rng.pick(bodies), 'utf8');
        out.push(
          seed(
            `${method} ${path} JSON`,
            httpRequest({
              method,
              target,
              headers: [
                ['Host', '127.0.0.1'],
                ['Content-Type', 'application/json'],
              ],
              body,
            }),
          ),
        );
      }
    }
  }
  out.push(
    seed(
      'deep JSON (3000 levels)',
      httpRequest({
        method: 'POST',
        target: routes === API_ROUTES ? '/api/streams' : '/api/nodes',
        headers: [
          ['Host', 'h'],
          ['Content-Type', 'application/json'],
        ],
        body: Buffer.from(HOSTILE_JSON[0]),
      }),
    ),
  );
  out.push(
    seed(
      '1 MiB header',
      httpRequest({ method: 'GET', target: '/healthz', headers: hugeHeaders(1 << 20, false) }),
    ),
  );
  out.push(
    seed(
      'slowloris GET',
      get('/healthz', [
        ['Host', '127.0.0.1'],
        ['X-Slow', 'a'.repeat(200)],
      ]),
      true,
    ),
  );
  out.push(seed('WebSocket upgrade to /', webSocketUpgrade('/')));
  for (const l of BAD_REQUEST_LINES.slice(0, 4))
    out.push(seed(`request line ${l.slice(0, 30)}`, Buffer.from(`${l}\r\nHost: h\r\n\r\n`)));
  return out;
}

function rtmpSeeds(c: CorpusContext, rng: Rng): Seed[] {
  const base = { host: c.host, port: c.port, app: 'live' };
  return [
    seed(
      'publish session, wrong key',
      rtmpSession({ ...base, stream: `${randomId(rng)}?key=wrong`, mode: 'publish', tags: c.tags }),
    ),
    seed(
      'publish to the live stream, wrong key',
      rtmpSession({ ...base, stream: `${c.streamId}?key=wrong`, mode: 'publish', tags: c.tags }),
    ),
    seed('play the live stream', rtmpSession({ ...base, stream: c.streamId, mode: 'play' })),
    seed('play an unknown stream', rtmpSession({ ...base, stream: randomId(rng), mode: 'play' })),
    seed('connect without a command object (issue 11 kill)', connectWithoutCommandObject()),
    seed('connect with a string command object', connectWithWrongObject('live')),
    seed('connect with a null command object', connectWithWrongObject(null)),
    seed('connect with a number command object', connectWithWrongObject(3)),
    seed('handshake only', handshake()),
    seed('C0 with version 6', Buffer.concat([Buffer.from([6]), handshake().build().subarray(1)])),
    seed('slow handshake', handshake(), true),
  ];
}

export function buildSeeds(port: FuzzPort, c: CorpusContext, rng: Rng): Seed[] {
  switch (port) {
    case 'rtmp':
      return rtmpSeeds(c, rng);
    case 'http':
      return httpSeeds(c, rng);
    case 'forward':
      return forwardSeeds(c, rng);
    case 'api':
      return jsonSeeds(API_ROUTES, c, rng);
    case 'directory':
      return jsonSeeds(DIRECTORY_ROUTES, c, rng);
  }
}

/**
 * Requests that would legitimately stop the stream under test or the node (they are the API working,
 * not a bug): the agent's POST /api/leave and a settings change that parses. Never sent.
 */
export function isLegitimatelyDestructive(port: FuzzPort, bytes: Buffer): boolean {
  if (port !== 'api') return false;
  const text = bytes.toString('latin1');
  const line = text.slice(0, text.indexOf('\r\n') >>> 0);
  if (/leave/i.test(line)) return true;
  if (!/settings/i.test(line)) return false;
  const body = text.slice(text.indexOf('\r\n\r\n') + 4);
  if (/uploadLimit|maxChildren/i.test(body)) return true;
  return false;
}

/** Seeded stream of inputs for one port. */
export class InputGenerator {
  private n = 0;

  constructor(
    private readonly port: FuzzPort,
    private readonly seeds: readonly Seed[],
    private readonly rng: Rng,
  ) {
    if (seeds.length === 0) throw new Error(`no seeds for port ${port}`);
  }

  next(): FuzzInput {
    for (;;) {
      const input = this.draw();
      if (!isLegitimatelyDestructive(this.port, input.bytes)) return input;
    }
  }

  private draw(): FuzzInput {
    const rng = this.rng;
    const n = ++this.n;
    const r = rng.next();
    if (r < 0.08) {
      const len = rng.chance(0.1) ? rng.range(2048, 65_536) : rng.range(1, 2048);
      return { n, how: 'random', label: `${len} random bytes`, ops: [], bytes: rng.bytes(len), slow: false };
    }
    const s = rng.pick(this.seeds);
    if (r < 0.2 || s.slow) return { n, how: 'seed', label: s.label, ops: [], bytes: s.bytes, slow: !!s.slow };
    if (r < 0.35 && this.port !== 'rtmp') return this.variant(n, s);
    const donors = this.seeds.filter((d) => !d.slow).map((d) => d.bytes);
    const m = mutate(s.bytes, rng, { fields: s.fields, donors });
    return { n, how: 'mutant', label: s.label, ops: m.ops, bytes: m.bytes, slow: false };
  }

  /** HTTP: the seed's request line rewritten (method, path) or its head given a huge header. */
  private variant(n: number, s: Seed): FuzzInput {
    const rng = this.rng;
    const text = s.bytes.toString('latin1');
    const eol = text.indexOf('\r\n');
    const [method, target = '/', version = 'HTTP/1.1'] = text.slice(0, eol < 0 ? undefined : eol).split(' ');
    const rest = eol < 0 ? '' : text.slice(eol);
    const choice = rng.int(3);
    const line =
      choice === 0
        ? `${rng.pick(METHODS)} ${target} ${version}`
        : choice === 1
          ? `${method} ${mutatedPath(rng, target)} ${version}`
          : rng.pick(BAD_REQUEST_LINES);
    return {
      n,
      how: 'variant',
      label: `${s.label} / ${['method', 'path', 'request line'][choice]}`,
      ops: [],
      bytes: Buffer.from(line + rest, 'latin1'),
      slow: false,
    };
  }
}
