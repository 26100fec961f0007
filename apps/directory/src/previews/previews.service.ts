import { Injectable, Logger } from '@nestjs/common';
import { AstralError, MAX_PREVIEW_BYTES, OkReply, StreamPreview } from '@astral/contracts';
import { LogThrottle } from '@astral/net';
import { StreamsService } from '../streams/streams.service';
import { checkJpeg } from './jpeg-check';
import { Preview, PreviewStore } from './preview-store';

/** Takes previews from the streams' source nodes, and hands out the latest of a live stream. */
@Injectable()
export class PreviewsService {
  private readonly logger = new Logger('Previews');
  private readonly refusals = new LogThrottle();

  constructor(
    private readonly store: PreviewStore,
    private readonly streams: StreamsService,
  ) {}

  /**
   * Keeps `req.jpeg` as the stream's preview: 400 unless it is a JPEG (magic, frame header, size), 404 for an
   * unknown stream, 409 for one not live, 403 unless the sender is the stream's source node.
   */
  async set(req: StreamPreview, now = Date.now()): Promise<OkReply> {
    const jpeg = Buffer.from(req.jpeg, 'base64');
    const verdict = checkJpeg(jpeg, MAX_PREVIEW_BYTES);
    if (!verdict.ok)
      this.refuse(req, 'bad-request', `the preview is not a JPEG the directory keeps: ${verdict.reason}`);
    const stream = await this.streams.info({ streamId: req.streamId }).catch((err: unknown) => {
      if (err instanceof AstralError && err.code === 'not-found')
        this.refuse(
          req,
          'not-found',
          `no stream ${req.streamId}; send previews only for your own live stream`,
        );
      throw err;
    });
    if (stream.sourceNodeId !== req.nodeId)
      this.refuse(
        req,
        'forbidden',
        `only the source node of ${req.streamId} may set its preview, not node ${req.nodeId}`,
      );
    if (stream.status !== 'live') {
      this.store.delete(req.streamId);
      this.refuse(
        req,
        'conflict',
        `stream ${req.streamId} is ${stream.status}: previews are kept for live streams only`,
      );
    }
    if (verdict.ok)
      this.store.set(req.streamId, { jpeg, width: verdict.width, height: verdict.height, at: now });
    return { ok: true };
  }

  /** The stream's latest preview while it is live; undefined (and dropped) once it ended. */
  async latest(streamId: string): Promise<Preview | undefined> {
    const preview = this.store.get(streamId);
    if (!preview) return undefined;
    const stream = await this.streams.info({ streamId }).catch(() => undefined);
    if (stream?.status === 'live') return preview;
    if (stream) this.store.delete(streamId);
    return undefined;
  }

  private refuse(
    req: StreamPreview,
    code: 'bad-request' | 'not-found' | 'forbidden' | 'conflict',
    message: string,
  ): never {
    const suppressed = this.refusals.take(`${req.nodeId}|${code}`);
    if (suppressed !== null)
      this.logger.warn({
        msg: 'preview refused',
        streamId: req.streamId,
        nodeId: req.nodeId,
        status: code,
        reason: message,
        ...(suppressed > 0 && { suppressedSinceLastLine: suppressed }),
      });
    throw new AstralError(code, message);
  }
}
