import { Rng, bitFlip, corruptLength, deleteBytes, insertBytes, mutate, splice, truncate } from './mutators';
import { amf0, connectWithoutCommandObject, rtmpMessage, Builder } from './rtmp-corpus';
import { InputGenerator, buildSeeds, isLegitimatelyDestructive } from './corpus';
import { httpRequest } from './http-corpus';
import { classifyReply } from './sender';
import { crashLines } from './target';

const seedBytes = Buffer.from('GET /live/abc.flv HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');

describe('Rng', () => {
  it('gives the same sequence for the same seed and another for another seed', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = Array.from({ length: 20 }, () => a.int(1000));
    expect(Array.from({ length: 20 }, () => b.int(1000))).toEqual(sa);
    expect(Array.from({ length: 20 }, () => c.int(1000))).not.toEqual(sa);
  });

  it('stays in range', () => {
    const r = new Rng(1);
    for (let i = 0; i < 1000; i++) {
      const v = r.range(3, 7);
      expect(v).toBeGreaterThanOrEqual(3);
      expect(v).toBeLessThanOrEqual(7);
    }
  });
});

describe('byte mutations', () => {
  it('bitFlip changes bits but not the length, and leaves the input alone', () => {
    const copy = Buffer.from(seedBytes);
    const out = bitFlip(seedBytes, new Rng(5), 1);
    expect(out.length).toBe(seedBytes.length);
    expect(seedBytes).toEqual(copy);
    let bits = 0;
    for (let i = 0; i < out.length; i++)
      bits += [...(out[i] ^ seedBytes[i]).toString(2)].filter((x) => x === '1').length;
    expect(bits).toBe(1);
  });

  it('insertBytes grows, deleteBytes shrinks, truncate keeps a strict prefix', () => {
    const r = new Rng(9);
    for (let i = 0; i < 100; i++) {
      expect(insertBytes(seedBytes, r).length).toBeGreaterThan(seedBytes.length);
      expect(deleteBytes(seedBytes, r).length).toBeLessThan(seedBytes.length);
      const t = truncate(seedBytes, r);
      expect(t.length).toBeLessThan(seedBytes.length);
      expect(seedBytes.subarray(0, t.length)).toEqual(t);
    }
    expect(deleteBytes(Buffer.alloc(0), r).length).toBe(0);
  });

  it('splice joins a head of one input to a tail of the other', () => {
    const a = Buffer.from('aaaaaaaaaa');
    const b = Buffer.from('bbbbbbbbbb');
    const out = splice(a, b, new Rng(3)).toString();
    expect(out).toMatch(/^a*b*$/);
  });

  it('corruptLength rewrites only the field', () => {
    const buf = Buffer.from([1, 2, 0x00, 0x10, 9, 9]);
    const r = new Rng(11);
    for (let i = 0; i < 50; i++) {
      const out = corruptLength(buf, { offset: 2, size: 2 }, r);
      expect([...out.subarray(0, 2), ...out.subarray(4)]).toEqual([1, 2, 9, 9]);
    }
    // Out of range: unchanged.
    expect(corruptLength(buf, { offset: 5, size: 4 }, r)).toEqual(buf);
  });

  it('mutate is reproducible by seed and reports its ops', () => {
    const a = mutate(seedBytes, new Rng(77), {
      donors: [Buffer.from('xyz')],
      fields: [{ offset: 4, size: 2 }],
    });
    const b = mutate(seedBytes, new Rng(77), {
      donors: [Buffer.from('xyz')],
      fields: [{ offset: 4, size: 2 }],
    });
    expect(a.bytes).toEqual(b.bytes);
    expect(a.ops).toEqual(b.ops);
    expect(a.ops.length).toBeGreaterThanOrEqual(1);
    expect(mutate(Buffer.alloc(300_000, 1), new Rng(1), { maxBytes: 1000 }).bytes.length).toBeLessThanOrEqual(
      1000,
    );
  });
});

