import { ACL_DEFAULT_OFF, aclChannels, aclFileLine, aclRules } from './acl';

const A = '0a6b3b8e-1c2d-4e5f-8a9b-0c1d2e3f4a5b';

describe('Redis ACL rules of the bus roles', () => {
  it('give a node its own namespaces, the channels naming it as sender, and its own replies', () => {
    expect(aclChannels({ role: 'node', nodeId: A })).toEqual([
      `node.${A}.*`,
      `relay.${A}.*`,
      `*@${A}`,
      `*@${A}.reply`,
      `*@{${A}}.reply`,
    ]);
    expect(aclChannels({ role: 'directory' })).toEqual(['directory.*']);
  });

  it('start from a clean slate; a node gets no keys and only the pub/sub commands', () => {
    const node = aclRules({ role: 'node', nodeId: A }, 'p'.repeat(20));
    expect(node.some((r) => r.startsWith('~') || r.startsWith('%'))).toBe(false);
    expect(node).not.toContain('+xadd');
    expect(node).not.toContain('+eval');
    const rules = aclRules({ role: 'directory' }, 'p'.repeat(20));
    expect(rules.slice(0, 5)).toEqual(['reset', 'on', `>${'p'.repeat(20)}`, 'resetkeys', 'resetchannels']);
    expect(rules).toContain('-@all');
    expect(rules).toContain('+publish');
    // The directory's replicas share a work queue on keys of their own, and nothing else.
    expect(rules.filter((r) => r.startsWith('~') || r.startsWith('%'))).toEqual(['~{astral:directory}:*']);
    expect(rules).toEqual(expect.arrayContaining(['+xreadgroup', '+xack', '+xautoclaim', '+evalsha']));
    expect(aclFileLine({ role: 'seeder' }, 'q'.repeat(16))).toMatch(/^user seeder reset on >q{16} .*&\*/);
    expect(ACL_DEFAULT_OFF).toMatch(/^user default off/);
  });

  it('refuse weak passwords and node ids that are not lower-case UUIDs', () => {
    expect(() => aclRules({ role: 'directory' }, 'short')).toThrow(/at least 16/);
    expect(() => aclRules({ role: 'directory' }, 'has white space in it')).toThrow(/white space/);
    expect(() => aclChannels({ role: 'node', nodeId: '*' })).toThrow(/not a lower-case UUID/);
    expect(() => aclChannels({ role: 'node', nodeId: A.toUpperCase() })).toThrow(/UUID/);
  });
});
