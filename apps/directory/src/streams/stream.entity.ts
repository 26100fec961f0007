import { Column, Entity, PrimaryColumn } from 'typeorm';
import { StreamInfo, StreamStatus } from '@astral/contracts';
import { bigintAsNumber, isoOrNull } from '../database/columns';

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
}

export function toStreamInfo(s: StreamEntity): StreamInfo {
  return {
    streamId: s.streamId,
    title: s.title,
    description: s.description,
    sourceNodeId: s.sourceNodeId,
    status: s.status,
    bitrateBps: s.bitrateBps,
    createdAt: new Date(s.createdAt).toISOString(),
    startedAt: isoOrNull(s.startedAt),
    endedAt: isoOrNull(s.endedAt),
    // What its carriers report (issue 14); filled in by the streams service from the carrier rows.
    viewers: 0,
    carriers: 0,
    width: null,
    height: null,
    freeCapacityBps: null,
    needsCapacity: false,
    hasPreview: false,
  };
}
