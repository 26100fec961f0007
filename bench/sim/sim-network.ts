/**
 * The simulator's network: nodes (and the directory) that receive requests and events after a one-way
 * latency, answer them (now or later), and are gone when they crash. Requests behave as they do over Redis:
 * a reply comes back after another one-way latency, or the request fails with 'timeout' after its
 * `timeoutMs` when nobody answers in time (the target is gone, or answered too late).
 *
 * Cheap by design (it carries every heartbeat of 100,000 nodes): a request whose answer comes at once costs
 * two queue events (delivery, reply) and no timeout event.
 */
import type { AstralErrorCode } from '@astral/contracts';
import { EventQueue } from './event-queue';

export type SimReply =
  { ok: true; value: unknown } | { ok: false; code: AstralErrorCode | 'timeout'; message: string };

/** What a node (or the directory) does with what reaches it. */
export interface SimEndpoint {
  /** A request on `pattern` (the unaddressed pattern, `{self}` in it); call `answer` once, now or later. */
  request(pattern: string, body: unknown, from: string | null, answer: (reply: SimReply) => void): void;
  /** An event (no reply). */
  event(pattern: string, body: unknown, from: string | null): void;
}

export interface SimNetworkOptions {
  /** One-way latency between two endpoints (null is the directory), ms. */
  oneWayMs(from: string | null, to: string | null): number;
}

/** The directory's key in the endpoint table. */
const DIRECTORY = '\u0000directory';
const key = (id: string | null) => (id === null ? DIRECTORY : id);

export class SimNetwork {
  private readonly endpoints = new Map<string, SimEndpoint>();
  /** Messages by pattern: a request and its reply count one each, an event one. */
  readonly messages = new Map<string, number>();
  delivered = 0;
  timedOut = 0;

  constructor(
    readonly queue: EventQueue,
    private readonly options: SimNetworkOptions,
  ) {}

  get now(): number {
    return this.queue.now;
  }

  /** Attaches an endpoint (null: the directory); replaces one of the same id. */
  attach(id: string | null, endpoint: SimEndpoint): void {
    this.endpoints.set(key(id), endpoint);
  }

  /** The endpoint is gone (a crash, or a node that has left): what is sent to it times out. */
  detach(id: string | null): void {
    this.endpoints.delete(key(id));
  }

  isUp(id: string | null): boolean {
    return this.endpoints.has(key(id));
  }

  oneWayMs(from: string | null, to: string | null): number {
    return this.options.oneWayMs(from, to);
  }

  private count(pattern: string, n = 1): void {
    this.messages.set(pattern, (this.messages.get(pattern) ?? 0) + n);
  }

  /**
   * Sends a request from `from` to `to`; `done` gets the reply, or a 'timeout' failure after `timeoutMs`.
   * `done` is not called if the sender is gone by then.
   */
  request(
    from: string | null,
    to: string | null,
    pattern: string,
    body: unknown,
    timeoutMs: number,
    done: (reply: SimReply) => void,
  ): void {
    this.count(pattern);
    const sentAt = this.queue.now;
    const deadline = sentAt + timeoutMs;
    let settled = false;
    let timeoutArmed = false;
    const settle = (reply: SimReply) => {
      if (settled) return;
      settled = true;
      if (!reply.ok && reply.code === 'timeout') this.timedOut++;
      if (this.isUp(from)) done(reply);
    };
    const timeout = () => {
      if (timeoutArmed) return;
      timeoutArmed = true;
      this.queue.at(deadline, () =>
        settle({ ok: false, code: 'timeout', message: `no reply to ${pattern} within ${timeoutMs} ms` }),
      );
    };
    const there = this.options.oneWayMs(from, to);
    if (!this.isUp(to) || sentAt + there > deadline) {
      timeout();
      return;
    }
    this.queue.at(sentAt + there, () => {
      const target = this.endpoints.get(key(to));
      if (!target) {
        timeout();
        return;
      }
      this.delivered++;
      let answered = false;
      target.request(pattern, body, from, (reply) => {
        if (answered) return;
        answered = true;
        this.count(pattern);
        const back = this.queue.now + this.options.oneWayMs(to, from);
        if (back > deadline) {
          timeout();
          return;
        }
        this.queue.at(back, () => settle(reply));
      });
      // Answered later (or never): the timeout must be able to fire first.
      if (!answered) timeout();
    });
  }

  /** Sends an event; it is lost if the target is gone when it arrives. */
  emit(from: string | null, to: string | null, pattern: string, body: unknown): void {
    this.count(pattern);
    if (!this.isUp(to)) return;
    this.queue.after(this.options.oneWayMs(from, to), () => {
      const target = this.endpoints.get(key(to));
      if (!target) return;
      this.delivered++;
      target.event(pattern, body, from);
    });
  }

  /** Total messages over all patterns. */
  get total(): number {
    let n = 0;
    for (const v of this.messages.values()) n += v;
    return n;
  }
}
