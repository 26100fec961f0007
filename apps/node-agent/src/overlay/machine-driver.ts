import { ClientProxy } from '@nestjs/microservices';
import { AstralError, addressed } from '@astral/contracts';
import { Logger } from '@astral/config';
import { emit, request } from '@astral/transport';
import { CommonInput, Effect, InboundId, OverlayMachine } from '@astral/overlay';
import { AgentEvents } from '../events/agent-events';
import { measureRtt } from '../tickets/rtt';

export interface MachineDriverDeps {
  client: ClientProxy;
  log: Logger;
  events: AgentEvents;
  /** Measures an RTT on the data path (tests and the agent use the real one). */
  measureRtt?: (host: string, port: number) => Promise<number | null>;
}

/*
 * A machine's effect names its pattern as data, so the compiler cannot pick request's or emit's overload
 * for it; the payload was typed by the machine (requestEffect/emitEffect) against BusMap already.
 */
const sendRequest = request as unknown as (
  c: ClientProxy,
  channel: string,
  data: object,
  timeoutMs: number,
) => Promise<unknown>;
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- tsc needs it: emit is overloaded
const sendEvent = emit as unknown as (c: ClientProxy, channel: string, data: object) => Promise<void>;

type Answer = { resolve: (value: unknown) => void; reject: (err: Error) => void };

/**
 * Runs one overlay state machine in the agent: feeds it inputs, and carries out its effects over Redis,
 * with real timers and real RTT probes. The simulator's driver (bench/sim) does the same over a
 * simulated clock and network; the machine cannot tell them apart.
 *
 * Timers are unref'd and all cleared by `stop()` (the owning service's shutdown hook). After `stop()`,
 * inputs are dropped and no effect runs.
 */
export class MachineDriver<I> {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly answers = new Map<InboundId, Answer>();
  private nextInbound = 1;
  private stopped = false;

  constructor(
    private readonly machine: OverlayMachine<I>,
    private readonly deps: MachineDriverDeps,
  ) {}

  /** Hands the machine an input now and runs the effects it returns. */
  feed(input: I | CommonInput): void {
    if (this.stopped) return;
    let effects: Effect[];
    try {
      effects = this.machine.handle(input, Date.now());
    } catch (err) {
      // A machine that throws is a bug; the node keeps running and the input is dropped.
      this.deps.log.warn(
        { err: (err as Error).message, input: (input as { type?: string }).type },
        'state machine failed on an input; dropped it',
      );
      return;
    }
    for (const e of effects) this.run(e);
  }

  /**
   * Hands the machine a request that needs an answer: `build` gets the inbound id to put in the input;
   * the promise settles when the machine answers (an `answer` effect), now or later.
   */
  ask<T>(build: (inbound: InboundId) => I): Promise<T> {
    if (this.stopped) return Promise.reject(new AstralError('unavailable', 'the node is shutting down'));
    const inbound = this.nextInbound++;
    const answered = new Promise<T>((resolve, reject) =>
      this.answers.set(inbound, { resolve: resolve as (v: unknown) => void, reject }),
    );
    this.feed(build(inbound));
    return answered;
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const a of this.answers.values())
      a.reject(new AstralError('unavailable', 'the node is shutting down'));
    this.answers.clear();
  }

  private run(e: Effect): void {
    const { client, log, events } = this.deps;
    switch (e.kind) {
      case 'request': {
        const channel = e.to === null ? e.pattern : addressed(e.pattern as never, e.to);
        sendRequest(client, channel, e.body as object, e.timeoutMs).then(
          (value) => this.feed({ type: 'reply', call: e.call, value }),
          (err: Error) =>
            this.feed({
              type: 'failed',
              call: e.call,
              code: err instanceof AstralError ? err.code : 'unavailable',
              message: err.message,
            }),
        );
        return;
      }
      case 'emit': {
        const channel = e.to === null ? e.pattern : addressed(e.pattern as never, e.to);
        sendEvent(client, channel, e.body as object).catch((err: Error) =>
          log.debug({ err: err.message, pattern: e.pattern }, 'event not delivered'),
        );
        return;
      }
      case 'answer': {
        const a = this.answers.get(e.inbound);
        if (!a) return;
        this.answers.delete(e.inbound);
        if (e.reply.ok) a.resolve(e.reply.value);
        else a.reject(new AstralError(e.reply.code, e.reply.message));
        return;
      }
      case 'set-timer': {
        const old = this.timers.get(e.timer);
        if (old) clearTimeout(old);
        const t = setTimeout(() => {
          this.timers.delete(e.timer);
          this.feed({ type: 'timer', timer: e.timer });
        }, e.afterMs);
        t.unref();
        this.timers.set(e.timer, t);
        return;
      }
      case 'clear-timer': {
        const t = this.timers.get(e.timer);
        if (t) clearTimeout(t);
        this.timers.delete(e.timer);
        return;
      }
      case 'measure-rtt': {
        const probe = this.deps.measureRtt ?? measureRtt;
        probe(e.host, e.port).then(
          (rttMs) => this.feed({ type: 'rtt', call: e.call, rttMs }),
          () => this.feed({ type: 'rtt', call: e.call, rttMs: null }),
        );
        return;
      }
      case 'publish':
        events.publish(e.event);
        return;
      case 'log':
        log[e.level](e.fields ?? {}, e.msg);
        return;
    }
  }
}
