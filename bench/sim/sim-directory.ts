/**
 * The simulator's directory: an in-memory model of apps/directory's behaviour on the bus (register,
 * heartbeat, unregister, list nodes, promote/demote, list supernodes, streams, carrying, list carriers,
 * expiry). What the directory decides by a pure rule is that rule, imported from @astral/overlay
 * (`rankSupernodes` for the supernodes a joining node is given, `listedCarriers` for the carriers a node
 * looking for an upstream is given); what is simulated is its storage (maps instead of PostgreSQL) and one
 * replica. See docs/SIMULATION.md.
 */
import {
  AstralErrorCode,
  DirectoryPatterns,
  NodeHeartbeat,
  NodeInfo,
  RegisterNodeRequest,
} from '@astral/contracts';
import { rankSupernodes } from '@astral/overlay';
import { SimStream } from './sim-directory-streams';
import { SimEndpoint, SimReply } from './sim-network';

/** The directory's default heartbeat interval and its expiry (3 intervals + 1 s, as directory.config.ts). */
export const DIRECTORY_HEARTBEAT_MS = 2000;

interface NodeRec {
  info: NodeInfo;
  lastSeen: number;
  forwards: number;
}

/** A refusal, answered as the directory's AstralError. */
class Refusal {
  constructor(
    readonly code: AstralErrorCode,
    readonly message: string,
  ) {}
}
const fail = (code: AstralErrorCode, message: string) => new Refusal(code, message);

export class SimDirectory implements SimEndpoint {
  private readonly nodes = new Map<string, NodeRec>();
  private readonly supernodes = new Map<string, NodeRec>();
  private readonly streams = new Map<string, SimStream>();
  private nextStream = 1;
  readonly expiryMs: number;
  /** Requests and events handled, by pattern. */
  readonly handled = new Map<string, number>();

  constructor(
    private readonly clock: () => number,
    readonly heartbeatIntervalMs = DIRECTORY_HEARTBEAT_MS,
    /**
     * The nodes whose listings a ListNodes from `from` needs (null: every node). The real directory returns
     * every node; a watching machine keeps the listings of the nodes that offered it a ticket plus the first
     * MAX_LISTINGS (1,000) of the list, so the simulation hands it those (the machine ends in the same state)
     * instead of 100,000 entries per call.
     */
    private readonly listNodesFor: (from: string | null) => readonly string[] | null = () => null,
  ) {
    this.expiryMs = 3 * heartbeatIntervalMs + 1000;
  }

  request(pattern: string, body: unknown, from: string | null, answer: (reply: SimReply) => void): void {
    this.handled.set(pattern, (this.handled.get(pattern) ?? 0) + 1);
    const only = pattern === DirectoryPatterns.ListNodes ? this.listNodesFor(from) : null;
    if (only) {
      const head = this.firstListed();
      const inHead = new Set(head.map((n) => n.nodeId));
      const nodes = only.flatMap((id) => {
        const n = this.nodes.get(id);
        return n && !inHead.has(id) ? [this.nodeInfo(n)] : [];
      });
      return answer({ ok: true, value: [...head, ...nodes] });
    }
    const r = this.handle(pattern, body);
    if (r instanceof Refusal) answer({ ok: false, code: r.code, message: r.message });
    else answer({ ok: true, value: r });
  }

  event(pattern: string, body: unknown): void {
    this.handled.set(pattern, (this.handled.get(pattern) ?? 0) + 1);
    this.handle(pattern, body);
  }

  get nodeCount(): number {
    return this.nodes.size;
  }

  /** The first 1,000 nodes of the directory's list (registration order), rebuilt when nodes come or go. */
  private head: NodeInfo[] | null = null;
  private firstListed(): NodeInfo[] {
    if (this.head === null) {
      this.head = [];
      for (const n of this.nodes.values()) {
        if (this.head.length === 1000) break;
        this.head.push(this.nodeInfo(n));
      }
    }
    return this.head;
  }

  /** The key the directory lists for a node (null: not registered), as an agent looks a requester up. */
  keyOf(nodeId: string): string | null {
    return this.nodes.get(nodeId)?.info.publicKey ?? null;
  }

