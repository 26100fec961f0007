import { Injectable } from '@nestjs/common';
import { CarriedStream } from '@astral/contracts';

/** The streams this node has right now, and where each comes from. */
@Injectable()
export class CarriedStreams {
  private readonly streams = new Map<string, CarriedStream>();

  get(streamId: string): CarriedStream | undefined {
    return this.streams.get(streamId);
  }

  set(stream: CarriedStream): void {
    this.streams.set(stream.streamId, stream);
  }

  delete(streamId: string): boolean {
    return this.streams.delete(streamId);
  }

  all(): CarriedStream[] {
    return [...this.streams.values()];
  }
}
