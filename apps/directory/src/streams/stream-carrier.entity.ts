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

  /** Epoch milliseconds. */
  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintAsNumber })
  updatedAt!: number;
}
