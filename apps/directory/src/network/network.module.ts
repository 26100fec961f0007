import { Module } from '@nestjs/common';
import { NetworkService } from '../streams/network.service';
import { StreamsModule } from '../streams/streams.module';
import { NetworkPageController } from './network-page';
import { NetworkSnapshotSource } from './network-snapshot-source';
import { NetworkSocket } from './network-socket';

/** The live network view: GET /network, its scripts, and the WebSocket at /ws/network that feeds it. */
@Module({
  imports: [StreamsModule],
  controllers: [NetworkPageController],
  providers: [NetworkSocket, { provide: NetworkSnapshotSource, useExisting: NetworkService }],
})
export class NetworkModule {}
