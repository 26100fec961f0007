import { EntityManager } from 'typeorm';
import { NodeEntity } from './node.entity';
import { StreamEntity } from '../streams/stream.entity';
import { StreamCarrierEntity } from '../streams/stream-carrier.entity';

/**
 * Removes nodes, ends the streams they are the source of, and drops every carrier row of those nodes
 * and of those streams. Each statement is idempotent, so replicas doing the same at the same time are
 * harmless. Run it inside a transaction. Returns how many node rows this call deleted.
 */
export async function departNodes(m: EntityManager, nodeIds: string[], now: number): Promise<number> {
  if (nodeIds.length === 0) return 0;
  const ids = { nodeIds };
  await m
    .createQueryBuilder()
    .update(StreamEntity)
    .set({ status: 'ended', endedAt: now })
    .where('source_node_id IN (:...nodeIds)', ids)
    .andWhere("status <> 'ended'")
    .execute();
  await m
    .createQueryBuilder()
    .delete()
    .from(StreamCarrierEntity)
    .where('node_id IN (:...nodeIds)', ids)
    .orWhere('stream_id IN (SELECT s.stream_id FROM streams s WHERE s.source_node_id IN (:...nodeIds))', ids)
    .execute();
  const deleted = await m
    .createQueryBuilder()
    .delete()
    .from(NodeEntity)
    .where('node_id IN (:...nodeIds)', ids)
    .execute();
  return deleted.affected ?? 0;
}
