import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from './columns';

/**
 * A key pair of the directory, shared by every replica (the first to start writes it, the others read it). The
 * private key is PKCS#8 DER, base64: whoever can read this table can sign play tokens, so guard the database.
 */
@Entity('directory_keys')
export class DirectoryKeyEntity {
  /** What the key is for, e.g. `play-tokens`. */
  @PrimaryColumn({ type: 'varchar', length: 32 })
  name!: string;

  /** Ed25519 public key, raw 32 bytes as base64url (PUBLIC_KEY_PATTERN). */
  @Column({ name: 'public_key', type: 'varchar', length: 43 })
  publicKey!: string;

  @Column({ name: 'private_key', type: 'varchar', length: 200 })
  privateKey!: string;

  /** Epoch milliseconds. */
  @Column({ name: 'created_at', type: 'bigint', transformer: bigintAsNumber })
  createdAt!: number;
}
