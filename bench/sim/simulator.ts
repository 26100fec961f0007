/**
 * A discrete-event simulation of an Astral overlay at scale that runs the shipped overlay machines
 * (MembershipMachine, TicketServer, WatchMachine from @astral/overlay) on every node, each through a
 * SimDriver over a simulated clock and network; the directory is an in-memory model running the
 * directory's pure rules; the relay is a data-plane model. There is no policy of the simulator's own:
 * nodes arrive, boot, watch, and (under churn) leave or crash. See docs/SIMULATION.md.
 */
import { DirectoryPatterns, StreamInfo } from '@astral/contracts';
import { EventQueue, exponential, rng } from './event-queue';
import { newCounters } from './sim-driver';
import { SimDirectory } from './sim-directory';
import { SimNetwork } from './sim-network';
import { SimNode, SimWorld } from './sim-node';
import { SimDataPlane } from './sim-relay';
import { SimMeasure, SimResult, summarize } from './sim-measure';

export type { SimResult } from './sim-measure';

export interface SimParams {
  /** Nodes in the network, the source included. */
  nodes: number;
  seed?: number;
  /** Streams the source can upload (u_s). */
  sourceStreams?: number;
  /** Poisson arrival rate, nodes per second (default: 100/s up to 10,000 nodes, N/50 per second above). */
  arrivalsPerS?: number;
  /** Simulated time after the last arrival before the churn phase, ms. */
  settleMs?: number;
  /** Length of the churn phase, ms (0: none). */
  churnMs?: number;
  /** Share of the nodes that leave per minute during churn (half gracefully, half by crashing); as many arrive. */
  churnPerMin?: number;
  /** Warm standby on every viewer (NodeConfig.standby). */
  standby?: 'off' | 'forwards' | 'players';
  /** How a crash is noticed downstream: the stall timer (host gone) or a reset (process killed). */
  crash?: 'stall' | 'reset';
  /** How often continuity is sampled, ms. */
  sampleMs?: number;
  /** Forwarding capacity in streams, drawn per node (default: 30% 0, 50% 1–2, 20% 4–8). */
  capacity?: (random: () => number) => number;
}

export const BITRATE_BPS = 2_500_000;

export function defaultCapacity(random: () => number): number {
  const r = random();
  if (r < 0.3) return 0;
  if (r < 0.8) return 1 + Math.floor(random() * 2);
  return 4 + Math.floor(random() * 5);
}

/** A host name whose common prefix with another's says how close they are (a quadtree code of the position). */
function hostOf(x: number, y: number, i: number): string {
  let code = '';
  let cx = x;
  let cy = y;
  for (let d = 0; d < 8; d++) {
    cx *= 2;
    cy *= 2;
    const bx = cx >= 1 ? 1 : 0;
    const by = cy >= 1 ? 1 : 0;
    code += String(bx * 2 + by);
    cx -= bx;
    cy -= by;
  }
  return `q${code}.n${i}.sim`;
}

