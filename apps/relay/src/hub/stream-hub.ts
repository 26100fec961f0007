import {
  FlvTag,
  FlvTagType,
  GopCache,
  StreamMeter,
  encodeFlvTag,
  isClockTag,
  isVideoFrame,
  shareWire,
  withWire,
} from '@astral/media';
import { StreamConsumer } from './stream-consumer';

export type StreamOrigin = 'publish' | 'upstream';

/**
 * One live stream inside a relay: the single place tags arrive (from a local publish or from an
 * upstream relay) and leave (to downstream forwards and, for relayed streams, the local media server).
 * Each tag is held in its wire form once, shared by every consumer and the GOP cache: the bytes it came
 * in (a view of the upstream's socket chunk, node-media-server's buffer), encoded here only for a tag
 * built in memory. A joiner is served from those same buffers.
 */
export class StreamHub {
  readonly gop = new GopCache();
  readonly meter = new StreamMeter();
  private readonly consumers = new Set<StreamConsumer>();
  tagsIn = 0;
  videoFramesIn = 0;
  lastTagAt: number | null = null;
  upstreamNodeId: string | null = null;
  /**
   * The latest onAstralClock stamp. The GOP cache never keeps one (a replayed stamp would read a false
   * latency), but a consumer that dates media, the HLS segmenter, needs one to date the cached GOP it
   * joins with; its mapping of stream time to wall clock holds for earlier tags too.
   */
  lastClockTag: FlvTag | null = null;

  constructor(
    readonly streamId: string,
    readonly origin: StreamOrigin,
  ) {}

  /** `wire`: the tag's wire form if the caller has it apart from the tag (shared, never modified). */
  ingest(input: FlvTag, now = Date.now(), wire?: Buffer): void {
    const tag =
      wire !== undefined && wire !== input.wire
        ? withWire(input, wire, false)
        : input.wire
          ? input
          : withWire(input, encodeFlvTag(input), true);
    wire = tag.wire!;
    // The bytes are queued to consumers and cached from here on: whoever retimes this tag later (a player
    // starting its own timeline) must get a copy, not patch what the others are sending.
    shareWire(tag);
    this.gop.add(tag);
    if (tag.type === FlvTagType.Script && isClockTag(tag)) this.lastClockTag = tag;
    this.tagsIn += 1;
    if (isVideoFrame(tag)) this.videoFramesIn += 1;
    this.lastTagAt = now;
    this.meter.record(tag, wire.length, now);
    for (const consumer of this.consumers) consumer.deliver(tag, wire);
  }

  /** Is this header identical to the one the hub already holds? (A switch re-sends the same ones.) */
  hasSameHeader(tag: FlvTag): boolean {
    const current = this.gop.headers.find((h) => h.type === tag.type);
    return current !== undefined && current.data.equals(tag.data);
  }

  /** The join sequence returned carries each tag's wire form: send it with `wireOf`, never encode it again. */
  attach(consumer: StreamConsumer): FlvTag[] {
    this.consumers.add(consumer);
    return this.gop.joinSequence();
  }

  detach(consumer: StreamConsumer): void {
    this.consumers.delete(consumer);
  }

  get consumerCount(): number {
    return this.consumers.size;
  }

  close(reason: string): void {
    for (const consumer of [...this.consumers]) consumer.close(reason);
    this.consumers.clear();
  }
}
