import { TicketOffer, TicketReply } from '@astral/contracts';
import { acquireBackoffMs, sortTicketReplies } from './ticket-replies';

const offer = (nodeId: string): TicketOffer =>
  ({ nodeId, ticketId: `ticket-${nodeId}`, hops: 1, path: [nodeId] }) as unknown as TicketOffer;

describe(sortTicketReplies.name, () => {
  it('keeps the offers and gives each other candidate a reason, with its id cut to 8 characters', () => {
    const replies: PromiseSettledResult<TicketReply>[] = [
      { status: 'fulfilled', value: { offer: offer('aaaaaaaa-1111') } },
      { status: 'fulfilled', value: { refused: 'no upload capacity left' } },
      { status: 'rejected', reason: new Error('timed out after 1000 ms') },
      { status: 'fulfilled', value: { offer: offer('dddddddd-4444') } },
    ];
    const sorted = sortTicketReplies(
      ['aaaaaaaa-1111', 'bbbbbbbb-2222', 'cccccccc-3333', 'dddddddd-4444'],
      replies,
    );
    expect(sorted.offers.map((o) => o.nodeId)).toEqual(['aaaaaaaa-1111', 'dddddddd-4444']);
    expect(sorted.reasons).toEqual([
      'bbbbbbbb: no upload capacity left',
      'cccccccc: Error: timed out after 1000 ms',
    ]);
  });

  it('has no offers and no reasons for no candidates', () => {
    expect(sortTicketReplies([], [])).toEqual({ offers: [], reasons: [] });
  });
});

describe(acquireBackoffMs.name, () => {
  it('asks at once the first time, then waits 150 ms more each round, at most 1 s', () => {
    expect([0, 1, 2, 6, 7, 20].map(acquireBackoffMs)).toEqual([0, 150, 300, 900, 1000, 1000]);
  });
});
