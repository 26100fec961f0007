import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from './columns';

/** One request whose effects were applied, keyed by its transport id or idempotency key. */
@Entity('processed_requests')
export class ProcessedRequestEntity {
  @PrimaryColumn({ name: 'request_key', type: 'varchar', length: 100 })
  requestKey!: string;

  @Column({ type: 'varchar', length: 64 })
  pattern!: string;

  /** What the first replica answered with, when later replicas must answer the same (e.g. a new id). */
  @Column({ type: 'varchar', length: 200, nullable: true })
  result!: string | null;

  /** Epoch milliseconds. */
  @Column({ name: 'processed_at', type: 'bigint', transformer: bigintAsNumber })
  processedAt!: number;
}
