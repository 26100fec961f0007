import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import http, { IncomingMessage, Server, ServerResponse } from 'node:http';
import { AstralError } from '@astral/contracts';
import { Logger, NodeConfig } from '@astral/config';
import { RelayService, sendJson } from '../relay.service';
import { RELAY_LOGGER, RELAY_NODE_CONFIG } from '../relay.tokens';

const FORWARD_PATH = /^\/forward\/([a-z0-9][a-z0-9-]{2,63})\.flv$/;

/**
 * The relay's forward port: downstream relays pull streams here with a ticket token
 * (GET /forward/<streamId>.flv?ticket=…); operators read GET /stats, GET /metrics (Prometheus) and GET /healthz.
 * A plain node:http server: the hot path goes straight from the hub to the socket.
 */
@Injectable()
export class ForwardServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private server: Server | null = null;

  constructor(
    private readonly relay: RelayService,
    @Inject(RELAY_NODE_CONFIG) private readonly config: NodeConfig,
    @Inject(RELAY_LOGGER) private readonly log: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const server = http.createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 5000;
    server.on('clientError', (_err, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new Error(
            err.code === 'EADDRINUSE'
              ? `forward port ${this.config.host}:${this.config.forwardPort} is in use; choose another with --forward-port`
              : `forward server failed to listen: ${err.message}`,
          ),
        ),
      );
      server.listen(this.config.forwardPort, this.config.host, () => resolve());
    });
    this.server = server;
    this.log.info({ port: this.config.forwardPort }, 'forward server listening');
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://relay');
    res.setHeader('Access-Control-Allow-Origin', '*');
    if (req.method !== 'GET') {
      sendJson(res, 405, new AstralError('bad-request', 'only GET is served on the forward port').toBody());
      return;
    }
    const m = FORWARD_PATH.exec(url.pathname);
    if (m) {
      this.relay.serveForward(m[1], url.searchParams.get('ticket'), res, `${req.socket.remoteAddress}:${req.socket.remotePort}`);
      return;
    }
    if (url.pathname === '/stats') return sendJson(res, 200, this.relay.stats());
    if (url.pathname === '/metrics') {
      this.relay.metrics.metrics().then(
        (text) => {
          res.writeHead(200, { 'Content-Type': this.relay.metrics.contentType });
          res.end(text);
        },
        (err: Error) => sendJson(res, 503, new AstralError('unavailable', `metrics failed: ${err.message}`).toBody()),
      );
      return;
    }
    if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok', nodeId: this.relay.nodeId });
    sendJson(res, 404, new AstralError('not-found', `no route ${url.pathname}; try /forward/<streamId>.flv, /stats or /metrics`).toBody());
  }
}
