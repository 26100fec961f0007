import { admitsRequester, advertisedCarrying, candidateWindow, ticketOfferRefusal } from './advertise';

describe('advertisedCarrying', () => {
  const carried = [{ streamId: 's', hops: 2 }];
  it('lists a stream only while one more forward fits', () => {
    expect(advertisedCarrying(carried, 3000, 1000, () => 1000)).toEqual(carried);
    expect(advertisedCarrying(carried, 3000, 2500, () => 1000)).toEqual([]);
    expect(advertisedCarrying(carried, 0, 0, () => 1000)).toEqual([]);
    expect(advertisedCarrying(carried, null, 1e12, () => 1000)).toEqual(carried);
  });
});

describe('candidateWindow', () => {
  it('moves along the order on each attempt and wraps', () => {
    const order = [1, 2, 3, 4, 5];
    expect(candidateWindow(order, 0, 2)).toEqual([1, 2]);
    expect(candidateWindow(order, 1, 2)).toEqual([3, 4]);
    expect(candidateWindow(order, 2, 2)).toEqual([5, 1]);
    expect(candidateWindow([1, 2], 3, 8)).toEqual([1, 2]);
  });
});

describe('admitsRequester', () => {
  it('keeps the last free slots for requesters that can forward, unless the requester is patient', () => {
    // Room for 4 forwards, 1 committed: 3 free.
    expect(admitsRequester(4000, 1000, 1000, false, false, 2)).toBe(true);
    expect(admitsRequester(4000, 2000, 1000, false, false, 2)).toBe(false);
    expect(admitsRequester(4000, 2000, 1000, true, false, 2)).toBe(true);
    expect(admitsRequester(4000, 2000, 1000, false, true, 2)).toBe(true);
    expect(admitsRequester(4000, 4000, 1000, true, true, 2)).toBe(false);
    expect(admitsRequester(0, 0, 1000, true, true)).toBe(false);
    expect(admitsRequester(null, 0, 1000, false, false)).toBe(true);
  });
});

describe(ticketOfferRefusal.name, () => {
  it('offers while forwards and players together leave room for one more copy', () => {
    expect(ticketOfferRefusal(3_000_000, 2_000_000, 1_000_000, true, false)).toBeNull();
    expect(ticketOfferRefusal(null, 9e9, 1, true, false)).toBeNull();
  });

  it('refuses with the reason: unmeasured, no headroom, last slots', () => {
    expect(ticketOfferRefusal(3_000_000, 0, 0, true, false)).toBe('bit rate not measured yet');
    expect(ticketOfferRefusal(3_000_000, 2_500_000, 1_000_000, true, false)).toBe('no upload headroom');
    expect(ticketOfferRefusal(0, 0, 1_000_000, true, false)).toBe('no upload headroom');
    expect(ticketOfferRefusal(3_000_000, 1_000_000, 1_000_000, false, false)).toBe(
      'last slots kept for nodes that can forward',
    );
    expect(ticketOfferRefusal(3_000_000, 1_000_000, 1_000_000, false, true)).toBeNull();
  });
});
