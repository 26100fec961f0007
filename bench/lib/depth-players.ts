import { llHlsPlaylistPath } from '@astral/contracts';
import { FlvTagReader, waitFor } from '@astral/testing';
import { RtmpFramePlayer } from '../peers/rtmp-frame-player';
import { HlsClient } from './hls-client';
import { Arrival, fragmentDecodeTimesMs } from './player-latency';
import { TestRelay } from './relay-testbed';

export type PlayerProtocol = 'rtmp' | 'httpFlv' | 'llHls';

/**
 * The players of one relay in the chain bench, each recording video frame arrivals (FLV timestamp,
 * performance.now()): an RTMP player on the relay's RTMP port, an HTTP-FLV reader on /live/<id>.flv, and
 * an LL-HLS client (bench/lib/hls-client.ts: blocking playlist reloads, every part requested as soon as it
 * is hinted, so a part is in hand about when it first becomes fetchable). A part's arrival is the arrival
 * of every video frame in it (its tfdt + trun durations, the frames' FLV timestamps): the time a player
 * fetching parts could first have that frame.
 */
export class DepthPlayers {
  readonly arrivals: Record<PlayerProtocol, Arrival[]> = { rtmp: [], httpFlv: [], llHls: [] };
  private rtmp: RtmpFramePlayer | null = null;
  private flv: FlvTagReader | null = null;
  private hls: HlsClient | null = null;

  constructor(
    readonly relay: TestRelay,
    readonly streamId: string,
  ) {}

  async openFlvAndRtmp(timeoutMs = 15_000): Promise<void> {
    const what = (p: string): string => `${p} player at ${this.relay.name}`;
    this.rtmp = await waitFor(
      () => RtmpFramePlayer.open(this.relay.rtmpUrl(this.streamId)).catch(() => null),
      {
        timeoutMs,
        intervalMs: 200,
        what: what('an RTMP'),
      },
    );
    this.flv = await waitFor(
      () => FlvTagReader.open(this.relay.httpFlvUrl(this.streamId)).catch(() => null),
      {
        timeoutMs,
        intervalMs: 200,
        what: what('an HTTP-FLV'),
      },
    );
  }

  /** Waits until both have `frames` video frames (the join's GOP counts: it shows the path is up). */
  async waitForFrames(frames: number, timeoutMs = 15_000): Promise<void> {
    await waitFor(() => this.rtmp!.videoFrames.length >= frames && this.flv!.videoFrames.length >= frames, {
      timeoutMs,
      intervalMs: 50,
      what: `${frames} frames at ${this.relay.name}'s RTMP and HTTP-FLV players`,
    });
  }

  /** Takes the RTMP and HTTP-FLV arrivals so far and closes both. */
  closeFlvAndRtmp(): void {
    if (this.rtmp) this.arrivals.rtmp.push(...this.rtmp.videoFrames);
    if (this.flv) this.arrivals.httpFlv.push(...this.flv.videoFrames);
    this.rtmp?.close();
    this.flv?.close();
    this.rtmp = null;
    this.flv = null;
  }

  async openLlHls(): Promise<void> {
    const url = `http://127.0.0.1:${this.relay.ports.http}${llHlsPlaylistPath(this.streamId)}`;
    this.hls = new HlsClient({
      url,
      mode: 'll',
      onBody: (_uri, body, arrival) => {
        if (!arrival) return;
        // The client dates arrivals with Date.now(); move them onto performance.now().
        const arrivalMs = arrival.arrivalMs - (Date.now() - performance.now());
        for (const timestamp of fragmentDecodeTimesMs(body))
          this.arrivals.llHls.push({ timestamp, arrivalMs });
      },
    });
    await this.hls.start();
  }

  get hlsProblems(): string[] {
    return this.hls?.problems ?? [];
  }

  async close(): Promise<void> {
    this.closeFlvAndRtmp();
    await this.hls?.stop();
    this.hls = null;
  }
}
