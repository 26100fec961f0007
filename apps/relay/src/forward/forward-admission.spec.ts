import { randomUUID } from 'node:crypto';
import {
  FORWARD_PROOF_WINDOW_MS,
  ReplayGuard,
  generateNodeKeys,
  signForwardProof,
  signTicketToken,
} from '@astral/identity';
import { FORWARD_REFUSALS, ForwardVerifier, verifyForwardPull } from './forward-admission';
import { Admission } from './forward-registry';

const relay = generateNodeKeys();
const downstream = generateNodeKeys();
const thief = generateNodeKeys();
const nodeId = randomUUID();
const downstreamNodeId = randomUUID();
const now = 1_700_000_000_000;

function setup() {
  const ticketId = randomUUID();
  const admissions = new Map<string, Admission>([
    [ticketId, { ticketId, streamId: 'cam-1', downstreamNodeId }],
  ]);
  const v: ForwardVerifier = {
    nodeId,
    publicKey: relay.publicKey,
    admission: (id) => admissions.get(id),
    proofs: new ReplayGuard(FORWARD_PROOF_WINDOW_MS, 1000, () => now),
    now,
  };
  const token = (over: Record<string, unknown> = {}, keys = relay) =>
    signTicketToken(keys, {
      ticketId,
      streamId: 'cam-1',
      upstreamNodeId: nodeId,
      downstreamNodeId,
      downstreamKey: downstream.publicKey,
      expiresAt: now + 60_000,
      ...over,
    });
  const proof = (keys = downstream, t = ticketId) => signForwardProof(keys, t, nodeId, now);
  const verdict = (tok: string | null, pr: string | undefined, streamId = 'cam-1') => {
    const r = verifyForwardPull({ streamId, token: tok, proof: pr }, v);
    return r.ok ? 'ok' : r.reason;
  };
  return { ticketId, admissions, token, proof, verdict };
}

describe(verifyForwardPull.name, () => {
  it("serves the ticket's downstream with a fresh proof; refuses the same token with another node's proof", () => {
    const { token, proof, verdict } = setup();
    const t = token();
    expect(verdict(t, proof(thief))).toBe('bad-proof');
    expect(verdict(t, proof())).toBe('ok');
  });

  it('refuses a replayed proof, and takes a fresh one for the same ticket', () => {
    const { token, proof, verdict } = setup();
    const p = proof();
    expect(verdict(token(), p)).toBe('ok');
    expect(verdict(token(), p)).toBe('replayed-proof');
    expect(verdict(token(), proof())).toBe('ok');
  });

  it('refuses a ticket that has ended (no admission), and an expired token', () => {
    const { token, proof, verdict, admissions, ticketId } = setup();
    expect(verdict(token({ expiresAt: now }), proof())).toBe('expired');
    admissions.delete(ticketId);
    expect(verdict(token(), proof())).toBe('not-admitted');
  });

  it('refuses a forged token, one for another node, another stream or another downstream', () => {
    const { token, proof, verdict } = setup();
    expect(verdict(token({}, thief), proof())).toBe('bad-signature');
    expect(verdict(token({ upstreamNodeId: randomUUID() }), proof())).toBe('wrong-upstream');
    // A token re-signed for another stream does not carry the admission over.
    expect(verdict(token({ streamId: 'cam-2' }), proof(), 'cam-2')).toBe('not-admitted');
    expect(verdict(token(), proof(), 'cam-2')).toBe('wrong-stream');
    // A token naming the thief as the downstream, for someone else's ticket: refused even with its proof.
    expect(
      verdict(token({ downstreamNodeId: randomUUID(), downstreamKey: thief.publicKey }), proof(thief)),
    ).toBe('wrong-downstream');
  });

  it('refuses a pull without a token or without a proof, with a reason saying what to do', () => {
    const { token, verdict } = setup();
    expect(verdict(null, undefined)).toBe('no-ticket');
    expect(verdict(token(), undefined)).toBe('no-proof');
    expect(verdict('x'.repeat(5000), undefined)).toBe('bad-format');
    expect(FORWARD_REFUSALS['no-proof']).toMatch(/X-Astral-Proof/);
  });
});
