/**
 * What the simulation measures: who is present, when each viewer got its first ticket, the tree at the end
 * of the settle phase (served, depth), continuity (the share of viewer-time with a live chain of pulls to
 * the source, sampled), and control messages per node per second.
 */
import type { SimCounters } from './sim-driver';
import type { SimDirectory } from './sim-directory';
import type { SimNetwork } from './sim-network';
import type { SimNode } from './sim-node';
import type { SimDataPlane } from './sim-relay';
import type { EventQueue } from './event-queue';

interface Viewer {
  node: SimNode;
  capacity: number;
  arrivedAt: number;
  firstTicketAt: number;
  leaving: boolean;
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / Math.max(1, a.length);

export interface Snapshot {
  at: number;
  viewers: number;
  served: number;
  servable: number;
  hops: number[];
  k: number;
  kAll: number;
  sourceForwards: number;
  joinMs: number[];
  supernodes: number;
  messages: number;
}

export class SimMeasure {
  readonly viewers = new Map<string, Viewer>();
  /** Present viewers, for an O(1) uniform pick. */
  private readonly present: string[] = [];
  private readonly slot = new Map<string, number>();
  sourceCapacity = 0;
  sourceId = '';
  snapshot: Snapshot | null = null;
  /** Continuity samples: [viewer samples, of which live], before churn (settle) and during churn. */
  readonly settled = [0, 0];
  readonly churned = [0, 0];
  /** One-second slots under churn with the stream at some sample, as the real churn bench counts: [slots, live]. */
  readonly slots = [0, 0];
  private readonly slotOf = new Map<string, { slot: number; live: boolean }>();
  private churnStart = Infinity;
  departures = { graceful: 0, crashed: 0 };
  /** The watching machine's recovery of each switch (loss noticed → new pull open; 0 for a standby promoted). */
  readonly recoveries: number[] = [];

  constructor(
    private readonly q: EventQueue,
    private readonly plane: SimDataPlane,
    private readonly nodes: Map<string, SimNode>,
  ) {}

  arrived(node: SimNode, capacity: number): void {
    if (node.spec.source) {
      this.sourceCapacity = capacity;
      this.sourceId = node.id;
      return;
    }
    this.viewers.set(node.id, { node, capacity, arrivedAt: this.q.now, firstTicketAt: -1, leaving: false });
    this.slot.set(node.id, this.present.length);
    this.present.push(node.id);
  }

  firstTicket(id: string): void {
    const v = this.viewers.get(id);
    if (v && v.firstTicketAt < 0) v.firstTicketAt = this.q.now;
  }

  /** A present viewer, uniformly (r in [0, 1)), not already leaving. */
  pickViewer(r: number): SimNode | null {
    if (this.present.length === 0) return null;
    const v = this.viewers.get(this.present[Math.floor(r * this.present.length)]);
    return v && !v.leaving ? v.node : null;
  }

  leaving(id: string): void {
    const v = this.viewers.get(id);
    if (!v || v.leaving) return;
    v.leaving = true;
    const i = this.slot.get(id)!;
    const last = this.present.pop()!;
    if (last !== id) {
      this.present[i] = last;
      this.slot.set(last, i);
    }
    this.slot.delete(id);
  }

  gone(id: string): void {
    this.viewers.delete(id);
    this.nodes.delete(id);
  }

  markChurn(at: number): void {
    this.churnStart = at;
  }

  /** Samples continuity every `everyMs` from 10 s before churn to `end`; takes the snapshot at churn start. */
  startSampling(everyMs: number, end: number): void {
    const sample = () => {
      const now = this.q.now;
      if (this.snapshot === null && now >= this.churnStart) this.snapshot = this.takeSnapshot();
      if (now >= this.churnStart - 10_000) {
        const into = now >= this.churnStart ? this.churned : this.settled;
        const memo = new Map<string, boolean>();
        const streamId = this.plane.streamId();
        for (const v of this.viewers.values()) {
          if (v.leaving || v.firstTicketAt < 0) continue;
          into[0]++;
          const live = this.plane.receives(v.node.id, streamId, memo);
          if (live) into[1]++;
          if (into === this.churned) this.countSlot(v.node.id, Math.floor(now / 1000), live);
        }
      }
      if (now + everyMs < end) this.q.after(everyMs, sample);
    };
    this.q.after(everyMs, sample);
  }

  private countSlot(id: string, slot: number, live: boolean): void {
    const s = this.slotOf.get(id);
    if (!s || s.slot !== slot) {
      if (s) {
        this.slots[0]++;
        if (s.live) this.slots[1]++;
      }
      this.slotOf.set(id, { slot, live });
    } else if (live) s.live = true;
  }

