import { FlvTagReader } from './flv-tag-reader';
import { AgentApiTarget, agentApi } from './agent-api';
import { waitFor } from './wait-for';

/** What a test network's node offers a viewer: its agent API and its play URLs. */
export interface ViewerNode extends AgentApiTarget {
  playUrls(streamId: string): { httpFlv: string };
}

/**
 * Every node but the first (the source) watches the stream: each asks its agent for a ticket until it
 * gets one, then plays over HTTP-FLV, its reader kept in `readers` under the node's index (so the caller
 * closes them all, even when a later node fails); then it waits until every reader has frames.
 */
export async function watchAtEveryViewer(
  nodes: readonly ViewerNode[],
  streamId: string,
  readers: Map<number, FlvTagReader>,
  timeouts: { ticketMs: number; framesMs: number },
): Promise<void> {
  for (let i = 1; i < nodes.length; i++) {
    await waitFor(() => agentApi(nodes[i], 'POST', `/api/streams/${streamId}/watch`).catch(() => null), {
      timeoutMs: timeouts.ticketMs,
      intervalMs: 300,
      what: `node ${i + 1} to get a ticket`,
    });
    readers.set(i, await FlvTagReader.open(nodes[i].playUrls(streamId).httpFlv));
  }
  await waitFor(() => [...readers.values()].every((r) => r.videoFrames.length > 0), {
    timeoutMs: timeouts.framesMs,
    what: 'frames at every viewer',
  });
}

/** For each reader (by node index), the share of the `sent` video timestamps it received; node = index + 1. */
export function deliveryRatios(
  sent: readonly number[],
  readers: ReadonlyMap<number, Pick<FlvTagReader, 'videoTimestamps'>>,
): { node: number; ratio: number }[] {
  return [...readers.entries()].map(([i, r]) => {
    const got = new Set(r.videoTimestamps);
    return { node: i + 1, ratio: sent.filter((ts) => got.has(ts)).length / sent.length };
  });
}
