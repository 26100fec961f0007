import { Column, Entity, PrimaryColumn } from 'typeorm';
import { StreamInfo, StreamStatus } from '@astral/contracts';
import { bigintAsNumber, isoOrNull } from '../database/columns';
import type { StreamStats } from './carrier-state';

@Entity('streams')
export class StreamEntity {
  @PrimaryColumn({ name: 'stream_id', type: 'varchar', length: 64 })
  streamId!: string;

  @Column({ type: 'varchar', length: 200 })
  title!: string;

  @Column({ type: 'varchar', length: 2000 })
  description!: string;

  @Column({ name: 'source_node_id', type: 'varchar', length: 36 })
  sourceNodeId!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: StreamStatus;

  @Column({ name: 'bitrate_bps', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  bitrateBps!: number | null;

  /** Epoch milliseconds. */
  @Column({ name: 'created_at', type: 'bigint', transformer: bigintAsNumber })
  createdAt!: number;

  @Column({ name: 'started_at', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  startedAt!: number | null;

  @Column({ name: 'ended_at', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  endedAt!: number | null;

  /** Epoch ms of the last placement that found no carrier with room but the source (or none); null if never. */
  @Column({ name: 'starved_at', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  starvedAt!: number | null;
}

/** What a stream's carriers report, before any is known (an ended stream, or none yet). */
export const NO_CARRIER_STATS: StreamStats = {
  viewers: 0,
  carriers: 0,
  width: null,
  height: null,
  bitrateBps: null,
  freeCapacityBps: 0,
  needsCapacity: false,
};

/** The stream with what its carriers report (deriveStreamStats) and whether this replica holds its preview. */
export function toStreamInfo(
  s: StreamEntity,
  stats: StreamStats = NO_CARRIER_STATS,
  hasPreview = false,
): StreamInfo {
  return {
    streamId: s.streamId,
    title: s.title,
    description: s.description,
    sourceNodeId: s.sourceNodeId,
    status: s.status,
    createdAt: new Date(s.createdAt).toISOString(),
    startedAt: isoOrNull(s.startedAt),
    endedAt: isoOrNull(s.endedAt),
    ...stats,
    bitrateBps: stats.bitrateBps ?? s.bitrateBps,
    hasPreview,
  };
}