  get supernodeCount(): number {
    return this.supernodes.size;
  }

  /** The directory's expiry sweep: nodes silent for the expiry window depart (their streams end). */
  expire(): string[] {
    const now = this.clock();
    const dead: string[] = [];
    for (const [id, n] of this.nodes) if (n.lastSeen < now - this.expiryMs) dead.push(id);
    for (const id of dead) this.depart(id);
    return dead;
  }

  private handle(pattern: string, body: unknown): unknown {
    const b = body as Record<string, unknown>;
    switch (pattern) {
      case DirectoryPatterns.RegisterNode:
        return this.register(body as RegisterNodeRequest);
      case DirectoryPatterns.NodeHeartbeat:
        return this.heartbeat(body as NodeHeartbeat);
      case DirectoryPatterns.UnregisterNode:
        return { removed: this.depart(String(b.nodeId)) };
      case DirectoryPatterns.ListNodes:
        return [...(b.supernodesOnly ? this.supernodes : this.nodes).values()].map((n) => this.nodeInfo(n));
      case DirectoryPatterns.PromoteSupernode:
      case DirectoryPatterns.DemoteSupernode: {
        const n = this.nodes.get(String(b.nodeId));
        if (!n) return fail('not-found', `node ${String(b.nodeId)} is not registered`);
        const promote = pattern === DirectoryPatterns.PromoteSupernode;
        n.info.supernode = promote;
        n.info.maxChildren = promote ? Number(b.maxChildren) : null;
        if (!promote) n.info.childCount = 0;
        if (promote) this.supernodes.set(n.info.nodeId, n);
        else this.supernodes.delete(n.info.nodeId);
        return this.nodeInfo(n);
      }
      case DirectoryPatterns.ListSupernodes:
        return this.rankedSupernodes(
          b.nodeId as string | undefined,
          b.hint as string | undefined,
          (b.limit as number | undefined) ?? 20,
        );
      case DirectoryPatterns.CreateStream:
        return this.createStream(String(b.sourceNodeId), String(b.title));
      case DirectoryPatterns.AnnounceStream: {
        const s = this.streams.get(String(b.streamId));
        if (!s) return fail('not-found', `no stream ${String(b.streamId)}`);
        if (s.info.sourceNodeId !== b.nodeId) return fail('forbidden', 'only the source node may announce');
        if (s.info.status === 'ended') return fail('conflict', 'the stream has ended');
        s.info.status = 'live';
        s.info.startedAt ??= new Date(this.clock()).toISOString();
        if (typeof b.bitrateBps === 'number') s.info.bitrateBps = b.bitrateBps;
        s.carry(this.nodes.get(String(b.nodeId))?.info, 0);
        return s.toInfo();
      }
      case DirectoryPatterns.EndStream: {
        const s = this.streams.get(String(b.streamId));
        if (!s) return fail('not-found', `no stream ${String(b.streamId)}`);
        s.end(new Date(this.clock()).toISOString());
        return s.toInfo();
      }
      case DirectoryPatterns.GetStream: {
        const s = this.streams.get(String(b.streamId));
        return s ? s.toInfo() : fail('not-found', `no stream ${String(b.streamId)}`);
      }
      case DirectoryPatterns.ListStreams: {
        const items = [...this.streams.values()].map((s) => s.toInfo());
        return { items, total: items.length, page: 1, pageSize: items.length };
      }
      case DirectoryPatterns.ListCarriers: {
        const s = this.streams.get(String(b.streamId));
        return s
          ? s.listCarriers((id) => this.nodes.get(id)?.info)
          : fail('not-found', `no stream ${String(b.streamId)}`);
      }
      case DirectoryPatterns.Carrying: {
        const s = this.streams.get(String(b.streamId));
        const nodeId = String(b.nodeId);
        if (!b.carrying) {
          if (s) s.carriers.remove(nodeId);
          return undefined;
        }
        if (s && s.info.status !== 'ended' && this.nodes.has(nodeId))
          s.carry(this.nodes.get(nodeId)?.info, Number(b.hops));
        return undefined;
      }
      case DirectoryPatterns.SetPreview:
        return { ok: true };
      default:
        return fail('bad-request', `the simulated directory does not handle ${pattern}`);
    }
  }

