import { Module } from '@nestjs/common';
import { StreamsModule } from '../streams/streams.module';
import { PlacementController } from './placement.controller';
import { PlacementService } from './placement.service';

@Module({
  imports: [StreamsModule],
  controllers: [PlacementController],
  providers: [PlacementService],
})
export class PlacementModule {}
