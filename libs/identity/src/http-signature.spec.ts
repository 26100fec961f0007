import { createHash, randomUUID } from 'node:crypto';
import { NodeSignatureHeaders } from '@astral/contracts';
import {
  canonicalRequest,
  readSignedRequestClaim,
  signedRequestHeaders,
  verifySignedRequest,
} from './http-signature';
import { generateNodeKeys } from './node-keys';
import { ReplayGuard } from './replay-guard';

describe('HTTP request signatures', () => {
  const node = { nodeId: randomUUID(), keys: generateNodeKeys() };
  const other = generateNodeKeys();
  const now = 1_700_000_000_000;
  const body = JSON.stringify({ maxChildren: 5 });
  const path = `/api/nodes/${node.nodeId}/supernode?x=1`;
  const replays = (): ReplayGuard => new ReplayGuard(30_000, 1000, () => now);

  const signed = (at = now) => {
    const read = readSignedRequestClaim(signedRequestHeaders(node, 'post', path, body, at));
    if (read.kind !== 'claim') throw new Error(`not a claim: ${JSON.stringify(read)}`);
    return read.claim;
  };

  it('builds the canonical string: scheme, method, path with query, timestamp, nonce, body hash', () => {
    const empty = createHash('sha256').update('').digest('hex');
    expect(canonicalRequest('delete', '/api/nodes/x', '12', 'n'.repeat(16), undefined)).toBe(
      `astral-http-v1\nDELETE\n/api/nodes/x\n12\n${'n'.repeat(16)}\n${empty}`,
    );
    expect(canonicalRequest('POST', '/p', '1', 'n', Buffer.from('{}'))).toBe(
      canonicalRequest('POST', '/p', '1', 'n', '{}'),
    );
  });

  it("verifies the signer's request once, with its key", () => {
    const sut = replays();
    const claim = signed();
    expect(claim.nodeId).toBe(node.nodeId);
    const request = { method: 'POST', pathWithQuery: path, body: Buffer.from(body) };
    expect(verifySignedRequest(claim, request, node.keys.publicKey, sut)).toEqual({ ok: true });
    expect(verifySignedRequest(claim, request, node.keys.publicKey, sut)).toMatchObject({
      ok: false,
      reason: 'replayed',
    });
  });

  it('refuses another key, another method, path, query or body', () => {
    const sut = replays();
    const request = { method: 'POST', pathWithQuery: path, body };
    for (const [changed, key] of [
      [request, other.publicKey],
      [{ ...request, method: 'DELETE' }, node.keys.publicKey],
      [{ ...request, pathWithQuery: path.replace('?x=1', '?x=2') }, node.keys.publicKey],
      [{ ...request, body: JSON.stringify({ maxChildren: 6 }) }, node.keys.publicKey],
      [{ ...request, body: undefined }, node.keys.publicKey],
    ] as const) {
      expect(verifySignedRequest(signed(), changed, key, sut)).toMatchObject({
        ok: false,
        reason: 'bad-signature',
      });
    }
    // A refused signature leaves no nonce behind.
    expect(sut.size).toBe(0);
  });

  it('refuses a timestamp outside the window, even with a valid signature', () => {
    const request = { method: 'POST', pathWithQuery: path, body };
    expect(verifySignedRequest(signed(now - 31_000), request, node.keys.publicKey, replays())).toMatchObject({
      ok: false,
      reason: 'stale',
    });
    expect(verifySignedRequest(signed(now - 29_000), request, node.keys.publicKey, replays())).toEqual({
      ok: true,
    });
  });

  it('reads no claim from a request without the headers, and says what is wrong with a partial one', () => {
    expect(readSignedRequestClaim({ 'content-type': 'application/json' })).toEqual({ kind: 'none' });
    const headers = signedRequestHeaders(node, 'DELETE', '/x');
    expect(readSignedRequestClaim({ ...headers, [NodeSignatureHeaders.nonce]: undefined })).toMatchObject({
      kind: 'malformed',
      reason: expect.stringContaining('x-astral-nonce missing') as string,
    });
    expect(readSignedRequestClaim({ ...headers, [NodeSignatureHeaders.timestamp]: 'soon' })).toMatchObject({
      kind: 'malformed',
    });
    expect(readSignedRequestClaim({ ...headers, [NodeSignatureHeaders.nonce]: 'short' })).toMatchObject({
      kind: 'malformed',
    });
    expect(readSignedRequestClaim({ ...headers, [NodeSignatureHeaders.node]: ['a', 'b'] })).toMatchObject({
      kind: 'malformed',
    });
  });
});