  private register(req: RegisterNodeRequest) {
    const now = this.clock();
    const old = this.nodes.get(req.nodeId);
    const info: NodeInfo = {
      nodeId: req.nodeId,
      host: req.host,
      rtmpPort: req.rtmpPort,
      httpPort: req.httpPort,
      forwardPort: req.forwardPort,
      apiPort: req.apiPort,
      supernode: old?.info.supernode ?? false,
      maxChildren: old?.info.maxChildren ?? null,
      childCount: old?.info.childCount ?? 0,
      uploadLimitBps: req.uploadLimitBps ?? null,
      lastSeenAt: '',
      version: req.version,
      publicKey: req.publicKey,
      uploadBps: old?.info.uploadBps ?? null,
      committedBps: old?.info.committedBps ?? null,
      players: old?.info.players ?? 0,
      supernodeId: old?.info.supernodeId ?? null,
    };
    const rec: NodeRec = { info, lastSeen: now, forwards: old?.forwards ?? 0 };
    this.nodes.set(req.nodeId, rec);
    this.head = null;
    if (info.supernode) this.supernodes.set(req.nodeId, rec);
    return {
      node: this.nodeInfo(rec),
      heartbeatIntervalMs: this.heartbeatIntervalMs,
      supernodes: this.rankedSupernodes(req.nodeId, req.host, 20),
    };
  }

  private heartbeat(hb: NodeHeartbeat): undefined {
    const n = this.nodes.get(hb.nodeId);
    if (!n) return undefined; // unknown: it must register again
    n.lastSeen = this.clock();
    if (hb.childCount !== undefined) n.info.childCount = hb.childCount;
    n.forwards = hb.forwards ?? 0;
    n.info.players = hb.players ?? 0;
    n.info.uploadBps = hb.uploadBps ?? null;
    n.info.committedBps = hb.committedBps ?? null;
    n.info.supernodeId = hb.supernodeId ?? null;
    for (const r of hb.streams ?? []) {
      const s = this.streams.get(r.streamId);
      const c = s?.carriers.get(hb.nodeId);
      if (!s || !c || r.upstreamNodeId === hb.nodeId) continue; // a heartbeat never adds a carrier
      c.upstreamNodeId = r.upstreamNodeId ?? null;
      c.players = r.players + r.localPlayers;
      c.bitrateBps = r.bitrateBps;
      s.carriers.setOpen(hb.nodeId, s.hasRoom(n.info));
    }
    return undefined;
  }

  private rankedSupernodes(selfId: string | undefined, hint: string | undefined, limit: number): NodeInfo[] {
    const others = [...this.supernodes.values()].filter((s) => s.info.nodeId !== selfId).map((s) => s.info);
    return rankSupernodes(others, hint, limit).map((s) => this.nodeInfo(this.nodes.get(s.nodeId)!));
  }

  private createStream(sourceNodeId: string, title: string) {
    if (!this.nodes.has(sourceNodeId))
      return fail('not-found', `source node ${sourceNodeId} is not registered`);
    const streamId = `sim-stream-${this.nextStream++}`;
    const s = new SimStream(streamId, title, sourceNodeId, new Date(this.clock()).toISOString());
    this.streams.set(streamId, s);
    return s.toInfo();
  }

  /** Removes a node: its carrier rows go, and the streams it is the source of end (node-departure.ts). */
  private depart(nodeId: string): boolean {
    if (!this.nodes.delete(nodeId)) return false;
    this.head = null;
    this.supernodes.delete(nodeId);
    for (const s of this.streams.values()) {
      if (s.info.sourceNodeId === nodeId) s.end(new Date(this.clock()).toISOString());
      else s.carriers.remove(nodeId);
    }
    return true;
  }

  private nodeInfo(n: NodeRec): NodeInfo {
    return { ...n.info, lastSeenAt: new Date(n.lastSeen).toISOString() };
  }
}
