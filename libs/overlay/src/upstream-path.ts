/**
 * A node's upstream path follows its upstream's: when a node re-parents, every node below it must learn
 * its new path, or a stale path keeps refusing the old parent as "a loop" (and lets a real loop through).
 * The upstream answers each ticket heartbeat with its current path; the downstream derives its own here.
 */
export type PathBelow = { path: string[]; hops: number } | { loop: true };

/**
 * This node's path below an upstream whose path (source first, the upstream last) is `upstreamPath`.
 * `loop` when this node is already on it: it would be pulling its own stream back through a descendant.
 * Returns null for a reply that is not a list of node ids (a peer running other code, or garbage).
 */
export function pathBelow(upstreamPath: unknown, selfId: string): PathBelow | null {
  if (!Array.isArray(upstreamPath) || upstreamPath.length === 0 || upstreamPath.length > 1000) return null;
  if (!upstreamPath.every((id): id is string => typeof id === 'string' && id.length > 0)) return null;
  if (upstreamPath.includes(selfId)) return { loop: true };
  return { path: [...upstreamPath, selfId], hops: upstreamPath.length };
}

/** Whether two paths are the same list of node ids. */
export function samePath(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}
