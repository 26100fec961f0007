/**
 * A discrete-event simulation of an Astral overlay at scale. Membership and ticket choices are made by the
 * real code in @astral/overlay (orderSupernodeCandidates, SupernodeMembers, candidateOrder, admitsForward,
 * headroomAfter, selectOffer, and for the 'improved' policy advertisedCarrying and candidateWindow); only
 * the network (latency, message delivery, time) is simulated. See docs/SIMULATION.md.
 */
import {
  OfferCandidate,
  SupernodeCandidate,
  SupernodeMembers,
  admitsForward,
  admitsRequester,
  advertisedCarrying,
  candidateOrder,
  candidateWindow,
  headroomAfter,
  orderSupernodeCandidates,
  selectOffer,
} from '@astral/overlay';
import { EventQueue, exponential, rng } from './event-queue';

/** 'agent': what the node agent does today; 'improved': the changes described in docs/SIMULATION.md. */
export type Policy = 'agent' | 'improved';

export interface SimParams {
  /** Nodes in the network, the source included. */
  nodes: number;
  seed?: number;
  /** Streams the source can upload (u_s). */
  sourceStreams?: number;
  /** Poisson arrival rate, nodes per second. */
  arrivalsPerS?: number;
  /** Cap on a supernode's members (the agent's default is 100). */
  maxChildren?: number;
  /** Supernodes the directory lists to a joining node, nearest first. */
  listedSupernodes?: number;
  /** Carriers the directory lists per request, fewest hops first. */
  directoryCarriers?: number;
  /** Candidates asked for a ticket at once (the agent asks 8). */
  askAtOnce?: number;
  policy?: Policy;
  /** 'improved': free slots a forwarder keeps for requesters that can forward (see admitsRequester). */
  reservedSlots?: number;
  /** Simulated time after the last arrival, ms. */
  settleMs?: number;
  /** Forwarding capacity in streams, drawn per node (default: 30% 0, 50% 1–2, 20% 4–8). */
  capacity?: (random: () => number) => number;
}

export interface SimResult {
  params: Required<Omit<SimParams, 'capacity'>>;
  viewers: number;
  served: number;
  servable: number;
  servedShare: number;
  servedOfServable: number;
  offload: number;
  sourceForwards: number;
  /** Fluid bound on the rate each viewer can get, in streams: min(u_s, (u_s + Σu_i)/n). */
  rMax: number;
  /**
   * k: mean forwarding capacity of the viewers that can forward (cap > 0); bound = ⌈log_k N⌉ + 2.
   * kAll: mean capacity over all viewers (the branching of a fully packed tree); boundAll likewise.
   */
  depth: { max: number; p50: number; mean: number; bound: number; k: number; kAll: number; boundAll: number };
  supernodes: number;
  membersPerSupernode: { mean: number; max: number };
  ticketAttempts: { mean: number; max: number };
  joinToServedMs: { p50: number; p95: number };
  messages: {
    total: Record<string, number>;
    /** Over the whole simulated span (arrivals plus settle). */
    directoryPerS: number;
    /** With every node present: heartbeats only. */
    directorySteadyPerS: number;
    perSupernodePerS: { mean: number; max: number };
    perSupernodeSteadyPerS: { mean: number; max: number };
    perNodePerS: number;
  };
  simulatedS: number;
  events: number;
  runtimeMs: number;
  /** CPU time of the simulation (the machine may be shared, so wall time can be much longer). */
  cpuMs: number;
}

const BITRATE = 2_500_000;
const DIRECTORY_HEARTBEAT_MS = 2000;
const MEMBER_HEARTBEAT_MS = 1000;
const TICKET_HEARTBEAT_MS = 1000;
const WATCH_DEADLINE_MS = 10_000;
const RETRY_LATER_MS = 5000;

interface SimNode {
  idx: number;
  id: string;
  x: number;
  y: number;
  cap: number;
  limitBps: number;
  committedBps: number;
  forwards: number;
  arrivedAt: number;
  /** Index of its supernode; itself if it is one; -1 before joining. */
  supernode: number;
  members: SupernodeMembers | null;
  knownSupernodes: string[];
  hops: number;
  path: string[];
  servedAt: number;
  attempts: number;
  beatPending: boolean;
  phase: number;
}

