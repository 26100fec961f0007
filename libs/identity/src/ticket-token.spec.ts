import { randomUUID } from 'node:crypto';
import { generateNodeKeys } from './node-keys';
import { ReplayGuard } from './replay-guard';
import {
  TICKET_TOKEN_MAX_LENGTH,
  TicketClaims,
  readTicketClaims,
  signTicketToken,
  verifyTicketToken,
} from './ticket-token';
import { FORWARD_PROOF_WINDOW_MS, signForwardProof, verifyForwardProof } from './forward-proof';

const upstream = generateNodeKeys();
const downstream = generateNodeKeys();
const now = 1_700_000_000_000;
const claims = (over: Partial<TicketClaims> = {}): Omit<TicketClaims, 'v'> => ({
  ticketId: randomUUID(),
  streamId: 'my-stream',
  upstreamNodeId: randomUUID(),
  downstreamNodeId: randomUUID(),
  downstreamKey: downstream.publicKey,
  expiresAt: now + 60_000,
  ...over,
});
const reason = (v: ReturnType<typeof verifyTicketToken>) => (v.ok ? 'ok' : v.reason);

describe(verifyTicketToken.name, () => {
  it('accepts a token its upstream signed, and gives back exactly the signed claims', () => {
    const c = claims();
    const sut = verifyTicketToken(signTicketToken(upstream, c), upstream.publicKey, now, {
      upstreamNodeId: c.upstreamNodeId,
      streamId: 'my-stream',
    });
    expect(sut).toEqual({ ok: true, claims: { v: 1, ...c } });
  });

  it('refuses a token signed by another key (forged), or with altered claims', () => {
    const c = claims();
    const token = signTicketToken(upstream, c);
    expect(reason(verifyTicketToken(signTicketToken(downstream, c), upstream.publicKey, now))).toBe(
      'bad-signature',
    );
    const [, sig] = token.split('.');
    const altered = Buffer.from(JSON.stringify({ v: 1, ...c, downstreamKey: upstream.publicKey })).toString(
      'base64url',
    );
    expect(reason(verifyTicketToken(`${altered}.${sig}`, upstream.publicKey, now))).toBe('bad-signature');
    const later = Buffer.from(JSON.stringify({ v: 1, ...c, expiresAt: now + 3_600_000 })).toString(
      'base64url',
    );
    expect(reason(verifyTicketToken(`${later}.${sig}`, upstream.publicKey, now))).toBe('bad-signature');
  });

  it('refuses an expired token, and takes it just before its expiry', () => {
    const token = signTicketToken(upstream, claims({ expiresAt: now }));
    expect(reason(verifyTicketToken(token, upstream.publicKey, now))).toBe('expired');
    expect(reason(verifyTicketToken(token, upstream.publicKey, now - 1))).toBe('ok');
  });

  it('refuses a token for another upstream or another stream', () => {
    const c = claims();
    const token = signTicketToken(upstream, c);
    expect(reason(verifyTicketToken(token, upstream.publicKey, now, { upstreamNodeId: randomUUID() }))).toBe(
      'wrong-upstream',
    );
    expect(reason(verifyTicketToken(token, upstream.publicKey, now, { streamId: 'other-stream' }))).toBe(
      'wrong-stream',
    );
  });

  it('refuses malformed tokens as bad-format without throwing, long ones before parsing', () => {
    const good = signTicketToken(upstream, claims());
    const [body, sig] = good.split('.');
    const enc = (x: unknown) => Buffer.from(JSON.stringify(x)).toString('base64url');
    for (const bad of [
      undefined,
      null,
      42,
      '',
      'abc',
      body,
      `${body}.${sig}.x`,
      `${body}.${sig.slice(1)}`,
      `${'A'.repeat(TICKET_TOKEN_MAX_LENGTH)}.${sig}`,
      `${Buffer.from('not json').toString('base64url')}.${sig}`,
      `${enc([1, 2])}.${sig}`,
      `${enc({ ...claims(), v: 2 })}.${sig}`,
      `${enc({ v: 1, ...claims(), extra: 1 })}.${sig}`,
      `${enc({ v: 1, ...claims(), expiresAt: '1' })}.${sig}`,
      `${enc({ v: 1, ...claims(), downstreamKey: 'short' })}.${sig}`,
      `${enc({ v: 1, ...claims(), ticketId: 'a/b' })}.${sig}`,
    ])
      expect(reason(verifyTicketToken(bad, upstream.publicKey, now))).toBe('bad-format');
    expect(readTicketClaims(good)?.streamId).toBe('my-stream');
    expect(readTicketClaims('x.y')).toBeNull();
  });

  it('stays well under the length bound for real claims', () => {
    expect(signTicketToken(upstream, claims()).length).toBeLessThan(600);
  });
});