describe('RTMP encoder', () => {
  it('encodes AMF0 strings with their length recorded as a field', () => {
    const b = amf0('connect');
    expect(b.build()).toEqual(Buffer.concat([Buffer.from([0x02, 0x00, 0x07]), Buffer.from('connect')]));
    expect(b.fields).toEqual([{ offset: 1, size: 2 }]);
  });

  it('splits a message into chunks with type-3 continuation headers', () => {
    const payload = new Builder().push(Buffer.alloc(300, 7));
    const m = rtmpMessage(3, 20, 0, payload, 0, 128).build();
    // 12-byte header, 128 bytes, 1-byte header, 128 bytes, 1-byte header, 44 bytes.
    expect(m.length).toBe(12 + 300 + 2);
    expect(m.readUIntBE(4, 3)).toBe(300);
    expect(m[12 + 128]).toBe(0xc3);
  });

  it("builds issue 11's kill: handshake, then connect with nothing after the transaction id", () => {
    const bytes = connectWithoutCommandObject().build();
    expect(bytes[0]).toBe(0x03);
    const body = bytes.subarray(1 + 1536 + 1536 + 12);
    // 'connect', then the number 1 (transaction id), then nothing: no command object.
    expect(body).toEqual(
      Buffer.concat([
        Buffer.from([0x02, 0x00, 0x07]),
        Buffer.from('connect'),
        Buffer.from([0x00, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]),
      ]),
    );
    expect(bytes.readUIntBE(1 + 3072 + 4, 3)).toBe(body.length);
  });
});

describe('corpus', () => {
  const ctx = { host: '127.0.0.1', port: 1935, streamId: 'abc', tags: [], seed: 1 };

  it('never sends the agent its leave command or a settings change that parses, but does send hostile settings bodies', () => {
    const leave = httpRequest({ method: 'POST', target: '/api/leave' });
    const limit = httpRequest({
      method: 'PATCH',
      target: '/api/settings',
      body: Buffer.from('{"uploadLimit":"1"}'),
    });
    const deep = httpRequest({ method: 'PATCH', target: '/api/settings', body: Buffer.from('[[[[]]]]') });
    expect(isLegitimatelyDestructive('api', leave)).toBe(true);
    expect(isLegitimatelyDestructive('api', limit)).toBe(true);
    expect(isLegitimatelyDestructive('api', deep)).toBe(false);
    expect(isLegitimatelyDestructive('directory', leave)).toBe(false);
    const gen = new InputGenerator('api', buildSeeds('api', ctx, new Rng(1)), new Rng(1));
    for (let i = 0; i < 2000; i++) expect(isLegitimatelyDestructive('api', gen.next().bytes)).toBe(false);
  });

  it('generates every kind of input for every port, reproducibly', () => {
    for (const port of ['rtmp', 'http', 'forward', 'api', 'directory'] as const) {
      const gen = new InputGenerator(port, buildSeeds(port, ctx, new Rng(2)), new Rng(2));
      const again = new InputGenerator(port, buildSeeds(port, ctx, new Rng(2)), new Rng(2));
      const kinds = new Set<string>();
      for (let i = 0; i < 500; i++) {
        const input = gen.next();
        expect(again.next().bytes.equals(input.bytes)).toBe(true);
        kinds.add(input.how);
      }
      expect(kinds).toEqual(
        new Set(port === 'rtmp' ? ['seed', 'mutant', 'random'] : ['seed', 'variant', 'mutant', 'random']),
      );
    }
  });
});

describe('reply classification and crash lines', () => {
  it('classifies HTTP statuses, RTMP handshakes and other bytes', () => {
    expect(classifyReply(Buffer.from('HTTP/1.1 431 Request Header Fields Too Large\r\n'))).toBe('http-431');
    expect(classifyReply(Buffer.from([0x03, 0, 0, 0]))).toBe('rtmp-handshake');
    expect(classifyReply(Buffer.from('garbage'))).toBe('bytes');
  });

  it("keeps Node's crash output and error-level log lines, drops ordinary JSON lines", () => {
    const log = [
      '{"level":30,"msg":"publish accepted"}',
      '/x/node_modules/node-media-server/src/protocol/rtmp.js:695',
      "TypeError: Cannot read properties of undefined (reading 'tcUrl')",
      '    at Rtmp.onConnect (/x/rtmp.js:695:30)',
      '{"level":50,"msg":"uncaught exception"}',
    ].join('\n');
    expect(crashLines(log)).toEqual([
      '/x/node_modules/node-media-server/src/protocol/rtmp.js:695',
      "TypeError: Cannot read properties of undefined (reading 'tcUrl')",
      'at Rtmp.onConnect (/x/rtmp.js:695:30)',
      '{"level":50,"msg":"uncaught exception"}',
    ]);
  });
});
