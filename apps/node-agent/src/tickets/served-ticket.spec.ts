import { NodeInfo } from '@astral/contracts';
import { generateNodeKeys } from '@astral/identity';
import { requesterKeyOf } from './served-ticket';

const REQUESTER = '5fb08a3d-6172-4394-9fe0-5b6c7d8e9fa0';

describe(requesterKeyOf.name, () => {
  const requesterKey = generateNodeKeys().publicKey;
  const node = { nodeId: REQUESTER, publicKey: requesterKey } as NodeInfo;

  it.each([
    ['listed with a key', node, { key: requesterKey }],
    [
      'listed without a key',
      { ...node, publicKey: null },
      { listed: true, refused: expect.stringMatching(/no public key/) as unknown },
    ],
    ['not listed', undefined, { listed: false, refused: expect.stringMatching(/not registered/) as unknown }],
  ])('a requester %s', (_name, listed, expected) => {
    expect(requesterKeyOf(REQUESTER, listed)).toEqual(expected);
  });
});
