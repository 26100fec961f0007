import { FlvTag } from '@astral/media';

/** Something a StreamHub hands every tag to: a downstream forward, or the local republisher. */
export interface StreamConsumer {
  /** `wire` is the tag already encoded for the wire (tag header, body, PreviousTagSize). */
  deliver(tag: FlvTag, wire: Buffer): void;
  close(reason: string): void;
}
