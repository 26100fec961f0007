import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, In, LessThan, Not, Repository } from 'typeorm';
import {
  ListNodesRequest,
  NodeHeartbeat,
  NodeInfo,
  NodeRef,
  RegisterNodeReply,
  RegisterNodeRequest,
} from '@astral/contracts';
import { DirectoryConfig, expiryAfterMs } from '../directory.config';
import { NodeEntity, toNodeInfo } from './node.entity';
import { departNodes } from './node-departure';

@Injectable()
export class NodesService {
  private readonly logger = new Logger(NodesService.name);

  constructor(
    @InjectRepository(NodeEntity) private readonly nodes: Repository<NodeEntity>,
    private readonly dataSource: DataSource,
    private readonly config: DirectoryConfig,
  ) {}

  /** Insert or refresh a node's addresses; idempotent. A supernode stays a supernode. */
  async register(req: RegisterNodeRequest): Promise<RegisterNodeReply> {
    const now = Date.now();
    await this.nodes
      .createQueryBuilder()
      .insert()
      .into(NodeEntity)
      .values({
        nodeId: req.nodeId,
        host: req.host,
        rtmpPort: req.rtmpPort,
        httpPort: req.httpPort,
        forwardPort: req.forwardPort,
        apiPort: req.apiPort,
        supernode: false,
        uploadLimitBps: req.uploadLimitBps ?? null,
        version: req.version,
        registeredAt: now,
        lastSeenAt: now,
      })
      .orUpdate(
        [
          'host',
          'rtmp_port',
          'http_port',
          'forward_port',
          'api_port',
          'upload_limit_bps',
          'version',
          'last_seen_at',
        ],
        ['node_id'],
      )
      .execute();
    const node = await this.nodes.findOneByOrFail({ nodeId: req.nodeId });
    const supernodes = await this.nodes.find({
      where: { supernode: true, nodeId: Not(req.nodeId) },
      order: { lastSeenAt: 'DESC' },
    });
    this.logger.log({ msg: 'node registered', nodeId: req.nodeId, host: req.host });
    return {
      node: toNodeInfo(node),
      heartbeatIntervalMs: this.config.heartbeatIntervalMs,
      supernodes: supernodes.map(toNodeInfo),
    };
  }

  async heartbeat(hb: NodeHeartbeat): Promise<void> {
    const result = await this.nodes.update({ nodeId: hb.nodeId }, { lastSeenAt: Date.now() });
    if (!result.affected) {
      this.logger.warn({ msg: 'heartbeat from an unknown node; it must register again', nodeId: hb.nodeId });
    }
  }

  async unregister(ref: NodeRef): Promise<{ removed: boolean }> {
    const removed = await this.dataSource.transaction((m) => departNodes(m, [ref.nodeId], Date.now()));
    if (removed > 0) this.logger.log({ msg: 'node unregistered', nodeId: ref.nodeId });
    return { removed: removed > 0 };
  }

  async list(req: ListNodesRequest = {}): Promise<NodeInfo[]> {
    const rows = await this.nodes.find({
      where: req.supernodesOnly ? { supernode: true } : {},
      order: { registeredAt: 'ASC', nodeId: 'ASC' },
    });
    return rows.map(toNodeInfo);
  }

  async find(nodeId: string): Promise<NodeEntity | null> {
    return this.nodes.findOneBy({ nodeId });
  }

  async findMany(nodeIds: string[]): Promise<NodeEntity[]> {
    return nodeIds.length === 0 ? [] : this.nodes.findBy({ nodeId: In(nodeIds) });
  }

  /**
   * Removes nodes silent for longer than the expiry bound, ending their streams. Safe to run on every
   * replica at once. Returns the ids this call found expired.
   */
  async expire(now = Date.now()): Promise<string[]> {
    const cutoff = now - expiryAfterMs(this.config);
    const expired = await this.dataSource.transaction(async (m) => {
      const rows = await m.find(NodeEntity, {
        select: { nodeId: true },
        where: { lastSeenAt: LessThan(cutoff) },
      });
      const ids = rows.map((r) => r.nodeId);
      await departNodes(m, ids, now);
      return ids;
    });
    if (expired.length > 0)
      this.logger.warn({ msg: 'nodes expired after missing heartbeats', nodeIds: expired });
    return expired;
  }
}
