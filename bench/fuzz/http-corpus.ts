/**
 * HTTP seeds for the fuzz bench: raw request bytes (so request lines and headers can be anything),
 * WebSocket upgrades, FLV POST bodies, and JSON bodies from fast-check plus hand-made hostile ones
 * (nesting about 3,000 levels deep, huge numbers, wrong types, prototype-pollution keys).
 */
import fc from 'fast-check';
import { LengthField, Rng } from './mutators';

export interface HttpRequestSpec {
  method: string;
  /** The request target, sent as is (it may be malformed on purpose). */
  target: string;
  version?: string;
  headers?: [string, string][];
  body?: Buffer;
  /** Send the body with Transfer-Encoding: chunked instead of Content-Length. */
  chunked?: boolean;
  /** Leave out the Content-Length header (for a body that is a lie). */
  noLength?: boolean;
}

/** The request as bytes; the body's chunk-size lines are not recorded as length fields. */
export function httpRequest(r: HttpRequestSpec): Buffer {
  const lines = [`${r.method} ${r.target} ${r.version ?? 'HTTP/1.1'}`];
  for (const [k, v] of r.headers ?? [['Host', '127.0.0.1']]) lines.push(`${k}: ${v}`);
  let body = r.body ?? Buffer.alloc(0);
  if (r.chunked) {
    lines.push('Transfer-Encoding: chunked');
    body = body.length
      ? Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')])
      : Buffer.from('0\r\n\r\n');
  } else if (r.body && !r.noLength) lines.push(`Content-Length: ${r.body.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
}

export function webSocketUpgrade(target: string, extra: [string, string][] = []): Buffer {
  return httpRequest({
    method: 'GET',
    target,
    headers: [
      ['Host', '127.0.0.1'],
      ['Upgrade', 'websocket'],
      ['Connection', 'Upgrade'],
      ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
      ['Sec-WebSocket-Version', '13'],
      ...extra,
    ],
  });
}

/** `{"a":` or `[` repeated `depth` times: about 3,000 levels fit in 6 KB. */
export function deepJson(depth: number, kind: 'array' | 'object' = 'object'): string {
  return kind === 'array'
    ? `${'['.repeat(depth)}${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** Hand-made hostile JSON texts (some are not JSON at all). */
export const HOSTILE_JSON: readonly string[] = [
  deepJson(3000),
  deepJson(3000, 'array'),
  deepJson(100),
  '{"title":1e999999}',
  '{"title":123456789012345678901234567890123456789012345678901234567890}',
  '{"maxChildren":-1e308}',
  '{"title":null}',
  '{"title":["a",{"b":[]}]}',
  '{"title":{"toString":"x"}}',
  '{"__proto__":{"polluted":true},"title":"x"}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"title":"\\ud800"}',
  `{"title":"${'x'.repeat(60_000)}"}`,
  '{"title":"a"',
  '{"title":"a"}}}',
  '',
  'null',
  '[]',
  '"string"',
  '\u0000\u0001\u0002',
  '{"nodeId":"00000000-0000-0000-0000-000000000000","addresses":{"rtmp":"rtmp://[","http":"http://%"}}',
];

/** JSON texts from fast-check's arbitraries, reproducible by seed. */
export function generatedJson(seed: number, count: number): string[] {
  const value = fc.oneof(
    fc.jsonValue({ maxDepth: 6 }),
    fc.dictionary(
      fc.constantFrom(
        'title',
        'description',
        'uploadLimit',
        'maxChildren',
        'nodeId',
        'streamId',
        '__proto__',
        'constructor',
        'addresses',
        'bitrateBps',
      ),
      fc.jsonValue({ maxDepth: 3 }),
    ),
  );
  return fc.sample(value, { seed, numRuns: count }).map((v) => JSON.stringify(v) ?? 'null');
}

/** A seed input with the length fields a mutator may corrupt. */
export interface Seed {
  label: string;
  bytes: Buffer;
  fields?: LengthField[];
  /** Trickle the bytes slowly and hold the connection (slowloris). */
  slow?: boolean;
}

/** Random ASCII-ish path segments: reserved characters, percent escapes, dot segments, long runs. */
export function mutatedPath(rng: Rng, base: string): string {
  const pieces = [
    '~',
    '%',
    '%00',
    '%2e%2e',
    '..',
    '//',
    '?',
    '#',
    '[',
    ']',
    '@',
    ':',
    ';',
    '*',
    '\\',
    ' ',
    '%ff',
    'é',
    '\u0000',
    '{',
    '}',
    '|',
  ];
  const chars = [...base];
  const n = rng.range(1, 4);
  for (let i = 0; i < n; i++) {
    const at = rng.int(chars.length + 1);
    const piece = rng.chance(0.1) ? 'a'.repeat(rng.range(256, 20_000)) : rng.pick(pieces);
    if (rng.chance(0.3) && chars.length) chars.splice(at, 1, piece);
    else chars.splice(at, 0, piece);
  }
  return chars.join('');
}

export const METHODS = [
  'GET',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'HEAD',
  'OPTIONS',
  'TRACE',
  'CONNECT',
  'PRI',
  'get',
  'G ET',
  '',
  'XYZZY',
];

/** Request lines that are malformed on purpose; the first is issue 11's forward-port kill. */
export const BAD_REQUEST_LINES: readonly string[] = [
  'GET http://[ HTTP/1.1',
  'GET http://127.0.0.1:1/x HTTP/1.1',
  'GET * HTTP/1.1',
  'GET / HTTP/9.9',
  'GET /',
  'GET  /  HTTP/1.1',
  'GET /%zz HTTP/1.1',
  'CONNECT 127.0.0.1:1 HTTP/1.1',
  `GET /${'a'.repeat(70_000)} HTTP/1.1`,
  'PRI * HTTP/2.0\r\n\r\nSM',
];

/** A header block of about `bytes` bytes: one huge header, or many small ones. */
export function hugeHeaders(bytes: number, many: boolean): [string, string][] {
  if (!many)
    return [
      ['Host', '127.0.0.1'],
      ['X-Pad', 'p'.repeat(bytes)],
    ];
  const out: [string, string][] = [['Host', '127.0.0.1']];
  for (let i = 0; out.length * 16 < bytes; i++) out.push([`X-H${i}`, 'v']);
  return out;
}
