import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  AstralError,
  DirectoryPatterns,
  ListNodesRequest,
  ListSupernodesRequest,
  NodeHeartbeat,
  NodeInfo,
  NodeRef,
  PromoteSupernode,
  RegisterNodeReply,
  RegisterNodeRequest,
} from '@astral/contracts';
import { OnEvent, OnRequest } from '@astral/transport';
import { QueuedAt, RequestKey } from '../transport/request-key';
import { NodesService } from './nodes.service';

/**
 * Node patterns over Redis. Each message is handled by one replica, or again by another when the first
 * died holding it; the request key lets exactly one handling apply counted effects while every answer
 * is alike. Errors become AstralErrorBody replies.
 */
@Controller()
export class NodesController {
  constructor(private readonly nodes: NodesService) {}

  @OnRequest(DirectoryPatterns.RegisterNode)
  register(@Payload() req: RegisterNodeRequest, @RequestKey() key?: string): Promise<RegisterNodeReply> {
    return this.nodes.register(req, key);
  }

  /**
   * An event: nobody waits for an answer. A heartbeat the database could not record is dropped here
   * (the expiry gate has counted the failure and logs the outage once), not logged per node and beat.
   */
  @OnEvent(DirectoryPatterns.NodeHeartbeat)
  async heartbeat(@Payload() hb: NodeHeartbeat, @QueuedAt() queuedAt?: number): Promise<void> {
    try {
      await this.nodes.heartbeat(hb, queuedAt);
    } catch (err) {
      if (!(err instanceof AstralError && err.code === 'unavailable')) throw err;
    }
  }

  @OnRequest(DirectoryPatterns.UnregisterNode)
  unregister(@Payload() ref: NodeRef, @RequestKey() key?: string): Promise<{ removed: boolean }> {
    return this.nodes.unregister(ref, key);
  }

  @OnRequest(DirectoryPatterns.ListNodes)
  list(@Payload() req: ListNodesRequest): Promise<NodeInfo[]> {
    return this.nodes.list(req);
  }

  @OnRequest(DirectoryPatterns.PromoteSupernode)
  promote(@Payload() req: PromoteSupernode): Promise<NodeInfo> {
    return this.nodes.promote(req);
  }

  @OnRequest(DirectoryPatterns.DemoteSupernode)
  demote(@Payload() ref: NodeRef): Promise<NodeInfo> {
    return this.nodes.demote(ref);
  }

  @OnRequest(DirectoryPatterns.ListSupernodes)
  supernodes(@Payload() req: ListSupernodesRequest): Promise<NodeInfo[]> {
    return this.nodes.supernodes(req);
  }
}
