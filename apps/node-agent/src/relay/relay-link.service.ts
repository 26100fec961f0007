import { Inject, Injectable } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { RelayStats, RelayStreamStats } from '@astral/contracts';
import { RelayControlClient } from '@astral/transport';
import { Logger } from '@astral/config';
import { AGENT_CLIENT, AGENT_LOGGER, AGENT_NODE_ID } from '../agent.tokens';

/** The agent's side of its relay: commands over Redis, and the relay's latest measurements. */
@Injectable()
export class RelayLink {
  readonly relay: RelayControlClient;
  private latest: RelayStats | null = null;
  private readyHandlers: (() => Promise<void>)[] = [];

  constructor(
    @Inject(AGENT_CLIENT) client: ClientProxy,
    @Inject(AGENT_NODE_ID) nodeId: string,
    @Inject(AGENT_LOGGER) private readonly log: Logger,
  ) {
    // Loopback through Redis: generous, so a busy machine does not fail a publish.
    this.relay = new RelayControlClient(client, nodeId, 5000);
  }

  updateStats(stats: RelayStats): void {
    this.latest = stats;
  }

  get stats(): RelayStats | null {
    return this.latest;
  }

  streamStats(streamId: string): RelayStreamStats | undefined {
    return this.latest?.streams.find((s) => s.streamId === streamId);
  }

  /** Registers state to replay when the relay (re)starts: key authorisations, admissions, upstreams. */
  onReady(handler: () => Promise<void>): void {
    this.readyHandlers.push(handler);
  }

  async relayReady(): Promise<void> {
    this.log.info('relay is ready; replaying its state');
    for (const h of this.readyHandlers) {
      await h().catch((err: Error) =>
        this.log.warn({ err: err.message }, 'could not replay state to the relay'),
      );
    }
  }
}
