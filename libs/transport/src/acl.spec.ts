import { ACL_DEFAULT_OFF, aclChannels, aclFileLine, aclRules } from './acl';

const A = '0a6b3b8e-1c2d-4e5f-8a9b-0c1d2e3f4a5b';

describe('Redis ACL rules of the bus roles', () => {
  it('give a node its own namespaces, the channels naming it as sender, and its own replies', () => {
    expect(aclChannels({ role: 'node', nodeId: A })).toEqual([
      `node.${A}.*`,
      `relay.${A}.*`,
      `*@${A}`,
      `*@${A}.reply`,
    ]);
    expect(aclChannels({ role: 'directory' })).toEqual(['directory.*']);
  });

  it('start from a clean slate, allow no keys and only the pub/sub commands', () => {
    const rules = aclRules({ role: 'directory' }, 'p'.repeat(20));
    expect(rules.slice(0, 5)).toEqual(['reset', 'on', `>${'p'.repeat(20)}`, 'resetkeys', 'resetchannels']);
    expect(rules).toContain('-@all');
    expect(rules).toContain('+publish');
    expect(rules.some((r) => r.startsWith('~'))).toBe(false);
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
