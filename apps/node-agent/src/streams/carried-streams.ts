import { Injectable } from '@nestjs/common';
import { CarriedStream, ShownStream } from '@astral/contracts';

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

  /** Every stream as the local API shows it: without the forward URL, whose ticket token is a secret. */
  shown(): ShownStream[] {
    return this.all().map((c) => {
      const shown: ShownStream & { forwardUrl?: string } = { ...c };
      delete shown.forwardUrl;
      return shown;
    });
  }
}
