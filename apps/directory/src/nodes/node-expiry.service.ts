import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { DirectoryConfig } from '../directory.config';
import { NodesService } from './nodes.service';

/** Sweeps expired nodes every heartbeat interval. */
@Injectable()
export class NodeExpiry implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(NodeExpiry.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly nodes: NodesService,
    private readonly config: DirectoryConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.tick(), this.config.heartbeatIntervalMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    // Let a sweep in progress finish before the database closes.
    await this.running;
  }

  private tick(): void {
    if (this.running || !this.timer) return;
    this.running = this.nodes
      .expire()
      .then(() => undefined)
      .catch((err: unknown) => this.logger.error(err instanceof Error ? err : String(err)))
      .finally(() => (this.running = undefined));
  }
}
