import http from 'node:http';
import { readFileSync } from 'node:fs';
import { FORWARD_PROOF_HEADER, generateNodeKeys, signForwardProof, signTicketToken } from '@astral/identity';
import { FlvTagReader, waitFor, withLogsOnFailure } from '@astral/testing';
import { AdmittedForward, RelayTestbed, TestRelay, startRelayTestbed } from '../bench/lib/relay-testbed';

/** One GET on the forward port: the status, the error body (if any) and, on a 200, the first FLV bytes. */
function pull(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string; flv: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: false }, (res) => {
      let body = Buffer.alloc(0);
      res.on('data', (chunk: Buffer) => {
        body = Buffer.concat([body, chunk]);
        if (res.statusCode === 200 && body.length >= 3) {
          resolve({ status: 200, body: '', flv: body.subarray(0, 3).toString('latin1') === 'FLV' });
          req.destroy();
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.toString('utf8'), flv: false }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer from ${new URL(url).pathname}`)));
  });
}

/** The message of a refusal's JSON error body. */
function reasonOf(r: { body: string }): string {
  return (JSON.parse(r.body) as { message: string }).message;
}

async function refusedCount(relay: TestRelay): Promise<number> {
  const text = await (await fetch(relay.metricsUrl)).text();
  return Number(/^astral_relay_forwards_refused_total(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? NaN);
}

/**
 * Tickets as capabilities, against real relays: A publishes, and only the node a ticket names, proving
 * it holds the key the ticket names, may pull from A's forward port (plain HTTP: tokens can be seen).
 */
describe('ticket capabilities at the forward port', () => {
  let bed: RelayTestbed;
  let A: TestRelay;
  let B: TestRelay;
  const streamId = 'cap-test';
  const failWithLogs = (body: () => Promise<void>): Promise<void> =>
    withLogsOnFailure(() => bed.logs(4000), body);

  beforeAll(async () => {
    bed = await startRelayTestbed();
    [A, B] = [await bed.startRelay('relayA'), await bed.startRelay('relayB')];
    await bed.publish(A, streamId);
    await A.waitForTagsIn(streamId, 30, { timeoutMs: 15_000, what: 'the stream at A' });
  }, 60_000);

  afterAll(async () => {
    await bed?.stop();
  }, 30_000);

  it("refuses a stolen token with another node's proof; the same token with its downstream's proof gets FLV", async () => {
    await failWithLogs(async () => {
      const forward = await A.admit(streamId);
      const thief = generateNodeKeys();
      const before = await refusedCount(A);
      const stolen = await pull(forward.url, {
        [FORWARD_PROOF_HEADER]: signForwardProof(thief, forward.ticketId, A.nodeId),
      });
      expect(stolen.status).toBe(403);
      expect(reasonOf(stolen)).toMatch(/bad-proof/);
      const noProof = await pull(forward.url, {});
      expect(noProof.status).toBe(403);
      expect(reasonOf(noProof)).toMatch(/no-proof.*X-Astral-Proof/);
      expect(await refusedCount(A)).toBe(before + 2);
      // Twin: the downstream the ticket names.
      expect(await pull(forward.url, forward.headers())).toEqual({ status: 200, body: '', flv: true });
      const log = readFileSync(A.logFile, 'utf8');
      expect(log).toMatch(/"reason":"bad-proof".*"msg":"forward refused"/);
      expect(log).not.toContain(forward.token.split('.')[1]);
    });
  }, 30_000);

  it('refuses a replayed proof; a fresh proof for the same ticket is served', async () => {
    await failWithLogs(async () => {
      const forward = await A.admit(streamId);
      const headers = forward.headers();
      // The forward stays open: a closed forward would end the ticket, and be refused for that instead.
      const reader = await FlvTagReader.open(forward.url, undefined, headers);
      try {
        await reader.waitForFrames(3, 10_000);
        const replayed = await pull(forward.url, headers);
        expect(replayed.status).toBe(403);
        expect(reasonOf(replayed)).toMatch(/replayed-proof/);
        // Twin: a fresh proof for the same ticket replaces the connection.
        expect((await pull(forward.url, forward.headers())).status).toBe(200);
      } finally {
        reader.close();
      }
    });
  }, 30_000);

  it('refuses an expired token; a fresh one for the same downstream is served', async () => {
    await failWithLogs(async () => {
      const expired = await A.admit(streamId, undefined, Date.now() - 1);
      const r = await pull(expired.url, expired.headers());
      expect(r.status).toBe(403);
      expect(reasonOf(r)).toMatch(/expired/);
      const fresh = await A.admit(streamId, expired.downstream);
      expect((await pull(fresh.url, fresh.headers())).status).toBe(200);
    });
  }, 30_000);

  it('refuses forged tokens: signed by another key, or with claims altered; the genuine one is served', async () => {
    await failWithLogs(async () => {
      const forward = await A.admit(streamId);
      const claims = JSON.parse(
        Buffer.from(forward.token.split('.')[0], 'base64url').toString('utf8'),
      ) as Record<string, unknown>;
      const unsigned = { ...claims };
      delete unsigned.v;
      const otherKey = signTicketToken(generateNodeKeys(), unsigned as Parameters<typeof signTicketToken>[1]);
      const later = Buffer.from(JSON.stringify({ ...claims, expiresAt: Date.now() + 86_400_000 })).toString(
        'base64url',
      );
      const altered = `${later}.${forward.token.split('.')[1]}`;
      for (const token of [otherKey, altered]) {
        const r = await pull(A.forwardUrl(streamId, token), forward.headers());
        expect(r.status).toBe(403);
        expect(reasonOf(r)).toMatch(/bad-signature/);
      }
      expect((await pull(forward.url, forward.headers())).status).toBe(200);
    });
  }, 30_000);

  it('refuses the token of an ended ticket: revoked by the agent, or whose forward the relay closed', async () => {
    await failWithLogs(async () => {
      const revoked = await A.admit(streamId);
      const reader = await FlvTagReader.open(revoked.url, undefined, revoked.headers());
      await reader.waitForFrames(3, 10_000);
      expect(
        (await A.control.revokeForward({ ticketId: revoked.ticketId, reason: 'test revoke' })).closed,
      ).toBe(true);
      await waitFor(() => reader.ended, { timeoutMs: 5000, what: 'the revoked forward to close' });
      const again = await pull(revoked.url, revoked.headers());
      expect(again.status).toBe(403);
      expect(reasonOf(again)).toMatch(/not-admitted.*ask for a new ticket/);

      // The downstream went away: the relay closes the forward, and the ticket with it.
      const dropped: AdmittedForward = await A.admit(streamId);
      const first = await FlvTagReader.open(dropped.url, undefined, dropped.headers());
      await first.waitForFrames(3, 10_000);
      first.close();
      await waitFor(
        async () =>
          (await A.stats()).streams.every((s) => s.forwards.every((f) => f.ticketId !== dropped.ticketId)),
        {
          timeoutMs: 5000,
          what: 'A to close the dropped forward',
        },
      );
      expect((await pull(dropped.url, dropped.headers())).status).toBe(403);
      // Twin: a live ticket is served.
      const live = await A.admit(streamId);
      expect((await pull(live.url, live.headers())).status).toBe(200);
    });
  }, 40_000);

  it("a relay pulls with its own key's proof (relay to relay), and the forward flows", async () => {
    await failWithLogs(async () => {
      await bed.pull(B, A, streamId);
      await B.waitForTagsIn(streamId, 30, { timeoutMs: 15_000, what: 'the stream at B, pulled from A' });
      const stats = await A.stats();
      expect(
        stats.streams
          .find((s) => s.streamId === streamId)
          ?.forwards.some((f) => f.downstreamNodeId === B.nodeId),
      ).toBe(true);
    });
  }, 30_000);
});
