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

  /** Bits per second; null means unlimited. */
  @Column({ name: 'upload_limit_bps', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  uploadLimitBps!: number | null;

  @Column({ type: 'varchar', length: 32 })
  version!: string;

  /** Epoch milliseconds. */
  @Column({ name: 'registered_at', type: 'bigint', transformer: bigintAsNumber })
  registeredAt!: number;

  /** Epoch milliseconds of the last registration or heartbeat. */
  @Column({ name: 'last_seen_at', type: 'bigint', transformer: bigintAsNumber })
  lastSeenAt!: number;
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
    uploadLimitBps: n.uploadLimitBps,
    lastSeenAt: new Date(n.lastSeenAt).toISOString(),
    version: n.version,
  };
}
