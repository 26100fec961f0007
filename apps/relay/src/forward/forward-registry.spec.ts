import { ForwardRegistry } from './forward-registry';

const admission = (ticketId: string, streamId = 's1') => ({
  ticketId,
  streamId,
  downstreamNodeId: `node-${ticketId}`,
});

describe('ForwardRegistry', () => {
  it('finds an admission by its ticket until the ticket is revoked', () => {
    const r = new ForwardRegistry<string>();
    r.admit(admission('t1'));
    r.admit(admission('t2'));
    expect(r.admission('t1')).toEqual(admission('t1'));
    r.revoke('t1');
    expect(r.admission('t1')).toBeUndefined();
    expect(r.admission('t2')).toEqual(admission('t2'));
    expect(r.admitted).toBe(1);
  });

  it('an admission is independent of the open forward: revoking leaves closing to the caller', () => {
    const r = new ForwardRegistry<string>();
    r.admit(admission('t1'));
    r.add('t1', 's1', 'c1');
    r.revoke('t1');
    expect(r.get('t1')).toEqual({ streamId: 's1', conn: 'c1' });
  });

  it('keeps open forwards on their stream, oldest first', () => {
    const r = new ForwardRegistry<string>();
    r.add('t1', 's1', 'c1');
    r.add('t2', 's2', 'c2');
    r.add('t3', 's1', 'c3');
    expect(r.forwardsOf('s1')).toEqual(['c1', 'c3']);
    expect(r.ticketsOf('s1')).toEqual(['t1', 't3']);
    expect(r.countOf('s2')).toBe(1);
    expect(r.countOf('nothing')).toBe(0);
    expect(r.forwardsOf('nothing')).toEqual([]);
    expect(r.all()).toEqual(['c1', 'c2', 'c3']);
    expect(r.size).toBe(3);
    expect(r.get('t3')).toEqual({ streamId: 's1', conn: 'c3' });
  });

  it('a new forward for a ticket replaces the old one, at the end of the order', () => {
    const r = new ForwardRegistry<string>();
    r.add('t1', 's1', 'old');
    r.add('t2', 's1', 'c2');
    r.add('t1', 's1', 'new');
    expect(r.forwardsOf('s1')).toEqual(['c2', 'new']);
    expect(r.tickets()).toEqual(['t2', 't1']);
    expect(r.size).toBe(2);
  });

  it('removes only the connection still registered for the ticket', () => {
    const r = new ForwardRegistry<string>();
    r.add('t1', 's1', 'old');
    r.add('t1', 's1', 'new');
    expect(r.remove('t1', 'old')).toBe(false);
    expect(r.get('t1')?.conn).toBe('new');
    expect(r.remove('t1', 'new')).toBe(true);
    expect(r.get('t1')).toBeUndefined();
    expect(r.countOf('s1')).toBe(0);
    expect(r.remove('t1')).toBe(false);
  });

  it('lists are copies: removing while iterating visits every forward', () => {
    const r = new ForwardRegistry<string>();
    for (let i = 0; i < 5; i++) r.add(`t${i}`, 's1', `c${i}`);
    const seen: string[] = [];
    for (const ticketId of r.ticketsOf('s1')) {
      seen.push(ticketId);
      r.remove(ticketId);
    }
    expect(seen).toHaveLength(5);
    expect(r.size).toBe(0);
    expect(r.all()).toEqual([]);
  });

  it('revoking a ticket leaves its open forward registered (closing it is the caller’s)', () => {
    const r = new ForwardRegistry<string>();
    r.admit(admission('t1'));
    r.add('t1', 's1', 'c1');
    r.revoke('t1');
    expect(r.get('t1')?.conn).toBe('c1');
  });
});
