/**
 * The simulator's counterpart of the agent's MachineDriver (apps/node-agent/src/overlay/machine-driver.ts):
 * runs one overlay state machine of one node over the simulated clock and network. Effects are carried out
 * as the agent carries them out: `request` goes to the target (a node id, the node's own id for its relay,
 * null for the directory) and its reply or failure comes back as an input; `emit` is one-way; timers are
 * events on the queue (a timer of the same name replaces the earlier one); `measure-rtt` is answered from
 * the geometry after one round trip; `answer` settles the inbound request it names; `publish` and `log`
 * are counted. The machine cannot tell this driver from the agent's.
 */
import type { CommonInput, Effect, InboundId, OverlayMachine } from '@astral/overlay';
import { SimNetwork, SimReply } from './sim-network';

export interface SimDriverOptions {
  /** Round-trip time to the node listening at host:port, or null if nobody answers there. */
  rttTo(host: string, port: number): number | null;
  /** How long an RTT probe waits before it answers null (the agent's measureRtt: 500 ms). */
  rttTimeoutMs?: number;
  /** Every effect of the machine, before it runs (for the simulator's bookkeeping and for specs). */
  observe?(effect: Effect, now: number): void;
  /** After every input and its effects (where a driver passes facts from one machine to another). */
  after?(input: { type: string }): void;
}

/** What a simulated node's machines did besides talking: publishes and logs by kind. */
export interface SimCounters {
  publishes: Map<string, number>;
  logs: Map<string, number>;
  /** Inputs a machine threw on (a bug in the machine: the input is dropped, as in the agent). */
  failures: number;
  lastFailure?: string;
}

export function newCounters(): SimCounters {
  return { publishes: new Map(), logs: new Map(), failures: 0 };
}

const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

export class SimDriver<I> {
  private readonly timers = new Map<string, number>();
  private readonly answers = new Map<InboundId, (reply: SimReply) => void>();
  private nextInbound = 1;
  private generation = 0;
  private stopped = false;

  constructor(
    private readonly machine: OverlayMachine<I>,
    readonly nodeId: string,
    private readonly net: SimNetwork,
    private readonly counters: SimCounters,
    private readonly options: SimDriverOptions,
  ) {}

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Hands the machine an input now and runs the effects it returns. */
  feed(input: I | CommonInput): void {
    if (this.stopped) return;
    let effects: Effect[];
    try {
      effects = this.machine.handle(input, this.net.now);
    } catch (err) {
      this.counters.failures++;
      this.counters.lastFailure = `${(input as { type?: string }).type}: ${(err as Error).message}`;
      return;
    }
    for (const e of effects) this.run(e);
    this.options.after?.(input as { type: string });
  }

  /** Hands the machine a request that needs an answer; `answer` is called when the machine answers. */
  ask(build: (inbound: InboundId) => I, answer: (reply: SimReply) => void): void {
    if (this.stopped) {
      answer({ ok: false, code: 'unavailable', message: 'the node is shutting down' });
      return;
    }
    const inbound = this.nextInbound++;
    this.answers.set(inbound, answer);
    this.feed(build(inbound));
  }

  /** The node stops (crash or leave): no timer fires, no input is taken, open inbound requests are refused. */
  stop(): void {
    this.stopped = true;
    this.timers.clear();
    for (const a of this.answers.values())
      a({ ok: false, code: 'unavailable', message: 'the node is shutting down' });
    this.answers.clear();
  }

  /** Names of the armed timers (for specs). */
  armedTimers(): string[] {
    return [...this.timers.keys()];
  }

  private run(e: Effect): void {
    this.options.observe?.(e, this.net.now);
    switch (e.kind) {
      case 'request':
        this.net.request(this.nodeId, e.to, e.pattern, e.body, e.timeoutMs, (reply) => {
          if (reply.ok) this.feed({ type: 'reply', call: e.call, value: reply.value });
          else this.feed({ type: 'failed', call: e.call, code: reply.code, message: reply.message });
        });
        return;
      case 'emit':
        this.net.emit(this.nodeId, e.to, e.pattern, e.body);
        return;
      case 'answer': {
        const a = this.answers.get(e.inbound);
        if (!a) return;
        this.answers.delete(e.inbound);
        a(e.reply);
        return;
      }
      case 'set-timer': {
        const token = ++this.generation;
        this.timers.set(e.timer, token);
        this.net.queue.after(e.afterMs, () => {
          if (this.stopped || this.timers.get(e.timer) !== token) return;
          this.timers.delete(e.timer);
          this.feed({ type: 'timer', timer: e.timer });
        });
        return;
      }
      case 'clear-timer':
        this.timers.delete(e.timer);
        return;
      case 'measure-rtt': {
        const rtt = this.options.rttTo(e.host, e.port);
        const limit = this.options.rttTimeoutMs ?? 500;
        const answered = rtt !== null && rtt <= limit;
        this.net.queue.after(answered ? rtt : limit, () =>
          this.feed({ type: 'rtt', call: e.call, rttMs: answered ? rtt : null }),
        );
        return;
      }
      case 'publish':
        bump(this.counters.publishes, e.event.type);
        return;
      case 'log':
        bump(this.counters.logs, `${e.level}: ${e.msg}`);
        return;
    }
  }
}
