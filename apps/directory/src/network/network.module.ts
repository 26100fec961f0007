import { Module } from '@nestjs/common';
import { NetworkPageController } from './network-page';
import { NetworkSnapshotSource } from './network-snapshot-source';
import { NetworkSocket } from './network-socket';

/** The live network view: GET /network, its scripts, and the WebSocket at /ws/network that feeds it. */
@Module({
  controllers: [NetworkPageController],
  providers: [NetworkSocket],
})
export class NetworkModule {}
