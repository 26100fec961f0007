import { RelayPatterns } from '@astral/contracts';
import type { TicketOffer } from '@astral/contracts';
import { AnswerEffect, Effect, RequestEffect } from './effects';
import { TicketServer } from './ticket-server';
import { RelayRates, TicketServerConfig } from './ticket-server-types';

/* A ticket server under test, with helpers that speak its inputs (for the specs; no I/O). */

export const NODE = 'node-self';
export const STREAM = 'stream-a';
export const HB = 1000;
export const TTL = 60_000;
export const MBIT = 1_000_000;

export interface RequestOpts {
  streamId?: string;
  path?: string[];
  hops?: number;
  carried?: boolean;
  rate?: number;
  upstreamRate?: number;
  players?: number;
  canForward?: boolean;
  patient?: boolean;
  key?: string | null;
  rates?: RelayRates;
}

export class Harness {
  readonly m: TicketServer;
  private inbound = 1;

  constructor(over: Partial<TicketServerConfig> = {}) {
    let n = 0;
    this.m = new TicketServer({
      nodeId: NODE,
      host: '10.0.0.1',
      forwardPort: 1936,
      uploadLimitBps: 4 * MBIT,
      peerHeartbeatMs: HB,
      ticketTokenTtlMs: TTL,
      sign: (c) => `signed:${c.ticketId}:${c.downstreamNodeId}:${c.downstreamKey}:${c.expiresAt}`,
      newTicketId: () => `ticket-${++n}`,
      ...over,
    });
  }

  nextInbound(): number {
    return this.inbound++;
  }

  request(
    requesterId: string,
    now: number,
    o: RequestOpts = {},
  ): { effects: Effect[]; reply: AnswerEffect['reply'] } {
    const inbound = this.nextInbound();
    const streamId = o.streamId ?? STREAM;
    const rate = o.rate ?? MBIT;
    const effects = this.m.handle(
      {
        type: 'request',
        inbound,
        req: { streamId, requesterId, canForward: o.canForward, patient: o.patient },
        carried:
          o.carried === false
            ? null
            : { hops: o.hops ?? 1, path: o.path ?? [NODE], upstreamBitrateBps: o.upstreamRate },
        requester:
          o.key === null
            ? { refused: 'not registered', listed: false }
            : { key: o.key ?? `key-${requesterId}` },
        rates: o.rates ?? { streams: { [streamId]: rate }, playersBps: o.players ?? 0 },
      },
      now,
    );
    return { effects, reply: answerTo(effects, inbound) };
  }

  /** Requests and returns the offer (throws if refused). */
  offer(requesterId: string, now: number, o: RequestOpts = {}): TicketOffer {
    const { reply } = this.request(requesterId, now, o);
    if (!reply.ok || !('offer' in (reply.value as object)))
      throw new Error(`refused: ${JSON.stringify(reply)}`);
    return (reply.value as { offer: TicketOffer }).offer;
  }

  confirm(
    ticketId: string,
    requesterId: string,
    now: number,
    carries = true,
  ): { inbound: number; effects: Effect[] } {
    const inbound = this.nextInbound();
    return {
      inbound,
      effects: this.m.handle({ type: 'confirm', inbound, msg: { ticketId, requesterId }, carries }, now),
    };
  }

  /** Offer, confirm and the relay's admission: a confirmed ticket. Returns its id and the token. */
  confirmed(requesterId: string, now: number, o: RequestOpts = {}): { ticketId: string; token: string } {
    const offer = this.offer(requesterId, now, o);
    const c = this.confirm(offer.ticketId, requesterId, now);
    const admit = requestsOf(c.effects, RelayPatterns.AdmitForward)[0];
    const effects = this.m.handle({ type: 'reply', call: admit.call, value: { ok: true } }, now);
    const reply = answerTo(effects, c.inbound);
    if (!reply.ok) throw new Error(reply.message);
    return { ticketId: offer.ticketId, token: (reply.value as { token: string }).token };
  }

  heartbeat(ticketId: string, requesterId: string, now: number, path?: string[]): unknown {
    const inbound = this.nextInbound();
    const effects = this.m.handle({ type: 'heartbeat', inbound, msg: { ticketId, requesterId }, path }, now);
    const reply = answerTo(effects, inbound);
    return reply.ok ? reply.value : reply;
  }

  /** Answers every relay command among `effects` (ok), feeding the replies; returns all later effects. */
  relayAnswers(effects: Effect[], now: number): Effect[] {
    const out: Effect[] = [];
    let pending = effects.filter((e): e is RequestEffect => e.kind === 'request' && e.to === NODE);
    while (pending.length > 0) {
      const next: Effect[] = [];
      for (const r of pending)
        next.push(...this.m.handle({ type: 'reply', call: r.call, value: { ok: true } }, now));
      out.push(...next);
      pending = next.filter((e): e is RequestEffect => e.kind === 'request' && e.to === NODE);
    }
    return out;
  }
}

export function answerTo(effects: Effect[], inbound: number): AnswerEffect['reply'] {
  const a = effects.find((e): e is AnswerEffect => e.kind === 'answer' && e.inbound === inbound);
  if (!a) throw new Error(`no answer to ${inbound}: ${JSON.stringify(effects)}`);
  return a.reply;
}

export function answered(effects: Effect[], inbound: number): boolean {
  return effects.some((e) => e.kind === 'answer' && e.inbound === inbound);
}

export function requestsOf(effects: Effect[], pattern: string): RequestEffect[] {
  return effects.filter((e): e is RequestEffect => e.kind === 'request' && e.pattern === pattern);
}

export function endedNotices(effects: Effect[]): { to: string | null; ticketId: string; reason: string }[] {
  return effects
    .filter((e) => e.kind === 'emit')
    .map((e) => ({ to: e.to, ...(e.body as { ticketId: string; reason: string }) }));
}