export function simulate(input: SimParams): SimResult {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const p = {
    nodes: input.nodes,
    seed: input.seed ?? 1,
    sourceStreams: input.sourceStreams ?? 4,
    arrivalsPerS: input.arrivalsPerS ?? (input.nodes > 10_000 ? input.nodes / 50 : 100),
    settleMs: input.settleMs ?? 30_000,
    churnMs: input.churnMs ?? 60_000,
    churnPerMin: input.churnPerMin ?? 0.1,
    standby: input.standby ?? 'off',
    sampleMs: input.sampleMs ?? 250,
    crash: input.crash ?? 'stall',
  };
  const capacity = input.capacity ?? defaultCapacity;
  const random = rng(p.seed);
  const q = new EventQueue();
  const pos = new Map<string, { x: number; y: number }>();
  const byHost = new Map<string, string>();
  const center = { x: 0.5, y: 0.5 };
  const rttBetween = (a: { x: number; y: number }, b: { x: number; y: number }) =>
    2 + 200 * Math.hypot(a.x - b.x, a.y - b.y);
  const net = new SimNetwork(q, {
    oneWayMs: (from, to) => {
      if (from === to) return 0.05; // a node and its own relay
      return rttBetween(from === null ? center : pos.get(from)!, to === null ? center : pos.get(to)!) / 2;
    },
  });
  /** The nodes each viewer last asked for tickets (the ListNodes a watching machine sends needs their listings). */
  const asked = new Map<string, string[]>();
  const directory = new SimDirectory(
    () => q.now,
    undefined,
    (from) => (from ? (asked.get(from) ?? []) : null),
  );
  net.attach(null, directory);
  const plane = new SimDataPlane(net, BITRATE_BPS, p.crash);
  const nodes = new Map<string, SimNode>();
  const measure = new SimMeasure(q, plane, nodes);
  let streamId = '';

  const world: SimWorld = {
    net,
    counters: newCounters(),
    bitrateBps: BITRATE_BPS,
    get streamId() {
      return streamId;
    },
    sourceId: 'n0',
    standby: p.standby,
    random,
    rttTo: (fromId, host) => {
      const id = byHost.get(host);
      return id && net.isUp(id) ? rttBetween(pos.get(fromId)!, pos.get(id)!) : null;
    },
    keyOf: (id) => directory.keyOf(id),
    observe: (node, machine, e) => {
      if (machine !== 'watch') return;
      if (e.kind === 'request' && e.pattern === DirectoryPatterns.ListCarriers) asked.set(node.id, []);
      else if (e.kind === 'request' && e.to && e.pattern.endsWith('.tickets.request'))
        asked.get(node.id)?.push(e.to);
      else if (e.kind === 'publish' && e.event.type === 'ticket-created' && e.event.direction === 'incoming')
        measure.firstTicket(node.id);
      else if (e.kind === 'publish' && e.event.type === 'upstream-switched')
        measure.recoveries.push(e.event.recoveryMs);
    },
  };
  let next = 0;
  function addNode(source: boolean): SimNode {
    const i = next++;
    const id = `n${i}`;
    const x = source ? 0.5 : random();
    const y = source ? 0.5 : random();
    const host = hostOf(x, y, i);
    pos.set(id, { x, y });
    byHost.set(host, id);
    const cap = source ? p.sourceStreams : capacity(random);
    const node = new SimNode({ id, host, capacity: cap, source }, plane.add(id), world);
    nodes.set(id, node);
    measure.arrived(node, cap);
    node.boot();
    return node;
  }

  // The source: boots, creates and announces its stream (as PublishService does), publishes it on its relay.
  const source = addNode(true);
  q.after(100, () => {
    net.request(
      source.id,
      null,
      DirectoryPatterns.CreateStream,
      { sourceNodeId: source.id, title: 'sim' },
      3000,
      (r) => {
        if (!r.ok) throw new Error(`the source could not create its stream: ${r.message}`);
        streamId = (r.value as StreamInfo).streamId;
        source.relay.publishing = streamId;
        plane.streamId(streamId);
        const announce = { streamId, nodeId: source.id, bitrateBps: BITRATE_BPS };
        net.request(source.id, null, DirectoryPatterns.AnnounceStream, announce, 3000, () => undefined);
      },
    );
  });

  // Viewers arrive (Poisson), boot, and watch once their membership has a place.
  let t = 500;
  for (let i = 1; i < p.nodes; i++) {
    t += exponential(random, 1000 / p.arrivalsPerS);
    q.at(t, () => addNode(false).watchWhenJoined());
  }
  const churnStart = t + p.settleMs;
  const end = churnStart + p.churnMs;

  // The directory's expiry sweep, every heartbeat interval.
  const sweep = () => {
    directory.expire();
    if (q.now < end) q.after(directory.heartbeatIntervalMs, sweep);
  };
  q.after(directory.heartbeatIntervalMs, sweep);
  measure.startSampling(p.sampleMs, end);

  // Churn: departures at churnPerMin of the nodes a minute (half leave, half crash), as many arrivals.
  if (p.churnMs > 0) {
    const ratePerMs = (p.churnPerMin * (p.nodes - 1)) / 60_000;
    let tc = churnStart;
    for (;;) {
      tc += exponential(random, 1 / ratePerMs);
      if (tc >= end) break;
      const graceful = random() < 0.5;
      const pick = random();
      q.at(tc, () => {
        const victim = measure.pickViewer(pick);
        if (victim) depart(victim, graceful);
        addNode(false).watchWhenJoined();
      });
    }
  }

  function depart(node: SimNode, graceful: boolean): void {
    measure.leaving(node.id);
    measure.departures[graceful ? 'graceful' : 'crashed']++;
    const remove = () => {
      node.stop();
      net.detach(node.id);
      plane.remove(node.id, graceful);
      measure.gone(node.id);
    };
    if (!graceful) return remove();
    node.leave(remove);
    q.after(5000, () => !node.gone && remove()); // a leave that hangs is cut short, as the agent's shutdown is
  }

  measure.markChurn(churnStart);
  // Control messages per node per second: over the 10 s before churn (steady) and over the churn phase.
  const msgs = {
    steady: [0, 0, 0] as [number, number, number],
    churn: [0, 0, 0] as [number, number, number],
  };
  let mark = 0;
  q.at(churnStart - 10_000, () => (mark = net.total));
  q.at(churnStart, () => {
    msgs.steady = [net.total - mark, nodes.size * 10_000, 0];
    mark = net.total;
  });
  q.run(end);
  msgs.churn = [net.total - mark, nodes.size * p.churnMs, 0];
  return summarize(p, measure, net, directory, world.counters, {
    runtimeMs: performance.now() - t0,
    cpuMs: ((c) => (c.user + c.system) / 1000)(process.cpuUsage(cpu0)),
    events: q.eventsRun,
    simulatedS: end / 1000,
    churnStart,
    msgs,
  });
}
