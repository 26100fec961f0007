import { FlvFilePublisher } from '@astral/media';
import { sampleFlvPath } from './repo-root';

/** A video frame the publisher sent: its FLV timestamp and when (Date.now()). */
export interface PublishedFrame {
  ts: number;
  at: number;
}

/**
 * Publishes the sample FLV, looping, to a node's publish URL and records every video frame it sends
 * into `published` (for deliveryRatios). Resolves once the upload is accepted; a start that fails is
 * stopped before the error is rethrown, so nothing is left sending.
 */
export async function publishSample(url: string, published: PublishedFrame[]): Promise<FlvFilePublisher> {
  const publisher = new FlvFilePublisher({
    file: sampleFlvPath(),
    url,
    onVideoFrame: (ts) => published.push({ ts, at: Date.now() }),
  });
  try {
    await publisher.start();
  } catch (err) {
    await publisher.stop().catch(() => undefined);
    throw err;
  }
  return publisher;
}
