import { Controller } from '@nestjs/common';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import {
  DirectoryPatterns,
  ListNodesRequest,
  NodeHeartbeat,
  NodeInfo,
  NodeRef,
  RegisterNodeReply,
  RegisterNodeRequest,
} from '@astral/contracts';
import { NodesService } from './nodes.service';

/** Node patterns over Redis. Errors become AstralErrorBody replies in AstralExceptionFilter. */
@Controller()
export class NodesController {
  constructor(private readonly nodes: NodesService) {}

  @MessagePattern(DirectoryPatterns.RegisterNode)
  register(@Payload() req: RegisterNodeRequest): Promise<RegisterNodeReply> {
    return this.nodes.register(req);
  }

  @EventPattern(DirectoryPatterns.NodeHeartbeat)
  heartbeat(@Payload() hb: NodeHeartbeat): Promise<void> {
    return this.nodes.heartbeat(hb);
  }

  @MessagePattern(DirectoryPatterns.UnregisterNode)
  unregister(@Payload() ref: NodeRef): Promise<{ removed: boolean }> {
    return this.nodes.unregister(ref);
  }

  @MessagePattern(DirectoryPatterns.ListNodes)
  list(@Payload() req: ListNodesRequest): Promise<NodeInfo[]> {
    return this.nodes.list(req);
  }
}
