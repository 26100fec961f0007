import { RelayStats } from '@astral/contracts';
import { httpJson } from './http-json';
import { LocalNetwork } from './local-network';

/** Who forwards a stream to whom right now: node id → the node ids it serves, from every live relay's /stats. */
export async function forwardTree(net: LocalNetwork, streamId: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  await Promise.all(
    net.nodes
      .filter((n) => n.process.running)
      .map(async (n) => {
        const s = await httpJson<RelayStats>('GET', n.forwardStatsUrl).catch(() => null);
        const st = s?.streams.find((x) => x.streamId === streamId);
        out.set(
          n.nodeId,
          st ? st.forwards.filter((f) => f.state !== 'closed').map((f) => f.downstreamNodeId) : [],
        );
      }),
  );
  return out;
}

/** Every node below `id` in a forward tree (breadth first; safe against cycles). */
export function descendants(tree: Map<string, string[]>, id: string): string[] {
  const out: string[] = [];
  const todo = [...(tree.get(id) ?? [])];
  while (todo.length) {
    const x = todo.shift()!;
    if (out.includes(x) || x === id) continue;
    out.push(x);
    todo.push(...(tree.get(x) ?? []));
  }
  return out;
}
