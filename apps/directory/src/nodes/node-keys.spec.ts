import { keyConflictMessage, keyVerdict } from './node-keys';

describe(keyVerdict.name, () => {
  const key = 'A'.repeat(43);
  const other = 'B'.repeat(43);

  it('binds an id seen for the first time (also a row from before keys, which has none bound)', () => {
    expect(keyVerdict(undefined, key)).toBe('first');
  });

  it('accepts the bound key again, and refuses any other', () => {
    expect(keyVerdict(key, key)).toBe('same');
    expect(keyVerdict(key, other)).toBe('other');
  });

  it('says why and what to do in the refusal', () => {
    expect(keyConflictMessage('n1')).toBe(
      "node n1 is registered with another key; a node's id cannot move to another key — " +
        "delete the node's data directory to get a new id",
    );
  });
});