  takeSnapshot(net?: SimNetwork): Snapshot {
    const memo = new Map<string, boolean>();
    const streamId = this.plane.streamId();
    const vs = [...this.viewers.values()].filter((v) => !v.leaving);
    const hops: number[] = [];
    let sumU = 0;
    let fwdU = 0;
    let fwdN = 0;
    for (const v of vs) {
      sumU += v.capacity;
      if (v.capacity > 0) {
        fwdU += v.capacity;
        fwdN++;
      }
      if (!this.plane.receives(v.node.id, streamId, memo)) continue;
      const c = v.node.carried();
      if (c) hops.push(c.hops);
    }
    hops.sort((a, b) => a - b);
    const joinMs = vs
      .filter((v) => v.firstTicketAt >= 0)
      .map((v) => v.firstTicketAt - v.arrivedAt)
      .sort((a, b) => a - b);
    const sourceRelay = this.plane.get(this.sourceId);
    return {
      at: this.q.now,
      viewers: vs.length,
      served: hops.length,
      servable: Math.min(vs.length, Math.floor(this.sourceCapacity + sumU)),
      hops,
      k: fwdU / Math.max(1, fwdN),
      kAll: sumU / Math.max(1, vs.length),
      sourceForwards: sourceRelay ? sourceRelay.forwards.size : 0,
      joinMs,
      supernodes: 0,
      messages: net?.total ?? 0,
    };
  }
}

export interface SimResult {
  params: Record<string, unknown>;
  viewers: number;
  served: number;
  servable: number;
  servedOfServable: number;
  sourceForwards: number;
  depth: { max: number; p50: number; mean: number; bound: number; k: number };
  joinToFirstTicketMs: { p50: number; p95: number; unserved: number };
  supernodes: number;
  /** Control messages (a request and its reply count one each) per node per second, steady and under churn. */
  msgsPerNodePerS: { steady: number; churn: number };
  messages: Record<string, number>;
  /** Share of viewer-time with a live chain to the source: before churn, and under churn. */
  continuity: number;
  continuitySteady: number;
  /** Continuity counted as the real churn bench does: one-second slots with the stream at some moment. */
  continuity1s: number;
  departures: { graceful: number; crashed: number };
  /** Upstream switches after a loss: the machine's recovery time (from noticing the loss), p50 / p95. */
  recoveryMs: { p50: number; p95: number; switches: number };
  machineFailures: number;
  lastMachineFailure?: string;
  simulatedS: number;
  events: number;
  runtimeMs: number;
  cpuMs: number;
}

export function summarize(
  params: Record<string, unknown> & { nodes: number },
  m: SimMeasure,
  net: SimNetwork,
  directory: SimDirectory,
  counters: SimCounters,
  run: {
    runtimeMs: number;
    cpuMs: number;
    events: number;
    simulatedS: number;
    churnStart: number;
    msgs: { steady: [number, number, number]; churn: [number, number, number] };
  },
): SimResult {
  const s = m.snapshot ?? m.takeSnapshot();
  const perNode = ([msgs, nodeMs]: [number, number, number]) => (msgs * 1000) / Math.max(1, nodeMs);
  return {
    params,
    viewers: s.viewers,
    served: s.served,
    servable: s.servable,
    servedOfServable: s.served / Math.max(1, s.servable),
    sourceForwards: s.sourceForwards,
    depth: {
      max: s.hops[s.hops.length - 1] ?? 0,
      p50: pct(s.hops, 50),
      mean: mean(s.hops),
      bound: Math.ceil(Math.log(params.nodes) / Math.log(s.k)) + 2,
      k: s.k,
    },
    joinToFirstTicketMs: {
      p50: pct(s.joinMs, 50),
      p95: pct(s.joinMs, 95),
      unserved: s.viewers - s.joinMs.length,
    },
    supernodes: directory.supernodeCount,
    msgsPerNodePerS: { steady: perNode(run.msgs.steady), churn: perNode(run.msgs.churn) },
    messages: Object.fromEntries([...net.messages].sort((a, b) => b[1] - a[1])),
    continuity: m.churned[1] / Math.max(1, m.churned[0]),
    continuitySteady: m.settled[1] / Math.max(1, m.settled[0]),
    continuity1s: m.slots[1] / Math.max(1, m.slots[0]),
    departures: m.departures,
    recoveryMs: ((r) => ({ p50: pct(r, 50), p95: pct(r, 95), switches: r.length }))(
      [...m.recoveries].sort((a, b) => a - b),
    ),
    machineFailures: counters.failures,
    ...(counters.lastFailure && { lastMachineFailure: counters.lastFailure }),
    simulatedS: run.simulatedS,
    events: run.events,
    runtimeMs: run.runtimeMs,
    cpuMs: run.cpuMs,
  };
}
