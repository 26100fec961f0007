/**
 * The blocked requests of one stream's HLS (blocking playlist reloads, preload-hint parts, a first request
 * before the segmenter has started). The segmenter has one `onChange` slot; the stream's state points it at
 * `wake`, which lets every waiter try again. Each waiter is bounded by its own timer and removed when it is
 * answered, times out, or its client goes away, so a crowd of disconnecting players leaves nothing behind.
 */
export interface HlsWait {
  /**
   * Tries to answer; true once answered (it is then removed). `final`: the stream's segmenting ended, answer
   * now with what there is (the last playlist, or a 404).
   */
  settle(final: boolean): boolean;
  /** The bound passed: answer 503. */
  timedOut(): void;
}

interface Entry {
  wait: HlsWait;
  timer: NodeJS.Timeout;
}

export class HlsWaiters {
  private readonly entries = new Set<Entry>();

  /** Adds a waiter bounded by `timeoutMs`; returns its cancel (for a client that went away). */
  add(wait: HlsWait, timeoutMs: number): () => void {
    const entry: Entry = {
      wait,
      timer: setTimeout(() => {
        if (!this.entries.delete(entry)) return;
        wait.timedOut();
      }, timeoutMs),
    };
    entry.timer.unref();
    this.entries.add(entry);
    return () => this.remove(entry);
  }

  /** Something changed: every waiter tries again; those answered leave. */
  wake(): void {
    for (const entry of [...this.entries]) {
      if (!this.entries.has(entry)) continue; // removed by an earlier waiter's answer
      if (entry.wait.settle(false)) this.remove(entry);
    }
  }

  /** The stream's segmenting ended: every waiter answers now. */
  endAll(): void {
    for (const entry of [...this.entries]) {
      this.remove(entry);
      entry.wait.settle(true);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  private remove(entry: Entry): void {
    clearTimeout(entry.timer);
    this.entries.delete(entry);
  }
}
