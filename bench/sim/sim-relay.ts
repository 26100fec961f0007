/**
 * The simulator's relay data plane: what the machines need of a node's relay and nothing more. Each node's
 * relay answers its agent's commands (OpenUpstream, CloseUpstream, AdmitForward, RevokeForward, the limit
 * and budget settings, stats), pulls a stream from one primary upstream and at most one standby, and
 * forwards it on admitted tickets. When a pull breaks (its upstream crashed or left, revoked the forward,
 * or was replaced) the relay tells its agent (UpstreamLost; with a standby it splices to it first, as the
 * real relay does, and names it in `promotedNodeId`); an upstream whose downstream went away tells its agent
 * (ForwardClosed). Media is not simulated: a node "receives" while its chain of pulls reaches the source.
 */
import { AgentPatterns, RelayPatterns } from '@astral/contracts';
import { SimNetwork, SimReply } from './sim-network';

/** How long a pull from a host that vanished takes to be noticed: the relay's stall timer (NodeConfig.stallMs). */
export const STALL_MS = 1500;

interface Pull {
  upstream: string;
  ticketId: string;
}

interface Forward {
  streamId: string;
  downstream: string;
}

export class SimRelay {
  /** The stream this relay publishes (the source), or null. */
  publishing: string | null = null;
  readonly primary = new Map<string, Pull>();
  readonly standby = new Map<string, Pull>();
  readonly forwards = new Map<string, Forward>();
  constructor(
    readonly nodeId: string,
    private readonly plane: SimDataPlane,
  ) {}

  /** A command from its own agent. */
  request(pattern: string, body: Record<string, unknown>, answer: (r: SimReply) => void): void {
    const ok = (value: unknown = { ok: true }) => answer({ ok: true, value });
    switch (pattern) {
      case RelayPatterns.OpenUpstream: {
        const streamId = String(body.streamId);
        if (this.publishing === streamId)
          return answer({ ok: false, code: 'conflict', message: 'published here; no upstream' });
        const pull = { upstream: String(body.upstreamNodeId), ticketId: String(body.ticketId) };
        const role = body.role === 'standby' ? this.standby : this.primary;
        const old = role.get(streamId);
        role.set(streamId, pull);
        this.plane.pulling(this.nodeId, pull.upstream);
        if (old && (old.upstream !== pull.upstream || old.ticketId !== pull.ticketId))
          this.plane.closeForward(old.upstream, old.ticketId, 'the downstream switched upstream');
        return ok();
      }
      case RelayPatterns.CloseUpstream: {
        const streamId = String(body.streamId);
        const roles = body.role === 'standby' ? [this.standby] : [this.primary, this.standby];
        let closed = false;
        for (const role of roles) {
          const old = role.get(streamId);
          if (!old) continue;
          role.delete(streamId);
          closed = true;
          this.plane.closeForward(old.upstream, old.ticketId, 'the downstream stopped watching');
        }
        return ok({ closed });
      }
      case RelayPatterns.AdmitForward:
        this.forwards.set(String(body.ticketId), {
          streamId: String(body.streamId),
          downstream: String(body.downstreamNodeId),
        });
        return ok();
      case RelayPatterns.RevokeForward: {
        const ticketId = String(body.ticketId);
        const f = this.forwards.get(ticketId);
        this.forwards.delete(ticketId);
        if (f)
          this.plane.forwardRevoked(this.nodeId, f.downstream, f.streamId, ticketId, String(body.reason));
        return ok({ closed: f !== undefined });
      }
      case RelayPatterns.GetStats:
        return ok(this.plane.stats(this));
      default:
        return ok(); // limits, budgets, the directory link, publish authorization: nothing to simulate
    }
  }

  /** The pull on `ticketId` from `upstream` broke (noticed now). */
  lost(streamId: string, upstream: string, ticketId: string, reason: string): void {
    const p = this.primary.get(streamId);
    const s = this.standby.get(streamId);
    if (s && s.upstream === upstream && s.ticketId === ticketId) {
      this.standby.delete(streamId);
      this.plane.tell(this.nodeId, AgentPatterns.RelayUpstreamLost, {
        nodeId: this.nodeId,
        streamId,
        upstreamNodeId: upstream,
        reason,
        standby: true,
      });
      return;
    }
    if (!p || p.upstream !== upstream || p.ticketId !== ticketId) return;
    this.primary.delete(streamId);
    // With a standby the relay splices to it at once and says so.
    if (s && this.plane.isUp(s.upstream)) {
      this.standby.delete(streamId);
      this.primary.set(streamId, s);
      this.plane.tell(this.nodeId, AgentPatterns.RelayUpstreamLost, {
        nodeId: this.nodeId,
        streamId,
        upstreamNodeId: upstream,
        reason,
        promotedNodeId: s.upstream,
      });
      return;
    }
    this.plane.tell(this.nodeId, AgentPatterns.RelayUpstreamLost, {
      nodeId: this.nodeId,
      streamId,
      upstreamNodeId: upstream,
      reason,
    });
  }
}

/** Every relay of the simulated network, and who pulls from whom. */
export class SimDataPlane {
  private readonly relays = new Map<string, SimRelay>();
  /** Nodes that pull (or pulled) from a node, to be told when it goes. */
  private readonly pullers = new Map<string, Set<string>>();
  private stream = '';

