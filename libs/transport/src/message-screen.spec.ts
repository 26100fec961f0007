import fc from 'fast-check';
import { MAX_MESSAGE_BYTES, screenMessage } from './message-screen';

const id = '6f1c2c39-8a47-4c5e-9d1b-0a8f3e0c2b11';

describe('screenMessage', () => {
  it('passes a Nest request and a Nest event, keeping pattern, data and id', () => {
    const req = JSON.stringify({ pattern: 'relay.n.stats', data: { a: [1, { b: 2 }] }, id });
    expect(screenMessage(req)).toEqual({
      ok: true,
      packet: { pattern: 'relay.n.stats', data: { a: [1, { b: 2 }] }, id },
    });
    expect(screenMessage(Buffer.from(JSON.stringify({ pattern: 'ev', data: 1 })))).toEqual({
      ok: true,
      packet: { pattern: 'ev', data: 1 },
    });
  });

  it('refuses a message nested thousands deep before parsing it, and still finds the id to answer', () => {
    const deep = `{"pattern":"p","data":${'['.repeat(3000)}${']'.repeat(3000)},"id":"${id}"}`;
    expect(screenMessage(deep)).toMatchObject({ ok: false, kind: 'too-deep', id });
  });

  it('refuses a huge message without parsing it', () => {
    const huge = JSON.stringify({ pattern: 'p', data: 'x'.repeat(MAX_MESSAGE_BYTES), id });
    expect(screenMessage(huge)).toMatchObject({ ok: false, kind: 'too-large', id });
    expect(screenMessage('x'.repeat(MAX_MESSAGE_BYTES + 1))).not.toHaveProperty('id');
  });

  it('refuses non-JSON and wrong shapes, with the id only when it is a sane one', () => {
    expect(screenMessage('\u0000\u00ff garbage')).toMatchObject({ ok: false, kind: 'not-json' });
    for (const bad of ['1', '"text"', 'null', '[1,2]', '{}', '{"pattern":5}', '{"pattern":""}']) {
      expect(screenMessage(bad)).toMatchObject({ ok: false, kind: 'bad-shape' });
    }
    expect(screenMessage(JSON.stringify({ pattern: 5, id }))).toMatchObject({
      ok: false,
      kind: 'bad-shape',
      id,
    });
    expect(screenMessage(JSON.stringify({ pattern: 'p', id: 'x'.repeat(81) }))).not.toHaveProperty('id');
    expect(screenMessage(JSON.stringify({ pattern: 'p', id: 7 }))).toMatchObject({
      ok: false,
      kind: 'bad-shape',
    });
  });

  it('never throws, whatever the bytes', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.uint8Array().map((a) => Buffer.from(a)),
          fc.json(),
        ),
        (raw) => {
          const r = screenMessage(raw);
          expect(typeof r.ok).toBe('boolean');
        },
      ),
    );
  });
});
