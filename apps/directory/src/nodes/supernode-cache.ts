import { NodeEntity } from './node.entity';

/** How long a replica answers registrations from its supernode list before reading it again. */
export const SUPERNODE_CACHE_MS = 1000;

/**
 * The supernode rows a registration's reply lists, read at most once per SUPERNODE_CACHE_MS instead of
 * once per registration. Kept fresh by this replica's own writes: a registration of a listed supernode
 * replaces its row, and promote, demote, unregister and expiry drop the list. Another replica's change
 * shows within SUPERNODE_CACHE_MS: the reply is a hint the agent checks (a full supernode refuses a
 * member), so a list a second old is good enough.
 */
export class SupernodeCache {
  private rows: NodeEntity[] | null = null;
  private readAt = 0;
  private loading: Promise<NodeEntity[]> | null = null;

  constructor(
    private readonly load: () => Promise<NodeEntity[]>,
    private readonly ttlMs = SUPERNODE_CACHE_MS,
    private readonly now: () => number = Date.now,
  ) {}

  async get(): Promise<NodeEntity[]> {
    if (this.rows && this.now() - this.readAt < this.ttlMs) return this.rows;
    // Concurrent registrations share one read.
    this.loading ??= this.load()
      .then((rows) => {
        this.rows = rows;
        this.readAt = this.now();
        return rows;
      })
      .finally(() => (this.loading = null));
    return this.loading;
  }

  /** A row this replica just wrote: it replaces a listed supernode's row (addresses may have moved). */
  saw(node: NodeEntity): void {
    if (!this.rows) return;
    const i = this.rows.findIndex((r) => r.nodeId === node.nodeId);
    if (i >= 0 && node.supernode) this.rows[i] = node;
    else if (i >= 0 || node.supernode) this.invalidate();
  }

  invalidate(): void {
    this.rows = null;
  }
}
