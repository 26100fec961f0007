import { TicketOffer, TicketReply } from '@astral/contracts';

/** The offers among the replies to one round of ticket requests, and why each other candidate gave none. */
export interface SortedTicketReplies {
  offers: TicketOffer[];
  /** One line per candidate without an offer: its id's first 8 characters, then its refusal or error. */
  reasons: string[];
}

/** Sorts the settled replies of `asked` (same order) into offers and reasons. */
export function sortTicketReplies(
  asked: readonly string[],
  replies: readonly PromiseSettledResult<TicketReply>[],
): SortedTicketReplies {
  const offers: TicketOffer[] = [];
  const reasons: string[] = [];
  replies.forEach((r, i) => {
    if (r.status === 'fulfilled' && 'offer' in r.value) offers.push(r.value.offer);
    else
      reasons.push(
        `${asked[i].slice(0, 8)}: ${r.status === 'fulfilled' && 'refused' in r.value ? r.value.refused : (r as PromiseRejectedResult).reason}`,
      );
  });
  return { offers, reasons };
}

/** The pause before the attempt-th round of ticket requests (none before the first). */
export function acquireBackoffMs(attempt: number): number {
  return attempt > 0 ? Math.min(1000, 150 * attempt) : 0;
}
