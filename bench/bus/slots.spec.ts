import { keySlot } from './slots';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ioredisSlot = require('cluster-key-slot') as (key: string) => number;

describe('keySlot', () => {
  it("agrees with ioredis's cluster-key-slot on plain keys, hash tags and empty tags", () => {
    const keys = [
      'foo',
      'bar',
      '',
      'node.{6f1c2c39-8a47-4c5e-9d1b-0a8f3e0c2b11}.inbox',
      'a{}b',
      '{}',
      'x{y}{z}',
      'é{',
    ];
    for (let i = 0; i < 200; i++) keys.push(`directory.{d${i}}.inbox`, `relay.{n${i * 7919}}.inbox`);
    for (const k of keys) expect(keySlot(k)).toBe(ioredisSlot(k));
  });

  it("puts a node's agent and relay inboxes in one slot", () => {
    const id = '0b5e0a1e-3c1d-4f7a-9a2b-5d6e7f8a9b0c';
    expect(keySlot(`node.{${id}}.inbox`)).toBe(keySlot(`relay.{${id}}.inbox`));
    expect(keySlot('foo')).toBe(12182);
  });
});
