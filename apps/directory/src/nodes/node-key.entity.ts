import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from '../database/columns';

/**
 * The key a node id is bound to, from its first registration on (trust on first use). Outlives the node's row:
 * a node that expires or unregisters keeps its binding, so its id can never come back with another key.
 */
@Entity('node_keys')
export class NodeKeyEntity {
  @PrimaryColumn({ name: 'node_id', type: 'varchar', length: 36 })
  nodeId!: string;

  /** Ed25519 public key, raw 32 bytes as base64url (PUBLIC_KEY_PATTERN). */
  @Column({ name: 'public_key', type: 'varchar', length: 43 })
  publicKey!: string;

  /** Epoch milliseconds of the registration that bound the key. */
  @Column({ name: 'first_seen_at', type: 'bigint', transformer: bigintAsNumber })
  firstSeenAt!: number;
}
