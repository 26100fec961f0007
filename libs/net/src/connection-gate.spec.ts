import { ConnectionGate } from './connection-gate';

describe('ConnectionGate', () => {
  it('admits up to the per-address cap, then refuses that address but not another', () => {
    const gate = new ConnectionGate({ maxConnections: 10, maxPerAddress: 2 });
    expect(gate.admit('10.0.0.1')).toBeNull();
    expect(gate.admit('10.0.0.1')).toBeNull();
    expect(gate.admit('10.0.0.1')).toBe('address-full');
    expect(gate.admit('10.0.0.2')).toBeNull();
    expect(gate.openConnections).toBe(3);
    expect(gate.refused).toBe(1);
  });

  it('refuses everyone once the listener is full, and admits again after a release', () => {
    const gate = new ConnectionGate({ maxConnections: 2, maxPerAddress: 5 });
    expect(gate.admit('a')).toBeNull();
    expect(gate.admit('b')).toBeNull();
    expect(gate.admit('c')).toBe('listener-full');
    gate.release('a');
    expect(gate.admit('c')).toBeNull();
    expect(gate.addresses).toBe(2);
  });

  it('forgets an address when its last connection closes; a stray release changes nothing', () => {
    const gate = new ConnectionGate({ maxConnections: 5, maxPerAddress: 1 });
    gate.admit('a');
    gate.release('a');
    gate.release('a');
    gate.release('never-seen');
    expect(gate.openConnections).toBe(0);
    expect(gate.addresses).toBe(0);
    expect(gate.admit('a')).toBeNull();
  });
});
