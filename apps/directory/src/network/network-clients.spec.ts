import {
  DEFAULT_NETWORK_SOCKET_LIMITS,
  MessageBudget,
  admissionRefusal,
  readClientMessage,
} from './network-clients';

const text = (s: string) => Buffer.from(s, 'utf8');

describe(readClientMessage.name, () => {
  it('accepts a resync', () => {
    expect(readClientMessage(text('{"type":"resync"}'), false)).toEqual({
      ok: true,
      message: { type: 'resync' },
    });
  });

  it.each([
    ['garbage', 'not json at all', /not JSON/],
    ['a JSON array', '[1,2]', /not a JSON object/],
    ['null', 'null', /not a JSON object/],
    ['another type', '{"type":"promote"}', /only message/],
    ['an extra field', '{"type":"resync","nodeId":"x"}', /should not exist/],
  ])('refuses %s', (_what, body, reason) => {
    const sut = readClientMessage(text(body), false);
    expect(sut.ok).toBe(false);
    expect(!sut.ok && sut.reason).toMatch(reason);
  });

  it('refuses binary frames and large ones', () => {
    expect(readClientMessage(text('{"type":"resync"}'), true)).toMatchObject({ ok: false, reason: /binary/ });
    expect(readClientMessage(Buffer.alloc(2000, 0x20), false)).toMatchObject({
      ok: false,
      reason: /1024 bytes/,
    });
  });
});

describe(admissionRefusal.name, () => {
  const limits = { ...DEFAULT_NETWORK_SOCKET_LIMITS, maxClients: 3, maxPerAddress: 2 };

  it('admits below both caps', () => {
    expect(admissionRefusal({ total: 2, fromAddress: 1 }, limits)).toBeNull();
  });

  it('refuses at the total cap and at the per-address cap, saying which', () => {
    expect(admissionRefusal({ total: 3, fromAddress: 0 }, limits)).toMatch(/3 clients connected/);
    expect(admissionRefusal({ total: 2, fromAddress: 2 }, limits)).toMatch(/your address has 2/);
  });
});

describe(MessageBudget.name, () => {
  it('allows max messages per window, then refuses until the next window', () => {
    const sut = new MessageBudget(3, 1000);
    expect([sut.take(0), sut.take(10), sut.take(20), sut.take(30)]).toEqual([true, true, true, false]);
    expect(sut.take(1000)).toBe(true);
  });
});
