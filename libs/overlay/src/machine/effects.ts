import type {
  AgentEventBody,
  AstralErrorCode,
  EventPattern,
  PayloadOf,
  ReplyOf,
  RequestPattern,
} from '@astral/contracts';

/*
 * The vocabulary every overlay state machine speaks (docs/OVERLAY.md "State machines").
 *
 * A machine is a plain object with a `handle(input, now)` method that returns effects. It owns no timer,
 * does no I/O and knows no Nest: its inputs are messages (requests and events from peers, replies to its
 * own requests, the relay's reports) and clock ticks (its timers firing); its outputs are effects. Two
 * drivers run the same machines: the node agent (apps/node-agent/src/overlay: Redis, the relay, real
 * timers) and the simulator (bench/sim: a simulated clock and network).
 */

/** Numbers a machine gives its own requests; a reply comes back with the same number. */
export type CallId = number;
/** Numbers a driver gives a request it hands a machine; the machine answers with the same number. */
export type InboundId = number;

/**
 * Send a request and expect one reply (or a failure). `to` is the node id of an agent- or relay-addressed
 * pattern (its own id for its own relay) and null for a directory pattern.
 */
export interface RequestEffect<P extends RequestPattern = RequestPattern> {
  kind: 'request';
  call: CallId;
  pattern: P;
  to: string | null;
  body: PayloadOf<P>;
  timeoutMs: number;
}

/** Send an event (no reply). */
export interface EmitEffect<P extends EventPattern = EventPattern> {
  kind: 'emit';
  pattern: P;
  to: string | null;
  body: PayloadOf<P>;
}

/** Answer a request the driver handed in (`inbound`), now or later. */
export interface AnswerEffect {
  kind: 'answer';
  inbound: InboundId;
  /** The reply (ReplyOf the pattern the request came on), or a refusal the driver turns into an AstralError. */
  reply: { ok: true; value: unknown } | { ok: false; code: AstralErrorCode; message: string };
}

/** (Re)arm a named timer: its `timer` input comes after `afterMs`. A timer of the same name is replaced. */
export interface SetTimerEffect {
  kind: 'set-timer';
  timer: string;
  afterMs: number;
}

export interface ClearTimerEffect {
  kind: 'clear-timer';
  timer: string;
}

/** Measure the round-trip time to a node's data port; the answer is an `rtt` input with the same call. */
export interface MeasureRttEffect {
  kind: 'measure-rtt';
  call: CallId;
  host: string;
  port: number;
}

/** An event for the node's event stream (the local WebSocket). */
export interface PublishEffect {
  kind: 'publish';
  event: AgentEventBody;
}

export interface LogEffect {
  kind: 'log';
  level: 'debug' | 'info' | 'warn';
  msg: string;
  fields?: Record<string, unknown>;
}

export type Effect =
  | RequestEffect
  | EmitEffect
  | AnswerEffect
  | SetTimerEffect
  | ClearTimerEffect
  | MeasureRttEffect
  | PublishEffect
  | LogEffect;

/** The inputs every machine takes besides its own: replies to its requests, RTTs, and its timers. */
export type CommonInput =
  | { type: 'reply'; call: CallId; value: unknown }
  | { type: 'failed'; call: CallId; code: AstralErrorCode | 'timeout'; message: string }
  | { type: 'rtt'; call: CallId; rttMs: number | null }
  | { type: 'timer'; timer: string };

/** What both drivers run. */
export interface OverlayMachine<I> {
  handle(input: I | CommonInput, now: number): Effect[];
}

/** Builds a typed request effect. */
export function requestEffect<P extends RequestPattern>(
  call: CallId,
  pattern: P,
  to: string | null,
  body: PayloadOf<P>,
  timeoutMs: number,
): RequestEffect<P> {
  return { kind: 'request', call, pattern, to, body, timeoutMs };
}

export function emitEffect<P extends EventPattern>(
  pattern: P,
  to: string | null,
  body: PayloadOf<P>,
): EmitEffect<P> {
  return { kind: 'emit', pattern, to, body };
}

export function answer(inbound: InboundId, value: unknown): AnswerEffect {
  return { kind: 'answer', inbound, reply: { ok: true, value } };
}

export function refuse(inbound: InboundId, code: AstralErrorCode, message: string): AnswerEffect {
  return { kind: 'answer', inbound, reply: { ok: false, code, message } };
}

/**
 * A machine's outstanding requests: remembers what each call was for, so its reply can be read with the
 * right type. `P` is the pattern, `C` what the machine needs to know to act on the answer.
 */
export class PendingCalls<C> {
  private next = 1;
  private readonly calls = new Map<CallId, C>();

  open(context: C): CallId {
    const call = this.next++;
    this.calls.set(call, context);
    return call;
  }

  /** The context of a call, removed; undefined for a call this machine did not make (or already closed). */
  take(call: CallId): C | undefined {
    const c = this.calls.get(call);
    this.calls.delete(call);
    return c;
  }

  /** Drops every open call matching `drop` (their answers will be ignored). */
  forget(drop: (context: C) => boolean): void {
    for (const [call, c] of this.calls) if (drop(c)) this.calls.delete(call);
  }

  get size(): number {
    return this.calls.size;
  }
}

/** The typed value of a reply to a request on pattern P (the driver checked its shape). */
export function replyOf<P extends RequestPattern>(_pattern: P, value: unknown): ReplyOf<P> {
  return value as ReplyOf<P>;
}
