import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from '../database/columns';

/** A node that currently carries a stream, at a depth (hops from the source) in its tree. */
@Entity('stream_carriers')
export class StreamCarrierEntity {
  @PrimaryColumn({ name: 'stream_id', type: 'varchar', length: 64 })
  streamId!: string;

  @PrimaryColumn({ name: 'node_id', type: 'varchar', length: 36 })
  nodeId!: string;

  @Column({ type: 'integer' })
  hops!: number;

  /** Epoch milliseconds of its last carrying report (not of heartbeats: the order among equal hops stays put). */
  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintAsNumber })
  updatedAt!: number;

  /** What the node's heartbeats report about the stream (HeartbeatStream); null/0 until the first report. */
  @Column({ name: 'upstream_node_id', type: 'varchar', length: 36, nullable: true })
  upstreamNodeId!: string | null;

  /** Players that cost upload. */
  @Column({ type: 'integer', default: 0 })
  players!: number;

  /** Players over loopback (no upload). */
  @Column({ name: 'local_players', type: 'integer', default: 0 })
  localPlayers!: number;

  @Column({ type: 'integer', default: 0 })
  forwards!: number;

  /** The stream's bit rate as this node measures it. */
  @Column({ name: 'bitrate_bps', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  bitrateBps!: number | null;

  @Column({ type: 'integer', nullable: true })
  width!: number | null;

  @Column({ type: 'integer', nullable: true })
  height!: number | null;

  /** Epoch milliseconds of the last heartbeat that reported the stream; null before. */
  @Column({ name: 'reported_at', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  reportedAt!: number | null;
}