  constructor(
    private readonly net: SimNetwork,
    readonly bitrateBps: number,
    /**
     * How a crash is noticed: 'stall' (the host is gone: each downstream's stall timer) or 'reset' (the
     * process was killed: its kernel closes the sockets, noticed after the one-way latency).
     */
    private readonly crash: 'stall' | 'reset' = 'stall',
  ) {}

  /** The simulated stream (one per simulation). */
  streamId(set?: string): string {
    if (set !== undefined) this.stream = set;
    return this.stream;
  }

  add(nodeId: string): SimRelay {
    const r = new SimRelay(nodeId, this);
    this.relays.set(nodeId, r);
    return r;
  }

  get(nodeId: string): SimRelay | undefined {
    return this.relays.get(nodeId);
  }

  isUp(nodeId: string): boolean {
    return this.relays.has(nodeId) && this.net.isUp(nodeId);
  }

  pulling(downstream: string, upstream: string): void {
    let s = this.pullers.get(upstream);
    if (!s) this.pullers.set(upstream, (s = new Set()));
    s.add(downstream);
  }

  /** A relay event to the node's own agent (loopback). */
  tell(nodeId: string, pattern: string, body: unknown): void {
    this.net.emit(nodeId, nodeId, pattern, body);
  }

  /**
   * A node goes: `graceful` (it sends a close tag on every forward: noticed after the one-way latency) or
   * a crash (noticed by each downstream's stall timer). Its upstreams see their forwards to it close.
   */
  remove(nodeId: string, graceful: boolean): void {
    const gone = this.relays.get(nodeId);
    if (!gone) return;
    this.relays.delete(nodeId);
    const q = this.net.queue;
    const noticeMs = graceful || this.crash === 'reset' ? 0 : STALL_MS;
    for (const d of this.pullers.get(nodeId) ?? []) {
      const r = this.relays.get(d);
      if (!r) continue;
      const reason = graceful
        ? 'the upstream is leaving'
        : this.crash === 'reset'
          ? 'upstream closed'
          : 'upstream stalled';
      for (const role of [r.primary, r.standby])
        for (const [streamId, p] of role)
          if (p.upstream === nodeId) {
            const delay = this.net.oneWayMs(nodeId, d) + noticeMs;
            q.after(delay, () => this.relays.get(d)?.lost(streamId, nodeId, p.ticketId, reason));
          }
    }
    this.pullers.delete(nodeId);
    for (const pull of [...gone.primary.values(), ...gone.standby.values()]) {
      const delay = this.net.oneWayMs(nodeId, pull.upstream) + noticeMs;
      q.after(delay, () => this.closeForward(pull.upstream, pull.ticketId, 'the downstream went away'));
    }
  }

  /** The downstream closed (or switched away from) the pull on `ticketId`: the upstream's forward closes. */
  closeForward(upstream: string, ticketId: string, reason: string): void {
    const r = this.relays.get(upstream);
    if (!r || !r.forwards.delete(ticketId)) return;
    this.tell(upstream, AgentPatterns.RelayForwardClosed, { nodeId: upstream, ticketId, reason });
  }

  /** The upstream revoked a forward: the downstream's pull breaks after the one-way latency. */
  forwardRevoked(
    upstream: string,
    downstream: string,
    streamId: string,
    ticketId: string,
    reason: string,
  ): void {
    this.net.queue.after(this.net.oneWayMs(upstream, downstream), () =>
      this.relays.get(downstream)?.lost(streamId, upstream, ticketId, `forward revoked: ${reason}`),
    );
  }

  /**
   * Whether the node has the stream now: it publishes it, or its primary pull's chain reaches the source,
   * or its (receiving) standby's does: the relay splices to the standby at the first tag it has not
   * delivered, so what the standby receives reaches the player without a gap once the primary's loss is
   * noticed.
   */
  receives(nodeId: string, streamId: string, memo: Map<string, boolean>): boolean {
    const known = memo.get(nodeId);
    if (known !== undefined) return known;
    memo.set(nodeId, false); // a loop receives nothing
    const r = this.relays.get(nodeId);
    let live = false;
    if (r && this.net.isUp(nodeId)) {
      if (r.publishing === streamId) live = true;
      else
        live =
          this.through(r.primary.get(streamId), streamId, memo) ||
          this.through(r.standby.get(streamId), streamId, memo);
    }
    memo.set(nodeId, live);
    return live;
  }

  private through(p: Pull | undefined, streamId: string, memo: Map<string, boolean>): boolean {
    const up = p && this.relays.get(p.upstream);
    return !!up && up.forwards.has(p.ticketId) && this.receives(p.upstream, streamId, memo);
  }

  stats(r: SimRelay): unknown {
    const streams = new Set([...(r.publishing ? [r.publishing] : []), ...r.primary.keys()]);
    return {
      nodeId: r.nodeId,
      uploadLimitBps: null,
      egressBps: r.forwards.size * this.bitrateBps,
      streams: [...streams].map((streamId) => ({
        streamId,
        origin: r.publishing === streamId ? 'publish' : 'upstream',
        upstreamNodeId: r.primary.get(streamId)?.upstream ?? null,
        bitrateBps: this.bitrateBps,
        peakBitrateBps: this.bitrateBps,
        fps: 30,
        keyframeIntervalMs: 2000,
        viewers: 0,
        forwards: [],
        tagsIn: 0,
        lastTagAt: null,
      })),
    };
  }
}
