import { Injectable, OnModuleDestroy } from '@nestjs/common';

/** One stream's latest preview. */
export interface Preview {
  jpeg: Buffer;
  width: number;
  height: number;
  /** Epoch milliseconds when it arrived. */
  at: number;
}

/** A preview older than this is dropped: its source stopped refreshing it (every ~5 s), so it is not live. */
export const PREVIEW_TTL_MS = 30_000;
/** The most previews one replica keeps (oldest first out): one per live stream, at most 160 KiB each. */
export const MAX_PREVIEWS = 2000;

/**
 * The latest preview image of each live stream, in this replica's memory. Bounded: an entry is set only for a
 * live stream by its source, dropped when the stream is seen ended, when it is PREVIEW_TTL_MS old (swept), and
 * past MAX_PREVIEWS the oldest goes. Each directory replica receives every preview over the bus (pub/sub), so
 * every replica holds the same images without a shared store.
 */
@Injectable()
export class PreviewStore implements OnModuleDestroy {
  private readonly previews = new Map<string, Preview>();
  private readonly sweep: NodeJS.Timeout;

  constructor() {
    this.sweep = setInterval(() => this.dropStale(), PREVIEW_TTL_MS / 3);
    this.sweep.unref();
  }

  /** Whether a fresh preview of the stream is held (StreamInfo.hasPreview). */
  has(streamId: string, now = Date.now()): boolean {
    return this.get(streamId, now) !== undefined;
  }

  get(streamId: string, now = Date.now()): Preview | undefined {
    const p = this.previews.get(streamId);
    return p && now - p.at < PREVIEW_TTL_MS ? p : undefined;
  }

  set(streamId: string, preview: Preview): void {
    // Re-inserted, so the Map's order stays oldest-refreshed first.
    this.previews.delete(streamId);
    this.previews.set(streamId, preview);
    while (this.previews.size > MAX_PREVIEWS) this.previews.delete(this.previews.keys().next().value!);
  }

  delete(streamId: string): void {
    this.previews.delete(streamId);
  }

  get size(): number {
    return this.previews.size;
  }

  dropStale(now = Date.now()): void {
    for (const [id, p] of this.previews) if (now - p.at >= PREVIEW_TTL_MS) this.previews.delete(id);
  }

  onModuleDestroy(): void {
    clearInterval(this.sweep);
  }
}
