import { NetworkSnapshot } from '@astral/contracts';

/**
 * Where the network view's snapshots come from: the directory's NetworkSnapshot of nodes, streams and edges
 * (GET /api/network; streams/network.service.ts). Bound in NetworkModule; the socket depends only on this.
 */
export abstract class NetworkSnapshotSource {
  abstract snapshot(): Promise<NetworkSnapshot>;
}
