/**
 * The stream a fuzz run keeps alive: created on node 1 and published from the sample in real time,
 * watched by node 2 (so node 1 relays it), and sampled at node 2 (relay stats tagsIn) while the
 * fuzzer runs.
 */
import { RelayStats } from '@astral/contracts';
import { FlvFilePublisher, FlvTag, isMetadata, isSequenceHeader, parseFlvFile } from '@astral/media';
import { LocalNode, httpJson, sampleFlvPath, waitFor } from '@astral/testing';
import { readFileSync } from 'node:fs';
import { receives, watch } from '../../apps/cli/src/commands/demo.command';
import { createStream } from '../../apps/cli/src/commands/publish.command';

export interface LiveStream {
  streamId: string;
  publisher: FlvFilePublisher;
  /** Set when the publisher was cut by the server. */
  publishError: string | null;
}

/** Creates and publishes a stream on `source`, has `viewer` watch it, and waits until the viewer's relay receives it. */
export async function startStream(source: LocalNode, viewer: LocalNode): Promise<LiveStream> {
  const created = await createStream(source.apiUrl, source.apiToken, 'fuzz target stream');
  const publisher = new FlvFilePublisher({ file: sampleFlvPath(), url: created.publishUrl });
  const live: LiveStream = { streamId: created.streamId, publisher, publishError: null };
  publisher.on('error', (err: Error) => (live.publishError = err.message));
  await publisher.start();
  if (!(await receives(created.play.httpFlv, 5, 30_000)))
    throw new Error(`${source.name} does not play ${created.streamId}`);
  await watch(viewer, created.streamId);
  await waitFor(async () => ((await tagsIn(viewer, created.streamId)) ?? 0) > 10, {
    timeoutMs: 30_000,
    what: `${viewer.name}'s relay to receive ${created.streamId}`,
  });
  return live;
}

/** The stream's tagsIn at a node's relay, or null when the relay does not carry it (or does not answer). */
export async function tagsIn(node: LocalNode, streamId: string): Promise<number | null> {
  try {
    const stats = await httpJson<RelayStats>('GET', node.forwardStatsUrl, undefined, { timeoutMs: 2000 });
    return stats.streams.find((s) => s.streamId === streamId)?.tagsIn ?? null;
  } catch {
    return null;
  }
}

/** Samples tagsIn once a second; maxStallMs is the longest time it did not advance. */
export class FlowMonitor {
  samples = 0;
  advancing = 0;
  maxStallMs = 0;
  private last = -1;
  private lastAdvanceAt = Date.now();
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(
    private readonly node: LocalNode,
    private streamId: string,
  ) {}

  start(): void {
    this.lastAdvanceAt = Date.now();
    this.timer = setInterval(() => void this.sample(), 1000);
  }

  /** Follows a new stream (after the source was restarted); the stall so far is kept. */
  follow(streamId: string): void {
    this.streamId = streamId;
    this.last = -1;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    const n = await tagsIn(this.node, this.streamId);
    this.busy = false;
    const now = Date.now();
    this.samples++;
    if (n !== null && n > this.last) {
      if (this.last >= 0) this.advancing++;
      this.last = n;
      this.lastAdvanceAt = now;
    }
    this.maxStallMs = Math.max(this.maxStallMs, now - this.lastAdvanceAt);
  }
}

/** The sample's first tags (metadata, sequence headers, media) up to about `maxBytes` of tag data. */
export function sampleTags(maxBytes = 24_000): FlvTag[] {
  const { tags } = parseFlvFile(readFileSync(sampleFlvPath()));
  const out: FlvTag[] = [];
  let size = 0;
  for (const t of tags) {
    if (!isMetadata(t) && !isSequenceHeader(t) && size + t.data.length > maxBytes) continue;
    out.push(t);
    size += t.data.length;
    if (out.length >= 40) break;
  }
  return out;
}
