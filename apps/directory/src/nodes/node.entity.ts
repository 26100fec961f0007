import { Column, Entity, PrimaryColumn } from 'typeorm';
import { NodeInfo } from '@astral/contracts';
import { bigintAsNumber } from '../database/columns';

@Entity('nodes')
export class NodeEntity {
  @PrimaryColumn({ name: 'node_id', type: 'varchar', length: 36 })
  nodeId!: string;

  @Column({ type: 'varchar', length: 253 })
  host!: string;

  @Column({ name: 'rtmp_port', type: 'integer' })
  rtmpPort!: number;

  @Column({ name: 'http_port', type: 'integer' })
  httpPort!: number;

  @Column({ name: 'forward_port', type: 'integer' })
  forwardPort!: number;

  @Column({ name: 'api_port', type: 'integer' })
  apiPort!: number;

  @Column({ type: 'boolean' })
  supernode!: boolean;

  /** For a supernode: the cap on members set when it was promoted; null otherwise. */
  @Column({ name: 'max_children', type: 'integer', nullable: true })
  maxChildren!: number | null;

  /** For a supernode: members it reported in its last heartbeat. */
  @Column({ name: 'child_count', type: 'integer', default: 0 })
  childCount!: number;

  /** Accepted registrations of this node (each request counted once, however many replicas run). */
  @Column({ type: 'integer', default: 0 })
  registrations!: number;

  /** Bits per second; null means unlimited. */
  @Column({ name: 'upload_limit_bps', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  uploadLimitBps!: number | null;

  @Column({ type: 'varchar', length: 32 })
  version!: string;

  /** Epoch milliseconds. */
  @Column({ name: 'registered_at', type: 'bigint', transformer: bigintAsNumber })
  registeredAt!: number;

  /** The key the node registered with (bound for ever in node_keys); null for a row from before keys. */
  @Column({ name: 'public_key', type: 'varchar', length: 43, nullable: true })
  publicKey!: string | null;

  /** Epoch milliseconds of the last registration or heartbeat. */
  @Column({ name: 'last_seen_at', type: 'bigint', transformer: bigintAsNumber })
  lastSeenAt!: number;

  /** What its last heartbeat reported it uploads now (bits per second); null until reported. */
  @Column({ name: 'upload_bps', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  uploadBps!: number | null;

  /** Upload promised to forwards and players (its last heartbeat); null until reported. */
  @Column({ name: 'committed_bps', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  committedBps!: number | null;

  /** Players that cost upload, over all streams (its last heartbeat). */
  @Column({ type: 'integer', default: 0 })
  players!: number;

  /** Forwards to downstream nodes, over all streams (its last heartbeat). */
  @Column({ type: 'integer', default: 0 })
  forwards!: number;

  /** The supernode it is a member of (its last heartbeat); null for none or unknown. */
  @Column({ name: 'supernode_id', type: 'varchar', length: 36, nullable: true })
  supernodeId!: string | null;

  /** Epoch milliseconds of its last heartbeat (not registration); null before the first. */
  @Column({ name: 'last_report_at', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  lastReportAt!: number | null;
}

export function toNodeInfo(n: NodeEntity): NodeInfo {
  return {
    nodeId: n.nodeId,
    host: n.host,
    rtmpPort: n.rtmpPort,
    httpPort: n.httpPort,
    forwardPort: n.forwardPort,
    apiPort: n.apiPort,
    supernode: n.supernode,
    maxChildren: n.maxChildren,
    childCount: n.childCount,
    uploadLimitBps: n.uploadLimitBps,
    lastSeenAt: new Date(n.lastSeenAt).toISOString(),
    version: n.version,
    publicKey: n.publicKey,
    uploadBps: n.uploadBps,
    committedBps: n.committedBps,
    players: n.players,
    supernodeId: n.supernodeId,
  };
}
