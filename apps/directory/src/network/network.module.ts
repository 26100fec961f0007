import { Module } from '@nestjs/common';
import { NodesModule } from '../nodes/nodes.module';
import { StreamsModule } from '../streams/streams.module';
import { NetworkPageController } from './network-page';
import { ListedNetworkSource, NetworkSnapshotSource } from './network-snapshot-source';
import { NetworkSocket } from './network-socket';

/** The live network view: GET /network, its scripts, and the WebSocket at /ws/network that feeds it. */
@Module({
  imports: [NodesModule, StreamsModule],
  controllers: [NetworkPageController],
  providers: [NetworkSocket, { provide: NetworkSnapshotSource, useClass: ListedNetworkSource }],
})
export class NetworkModule {}
