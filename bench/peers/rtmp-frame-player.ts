import { RTMP_VIDEO } from '../lib/rtmp-chunks';
import { RtmpSession } from './rtmp-session';

/** A video frame as a player got it: its RTMP (= FLV) timestamp and performance.now() at its arrival. */
export interface FrameArrival {
  timestamp: number;
  arrivalMs: number;
}

/**
 * An RTMP player that records when each video frame arrives (the message's last chunk read, on this
 * process's clock), like FlvTagReader does for HTTP-FLV. AVC/HEVC coded frames only: sequence headers
 * (packet type 0) repeat on every join and carry no frame.
 */
export class RtmpFramePlayer {
  readonly videoFrames: FrameArrival[] = [];

  private constructor(private session: RtmpSession | null) {}

  static async open(url: string, timeoutMs = 15_000): Promise<RtmpFramePlayer> {
    const player = new RtmpFramePlayer(null);
    player.session = await RtmpSession.open(
      url,
      'play',
      (m, arrivalMs) => {
        if (m.type !== RTMP_VIDEO || m.payload.length < 2) return;
        const exHeader = (m.payload[0] & 0x80) !== 0; // enhanced RTMP: packet type in the low nibble
        const packetType = exHeader ? m.payload[0] & 0x0f : m.payload[1];
        if (packetType === 0) return;
        player.videoFrames.push({ timestamp: m.timestamp, arrivalMs });
      },
      timeoutMs,
    );
    return player;
  }

  get ended(): boolean {
    return this.session?.ended ?? true;
  }

  close(): void {
    this.session?.close();
  }
}
