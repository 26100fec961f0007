import { generateNodeKeys } from './node-keys';
import { signPlayToken, verifyPlayToken } from './play-token';

describe('play tokens', () => {
  const directory = generateNodeKeys();
  const other = generateNodeKeys();
  const claims = { placementId: 'p1', streamId: 'show', nodeId: 'node-a', expiresAt: 10_000 };
  const token = signPlayToken(directory, claims);
  const expect_ = { nodeId: 'node-a', streamId: 'show' };

  it('admits the token the directory signed, for its node and stream, before it expires', () => {
    expect(verifyPlayToken(token, directory.publicKey, 9_999, expect_)).toEqual({
      ok: true,
      claims: { v: 1, ...claims },
    });
  });

  it('refuses another signer, expiry, another node, another stream and garbage', () => {
    expect(verifyPlayToken(signPlayToken(other, claims), directory.publicKey, 0, expect_)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    expect(verifyPlayToken(token, directory.publicKey, 10_000, expect_)).toMatchObject({ reason: 'expired' });
    expect(verifyPlayToken(token, directory.publicKey, 0, { ...expect_, nodeId: 'node-b' })).toMatchObject({
      reason: 'wrong-node',
    });
    expect(verifyPlayToken(token, directory.publicKey, 0, { ...expect_, streamId: 'other' })).toMatchObject({
      reason: 'wrong-stream',
    });
    for (const bad of [undefined, '', 'x.y', `${token}x`, token.replace(/^./, '!'), 42])
      expect(verifyPlayToken(bad, directory.publicKey, 0, expect_)).toMatchObject({
        ok: false,
        reason: 'bad-format',
      });
  });

  it('refuses claims changed after signing', () => {
    const [, sig] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ v: 1, ...claims, nodeId: 'node-b' })).toString('base64url');
    expect(
      verifyPlayToken(`${forged}.${sig}`, directory.publicKey, 0, { ...expect_, nodeId: 'node-b' }),
    ).toMatchObject({
      reason: 'bad-signature',
    });
  });
});
