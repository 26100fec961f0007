import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { MAX_PAGE_SIZE, StreamInfo } from '@astral/contracts';
import { Logger, NodeConfig } from '@astral/config';
import { AGENT_CONFIG, AGENT_LOGGER, AGENT_NODE_ID } from '../agent.tokens';
import { DirectoryLink } from '../directory/directory-link.service';
import { RelayLink } from '../relay/relay-link.service';
import { NodeFacts } from '../overlay/node-facts';
import { CarriedStreams } from '../streams/carried-streams';
import { WatchService } from '../streams/watch.service';
import { SeedPolicy, SeededStream, planSeeding } from './seed-plan';
import { parseSeedSelector } from './seed-selector';

/** Mean time between looks at the directory's live streams; each wait is jittered by ±1/3. */
export const SEED_POLL_MS = 3000;
/** After a failed start (no upstream had room) the stream is tried again no sooner than this. */
export const SEED_RETRY_MS = 15_000;
/** Pages of live streams read per look (MAX_PAGE_SIZE each). */
const MAX_PAGES = 20;

/**
 * The seeder (ASTRAL_SEED): every few seconds reads the live streams from the directory, plans with
 * planSeeding, and seeds or drops streams through the watch path. It manages only the streams it started.
 */
@Injectable()
export class SeederService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly policy: SeedPolicy | null;
  /** Streams this seeder started, and when each last served anyone. */
  private readonly seeded = new Map<string, { lastUsedAt: number }>();
  /** Streams not to start again before a time: dropped for idleness, or a start that failed. Swept every look. */
  private readonly notBefore = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    @Inject(AGENT_CONFIG) config: NodeConfig,
    @Inject(AGENT_NODE_ID) private readonly nodeId: string,
    @Inject(AGENT_LOGGER) private readonly log: Logger,
    private readonly directoryLink: DirectoryLink,
    private readonly relayLink: RelayLink,
    private readonly carried: CarriedStreams,
    private readonly watching: WatchService,
    private readonly facts: NodeFacts,
  ) {
    this.policy = config.seed
      ? {
          selector: parseSeedSelector(config.seed),
          idleMs: config.seedIdleMs,
          maxStreams: config.seedMaxStreams ?? null,
        }
      : null;
  }

  onApplicationBootstrap(): void {
    if (!this.policy) return;
    this.log.info(
      { seed: this.policy.selector.text, idleMs: this.policy.idleMs, maxStreams: this.policy.maxStreams },
      'seeder on: seeding live streams whose carriers need capacity',
    );
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    const wait = SEED_POLL_MS * (2 / 3 + (Math.random() * 2) / 3);
    this.timer = setTimeout(() => {
      this.look()
        .catch((err: Error) => this.log.warn({ err: err.message }, 'seeder could not look at the streams'))
        .finally(() => this.schedule());
    }, wait);
  }

  /** One round: read, plan, act. A directory that does not answer means no decision this round. */
  async look(now = Date.now()): Promise<void> {
    if (!this.policy || !this.directoryLink.isRegistered) return;
    const live = await this.liveStreams();
    for (const [id, until] of this.notBefore) if (until <= now) this.notBefore.delete(id);
    const plan = planSeeding(this.policy, {
      nodeId: this.nodeId,
      now,
      live,
      seeded: this.seededNow(now),
      carried: new Set(this.carried.all().map((c) => c.streamId)),
      freeUploadBps: this.freeUploadBps(),
      notBefore: this.notBefore,
    });
    for (const a of plan.stop) {
      this.seeded.delete(a.streamId);
      if (live.some((s) => s.streamId === a.streamId))
        this.notBefore.set(a.streamId, now + this.policy.idleMs);
      await this.watching
        .stopWatching(a.streamId)
        .catch((err: Error) =>
          this.log.warn({ streamId: a.streamId, err: err.message }, 'seeder could not stop a stream'),
        );
      this.log.info({ streamId: a.streamId, reason: a.reason }, 'seeder stopped seeding a stream');
    }
    for (const a of plan.start) {
      if (this.stopped) return;
      try {
        await this.watching.watch(a.streamId, true);
        this.seeded.set(a.streamId, { lastUsedAt: Date.now() });
        this.log.info({ streamId: a.streamId, reason: a.reason }, 'seeder started seeding a stream');
      } catch (err) {
        // The seeder retries on its own schedule: the watch's background acquisition is stopped.
        await this.watching.stopWatching(a.streamId).catch(() => false);
        this.notBefore.set(a.streamId, Date.now() + SEED_RETRY_MS);
        this.log.warn(
          { streamId: a.streamId, err: (err as Error).message, retryInMs: SEED_RETRY_MS },
          'seeder could not get the stream; trying again later',
        );
      }
    }
  }

  private async liveStreams(): Promise<StreamInfo[]> {
    const all: StreamInfo[] = [];
    for (let page = 1; page <= MAX_PAGES; page++) {
      const reply = await this.directoryLink.directory.listStreams({
        status: 'live',
        page,
        pageSize: MAX_PAGE_SIZE,
      });
      all.push(...reply.items);
      if (page * reply.pageSize >= reply.total || reply.items.length === 0) break;
    }
    return all;
  }

  /** The streams this seeder started that the node still carries, with what each serves now. */
  private seededNow(now: number): SeededStream[] {
    const out: SeededStream[] = [];
    for (const [streamId, s] of this.seeded) {
      const carried = this.carried.get(streamId);
      if (!carried || carried.origin !== 'upstream') {
        this.seeded.delete(streamId); // stopped by its owner, or lost: no longer the seeder's
        continue;
      }
      const stats = this.relayLink.streamStats(streamId);
      const players = stats?.viewers ?? 0;
      // A downstream holding a ticket uses the stream even while its forward is (re)connecting or the
      // relay's last report predates it: a stream is idle only if neither the relay nor the tickets say otherwise.
      let tickets = 0;
      for (const t of this.facts.served) if (t.streamId === streamId) tickets++;
      const forwards = Math.max(stats?.forwards.length ?? 0, tickets);
      if (players + forwards > 0) s.lastUsedAt = now;
      out.push({ streamId, players, forwards, lastUsedAt: s.lastUsedAt });
    }
    return out;
  }

  /**
   * The upload limit less what is promised now: forward tickets and admitted players as the relay reports them,
   * else a copy per forward and player of each stream; null unlimited.
   */
  private freeUploadBps(): number | null {
    const limit = this.facts.uploadLimitBps;
    if (limit === null) return null;
    const stats = this.relayLink.stats;
    let used = 0;
    if (stats?.forwardCommittedBps !== undefined && stats.playerCommittedBps !== undefined)
      used = stats.forwardCommittedBps + stats.playerCommittedBps;
    else
      for (const s of stats?.streams ?? [])
        used += s.bitrateBps * (s.forwards.length + (s.players ?? s.viewers));
    return Math.max(0, limit - used);
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