export function defaultCapacity(random: () => number): number {
  const r = random();
  if (r < 0.3) return 0;
  if (r < 0.8) return 1 + Math.floor(random() * 2);
  return 4 + Math.floor(random() * 5);
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function simulate(input: SimParams): SimResult {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const p = {
    nodes: input.nodes,
    seed: input.seed ?? 1,
    sourceStreams: input.sourceStreams ?? 4,
    arrivalsPerS: input.arrivalsPerS ?? 100,
    maxChildren: input.maxChildren ?? 100,
    listedSupernodes: input.listedSupernodes ?? 16,
    directoryCarriers: input.directoryCarriers ?? 32,
    askAtOnce: input.askAtOnce ?? 8,
    policy: input.policy ?? 'improved',
    reservedSlots: input.reservedSlots ?? 2,
    settleMs: input.settleMs ?? 60_000,
  };
  const capacity = input.capacity ?? defaultCapacity;
  const random = rng(p.seed);
  const q = new EventQueue();
  const streamId = 'stream-0';
  const msgs: Record<string, number> = {
    directoryRegister: 0,
    directoryListSupernodes: 0,
    directoryPromote: 0,
    directoryCarrying: 0,
    directoryListCarriers: 0,
    directoryHeartbeat: 0,
    membershipJoin: 0,
    membershipHeartbeat: 0,
    supernodeCarriers: 0,
    ticketRequest: 0,
    ticketReply: 0,
    ticketConfirm: 0,
    ticketCancel: 0,
    ticketHeartbeat: 0,
  };
  const supernodeEventMsgs = new Map<number, number>();
  const bump = (sn: number, n: number) => supernodeEventMsgs.set(sn, (supernodeEventMsgs.get(sn) ?? 0) + n);

  const nodes: SimNode[] = [];
  const byId = new Map<string, SimNode>();
  const supernodes: number[] = [];
  // Supernode coordinates for the directory's nearest-first list.
  let snX = new Float64Array(1024);
  let snY = new Float64Array(1024);
  const rtt = (a: SimNode, b: { x: number; y: number }) => 2 + 200 * Math.hypot(a.x - b.x, a.y - b.y);
  const dirPos = { x: 0.5, y: 0.5 };

  function newNode(idx: number, at: number, cap: number): SimNode {
    const n: SimNode = {
      idx,
      id: `n${idx}`,
      x: random(),
      y: random(),
      cap,
      limitBps: cap * BITRATE,
      committedBps: 0,
      forwards: 0,
      arrivedAt: at,
      supernode: -1,
      members: null,
      knownSupernodes: [],
      hops: -1,
      path: [],
      servedAt: -1,
      attempts: 0,
      beatPending: false,
      phase: random() * MEMBER_HEARTBEAT_MS,
    };
    nodes.push(n);
    byId.set(n.id, n);
    return n;
  }

  function promote(n: SimNode): void {
    msgs.directoryPromote += 2;
    n.supernode = n.idx;
    n.members = new SupernodeMembers(p.maxChildren, MEMBER_HEARTBEAT_MS, 3);
    if (supernodes.length === snX.length) {
      const gx = new Float64Array(snX.length * 2);
      const gy = new Float64Array(snX.length * 2);
      gx.set(snX);
      gy.set(snY);
      snX = gx;
      snY = gy;
    }
    snX[supernodes.length] = n.x;
    snY[supernodes.length] = n.y;
    supernodes.push(n.idx);
  }

  /** The directory's list: the `listedSupernodes` nearest supernodes, with their member counts. */
  function listSupernodes(n: SimNode): SimNode[] {
    const k = p.listedSupernodes;
    const bestD: number[] = [];
    const bestI: number[] = [];
    for (let i = 0; i < supernodes.length; i++) {
      const dx = snX[i] - n.x;
      const dy = snY[i] - n.y;
      const d = dx * dx + dy * dy;
      if (bestD.length === k && d >= bestD[k - 1]) continue;
      let j = bestD.length < k ? bestD.length : k - 1;
      while (j > 0 && bestD[j - 1] > d) {
        if (j < k) {
          bestD[j] = bestD[j - 1];
          bestI[j] = bestI[j - 1];
        }
        j--;
      }
      bestD[j] = d;
      bestI[j] = i;
    }
    return bestI.map((i) => nodes[supernodes[i]]);
  }

  // The directory's carrier index, by hops. 'agent': every carrier; 'improved': carriers with headroom.
  const dirCarriers: Set<number>[] = [];
  const dirListed = new Uint8Array(p.nodes);
  function directoryCarrying(n: SimNode): void {
    const want = n.hops >= 0 && (p.policy === 'agent' || admitsForward(n.limitBps, n.committedBps, BITRATE));
    if (want === (dirListed[n.idx] === 1)) return;
    msgs.directoryCarrying += 2;
    dirListed[n.idx] = want ? 1 : 0;
    (dirCarriers[n.hops] ??= new Set()).add(n.idx);
    if (!want) dirCarriers[n.hops].delete(n.idx);
  }
  function listCarriers(): { nodeId: string; hops: number }[] {
    const out: { nodeId: string; hops: number }[] = [];
    for (let h = 0; h < dirCarriers.length && out.length < p.directoryCarriers; h++) {
      for (const i of dirCarriers[h] ?? []) {
        out.push({ nodeId: nodes[i].id, hops: h });
        if (out.length >= p.directoryCarriers) break;
      }
    }
    return out;
  }

  /** The member's heartbeat that carries a change reaches its supernode at the member's next tick. */
  function scheduleBeat(n: SimNode): void {
    if (n.supernode < 0 || n.supernode === n.idx || n.beatPending) return;
    n.beatPending = true;
    const now = q.now;
    const next = Math.ceil((now - n.phase) / MEMBER_HEARTBEAT_MS) * MEMBER_HEARTBEAT_MS + n.phase;
    q.at(next <= now ? next + MEMBER_HEARTBEAT_MS : next, () => {
      n.beatPending = false;
      const sn = nodes[n.supernode];
      const carried = n.hops >= 0 ? [{ streamId, hops: n.hops }] : [];
      const carrying =
        p.policy === 'improved'
          ? advertisedCarrying(carried, n.limitBps, n.committedBps, () => BITRATE)
          : carried;
      sn.members!.heartbeat(n.id, carrying, q.now);
    });
  }

  function join(n: SimNode): void {
    msgs.directoryRegister += 2;
    msgs.directoryListSupernodes += 2;
    const listed = listSupernodes(n);
    const cands: SupernodeCandidate[] = listed.map((s) => ({
      nodeId: s.id,
      rttMs: rtt(n, s),
      childCount: s.members!.size,
      maxChildren: s.members!.capacity,
    }));
    let delay = 2 * rtt(n, dirPos) + Math.max(0, ...cands.map((c) => c.rttMs ?? 0));
    n.knownSupernodes = [...cands].sort((a, b) => (a.rttMs ?? 0) - (b.rttMs ?? 0)).map((c) => c.nodeId);
    for (const c of orderSupernodeCandidates(n.id, cands)) {
      const s = byId.get(c.nodeId)!;
      msgs.membershipJoin += 2;
      bump(s.idx, 2);
      delay += c.rttMs ?? 0;
      if (s.members!.join(n.id, '', 0, q.now)) {
        n.supernode = s.idx;
        break;
      }
    }
    if (n.supernode < 0) {
      delay += rtt(n, dirPos);
      promote(n);
    }
    q.after(delay, () => watch(n, q.now, 0));
  }

  function watch(n: SimNode, since: number, attempt: number): void {
    if (q.now > horizon) return;
    n.attempts++;
    const sn = nodes[n.supernode];
    let carriers: { nodeId: string; hops: number }[] = [];
    let delay = 0;
    if (sn.members) {
      carriers = sn.members.carriers(streamId);
      if (sn !== n) {
        msgs.supernodeCarriers += 2;
        bump(sn.idx, 2);
        delay += rtt(n, sn);
      }
    }
    msgs.directoryListCarriers += 2;
    const seen = new Set(carriers.map((c) => c.nodeId));
    for (const c of listCarriers()) if (!seen.has(c.nodeId)) carriers.push(c);
    delay = Math.max(delay, rtt(n, dirPos));
    const order = candidateOrder(n.id, carriers, n.knownSupernodes, source.id);
    const asked =
      p.policy === 'improved' ? candidateWindow(order, attempt, p.askAtOnce) : order.slice(0, p.askAtOnce);
    const offers: (OfferCandidate & { node: SimNode })[] = [];
    const rtts = new Map<string, number>();
    let roundTrip = 0;
    for (const id of asked) {
      const c = byId.get(id)!;
      msgs.ticketRequest++;
      msgs.ticketReply++;
      const r = rtt(n, c);
      roundTrip = Math.max(roundTrip, r);
      rtts.set(id, r);
      // The candidate's side, as TicketsService.request: carries it, no loop, admits one more forward.
      if (c.hops < 0 || c.path.includes(n.id) || c === n) continue;
      const admits =
        p.policy === 'improved'
          ? admitsRequester(
              c.limitBps,
              c.committedBps,
              BITRATE,
              n.cap > 0,
              q.now - n.arrivedAt > WATCH_DEADLINE_MS,
              p.reservedSlots,
            )
          : admitsForward(c.limitBps, c.committedBps, BITRATE);
      if (!admits) continue;
      offers.push({
        nodeId: c.id,
        hops: c.hops + 1,
        path: c.path,
        headroomBps: headroomAfter(c.limitBps, c.committedBps, BITRATE),
        node: c,
      });
      c.committedBps += BITRATE; // an offer reserves until it is confirmed, cancelled or expires
      directoryCarrying(c);
    }
    q.after(delay + roundTrip, () => {
      const { chosen, rejected } = selectOffer(
        n.id,
        offers,
        rtts,
        new Set(),
        p.policy === 'improved' ? source.id : undefined,
      );
      for (const o of rejected) {
        msgs.ticketCancel++;
        o.node.committedBps -= BITRATE;
        directoryCarrying(o.node);
        scheduleBeat(o.node);
      }
      if (!chosen) {
        const elapsed = q.now - since;
        if (elapsed < WATCH_DEADLINE_MS)
          q.after(Math.min(1000, 150 * (attempt + 1)), () => watch(n, since, attempt + 1));
        else if (p.policy === 'improved') q.after(RETRY_LATER_MS, () => watch(n, q.now, attempt + 1));
        return;
      }
      msgs.ticketConfirm += 2;
      q.after(rtts.get(chosen.nodeId) ?? 0, () => {
        chosen.node.forwards++;
        scheduleBeat(chosen.node);
        n.hops = chosen.hops;
        n.path = [...chosen.path, n.id];
        n.servedAt = q.now;
        directoryCarrying(n);
        scheduleBeat(n);
      });
    });
  }

  // The source: registers, finds no supernode, promotes itself, and carries the stream at hop 0.
  const source = newNode(0, 0, p.sourceStreams);
  msgs.directoryRegister += 2;
  promote(source);
  source.hops = 0;
  source.path = [source.id];
  source.servedAt = 0;
  directoryCarrying(source);

  let t = 0;
  for (let i = 1; i < p.nodes; i++) {
    t += exponential(random, 1000 / p.arrivalsPerS);
    const at = t;
    const cap = capacity(random);
    q.at(at, () => join(newNode(i, at, cap)));
  }
  const horizon = t + p.settleMs;
  q.run(horizon);
  const T = horizon;

  // Results.
  const viewers = nodes.slice(1);
  const served = viewers.filter((n) => n.hops > 0);
  const sumU = viewers.reduce((s, n) => s + n.cap, 0);
  const n = viewers.length;
  const servable = Math.min(n, Math.floor(p.sourceStreams + sumU));
  const hops = served.map((x) => x.hops).sort((a, b) => a - b);
  const forwarding = viewers.filter((x) => x.cap > 0);
  const k = forwarding.reduce((s, x) => s + x.cap, 0) / Math.max(1, forwarding.length);
  const attempts = viewers.map((x) => x.attempts);
  const joinToServed = served.map((x) => x.servedAt - x.arrivedAt).sort((a, b) => a - b);

  // Periodic messages, counted from each node's arrival (or ticket) to the end (request + reply = 2).
  let memberBeats = 0;
  const memberBeatsAt = new Map<number, number>();
  for (const x of nodes) {
    msgs.directoryHeartbeat += Math.floor((T - x.arrivedAt) / DIRECTORY_HEARTBEAT_MS);
    if (x.supernode >= 0 && x.supernode !== x.idx) {
      const b = 2 * Math.floor((T - x.arrivedAt) / MEMBER_HEARTBEAT_MS);
      memberBeats += b;
      memberBeatsAt.set(x.supernode, (memberBeatsAt.get(x.supernode) ?? 0) + b);
    }
    if (x.servedAt >= 0 && x.idx !== 0)
      msgs.ticketHeartbeat += 2 * Math.floor((T - x.servedAt) / TICKET_HEARTBEAT_MS);
  }
  msgs.membershipHeartbeat = memberBeats;
  const dirTotal =
    msgs.directoryRegister +
    msgs.directoryListSupernodes +
    msgs.directoryPromote +
    msgs.directoryCarrying +
    msgs.directoryListCarriers +
    msgs.directoryHeartbeat;
  const snRates = supernodes.map((s) => {
    const alive = (T - nodes[s].arrivedAt) / 1000;
    return ((memberBeatsAt.get(s) ?? 0) + (supernodeEventMsgs.get(s) ?? 0)) / Math.max(1, alive);
  });
  const snSteady = supernodes.map((s) => (2 * nodes[s].members!.size * 1000) / MEMBER_HEARTBEAT_MS);
  const total = Object.values(msgs).reduce((a, b) => a + b, 0);
  const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / Math.max(1, a.length);

  return {
    params: p,
    viewers: n,
    served: served.length,
    servable,
    servedShare: served.length / n,
    servedOfServable: served.length / servable,
    offload: 1 - source.forwards / n,
    sourceForwards: source.forwards,
    rMax: Math.min(p.sourceStreams, (p.sourceStreams + sumU) / n),
    depth: {
      max: hops[hops.length - 1] ?? 0,
      p50: pct(hops, 50),
      mean: mean(hops),
      bound: Math.ceil(Math.log(p.nodes) / Math.log(k)) + 2,
      k,
      kAll: sumU / n,
      boundAll: Math.ceil(Math.log(p.nodes) / Math.log(sumU / n)) + 2,
    },
    supernodes: supernodes.length,
    membersPerSupernode: {
      mean: mean(supernodes.map((s) => nodes[s].members!.size)),
      max: Math.max(...supernodes.map((s) => nodes[s].members!.size)),
    },
    ticketAttempts: { mean: mean(attempts), max: Math.max(...attempts) },
    joinToServedMs: { p50: pct(joinToServed, 50), p95: pct(joinToServed, 95) },
    messages: {
      total: msgs,
      directoryPerS: dirTotal / (T / 1000),
      directorySteadyPerS: (nodes.length * 1000) / DIRECTORY_HEARTBEAT_MS,
      perSupernodePerS: { mean: mean(snRates), max: Math.max(...snRates) },
      perSupernodeSteadyPerS: { mean: mean(snSteady), max: Math.max(...snSteady) },
      perNodePerS: total / (T / 1000) / nodes.length,
    },
    simulatedS: T / 1000,
    events: q.eventsRun,
    runtimeMs: performance.now() - t0,
    cpuMs: (() => {
      const c = process.cpuUsage(cpu0);
      return (c.user + c.system) / 1000;
    })(),
  };
}