describe(verifyForwardProof.name, () => {
  const ticketId = randomUUID();
  const upstreamNodeId = randomUUID();
  let clock = now;
  const guard = () => new ReplayGuard(FORWARD_PROOF_WINDOW_MS, 1000, () => clock);
  const check = (
    header: unknown,
    g: ReplayGuard,
    key = downstream.publicKey,
    t = ticketId,
    u = upstreamNodeId,
  ) => {
    const v = verifyForwardProof(header, key, t, u, g);
    return v.ok ? 'ok' : v.reason;
  };

  it("accepts the downstream key's proof once, and refuses it replayed", () => {
    const g = guard();
    const proof = signForwardProof(downstream, ticketId, upstreamNodeId, clock);
    expect(check(proof, g)).toBe('ok');
    expect(check(proof, g)).toBe('replayed-proof');
    expect(check(signForwardProof(downstream, ticketId, upstreamNodeId, clock), g)).toBe('ok');
  });

  it("refuses another node's proof (a stolen token used by someone else)", () => {
    const thief = generateNodeKeys();
    expect(check(signForwardProof(thief, ticketId, upstreamNodeId, clock), guard())).toBe('bad-proof');
  });

  it('refuses a proof for another ticket or another upstream', () => {
    const g = guard();
    expect(check(signForwardProof(downstream, randomUUID(), upstreamNodeId, clock), g)).toBe('bad-proof');
    expect(check(signForwardProof(downstream, ticketId, randomUUID(), clock), g)).toBe('bad-proof');
  });

  it('refuses proofs outside the 30 s window, either way', () => {
    const g = guard();
    expect(check(signForwardProof(downstream, ticketId, upstreamNodeId, clock - 31_000), g)).toBe(
      'stale-proof',
    );
    expect(check(signForwardProof(downstream, ticketId, upstreamNodeId, clock + 31_000), g)).toBe(
      'stale-proof',
    );
    expect(check(signForwardProof(downstream, ticketId, upstreamNodeId, clock - 29_000), g)).toBe('ok');
  });

  it('refuses missing and malformed proofs, and an altered timestamp', () => {
    const g = guard();
    expect(check(undefined, g)).toBe('no-proof');
    expect(check('', g)).toBe('no-proof');
    expect(check(['a', 'b'], g)).toBe('bad-proof');
    expect(check('1.2.3', g)).toBe('bad-proof');
    const [, nonce, sig] = signForwardProof(downstream, ticketId, upstreamNodeId, clock).split('.');
    expect(check(`${clock + 1}.${nonce}.${sig}`, g)).toBe('bad-proof');
    expect(g.size).toBe(0);
  });

  it('keeps its nonces bounded: a flood past the guard size is refused as busy', () => {
    const g = new ReplayGuard(FORWARD_PROOF_WINDOW_MS, 2, () => clock);
    expect(check(signForwardProof(downstream, ticketId, upstreamNodeId, clock), g)).toBe('ok');
    expect(check(signForwardProof(downstream, ticketId, upstreamNodeId, clock), g)).toBe('ok');
    expect(check(signForwardProof(downstream, ticketId, upstreamNodeId, clock), g)).toBe('busy');
    clock += 31_000;
    expect(check(signForwardProof(downstream, ticketId, upstreamNodeId, clock), g)).toBe('ok');
  });
});
