import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type {
  CarrierInfo,
  NodeInfo,
  RegisterNodeReply,
  StreamInfo,
  StreamPage,
  StreamStatus,
} from '@astral/contracts';

/** OpenAPI shapes of the replies (the contracts declare them as interfaces, which leave no runtime trace). */
export class NodeInfoDoc implements NodeInfo {
  @ApiProperty({ format: 'uuid' }) nodeId!: string;
  @ApiProperty() host!: string;
  @ApiProperty({ type: 'integer' }) rtmpPort!: number;
  @ApiProperty({ type: 'integer' }) httpPort!: number;
  @ApiProperty({ type: 'integer' }) forwardPort!: number;
  @ApiProperty({ type: 'integer' }) apiPort!: number;
  @ApiProperty() supernode!: boolean;
  @ApiProperty({ type: 'integer', nullable: true }) maxChildren!: number | null;
  @ApiProperty({ type: 'integer' }) childCount!: number;
  @ApiProperty({ type: 'integer', nullable: true, description: 'bits per second; null is unlimited' })
  uploadLimitBps!: number | null;
  @ApiProperty({ format: 'date-time' }) lastSeenAt!: string;
  @ApiProperty() version!: string;
}

export class RegisterNodeReplyDoc implements RegisterNodeReply {
  @ApiProperty({ type: NodeInfoDoc }) node!: NodeInfoDoc;
  @ApiProperty({ type: 'integer' }) heartbeatIntervalMs!: number;
  @ApiProperty({ type: [NodeInfoDoc] }) supernodes!: NodeInfoDoc[];
}

export class StreamInfoDoc implements StreamInfo {
  @ApiProperty() streamId!: string;
  @ApiProperty() title!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ format: 'uuid' }) sourceNodeId!: string;
  @ApiProperty({ enum: ['created', 'live', 'ended'] }) status!: StreamStatus;
  @ApiProperty({ type: 'integer', nullable: true }) bitrateBps!: number | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiPropertyOptional({ format: 'date-time', nullable: true }) startedAt!: string | null;
  @ApiPropertyOptional({ format: 'date-time', nullable: true }) endedAt!: string | null;
}

export class StreamPageDoc implements StreamPage {
  @ApiProperty({ type: [StreamInfoDoc] }) items!: StreamInfoDoc[];
  @ApiProperty({ type: 'integer' }) total!: number;
  @ApiProperty({ type: 'integer' }) page!: number;
  @ApiProperty({ type: 'integer' }) pageSize!: number;
}

export class CarrierInfoDoc implements CarrierInfo {
  @ApiProperty({ format: 'uuid' }) nodeId!: string;
  @ApiProperty({ type: 'integer' }) hops!: number;
  @ApiProperty() host!: string;
  @ApiProperty({ type: 'integer' }) forwardPort!: number;
  @ApiProperty({ type: 'integer' }) apiPort!: number;
}
