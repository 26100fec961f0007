import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import http, { IncomingMessage, Server, ServerResponse } from 'node:http';
import { AstralError, STREAM_ID_PATTERN, STREAM_ID_RULE } from '@astral/contracts';
import { Logger, NodeConfig, listenerLimits } from '@astral/config';
import { ListenerGuard, LogThrottle, hardenHttpServer, listenOn } from '@astral/net';
import { FORWARD_PROOF_HEADER } from '@astral/identity';
import { RelayService } from '../relay.service';
import { sendJson } from './send-json';
import { RELAY_LOGGER, RELAY_NODE_CONFIG } from '../relay.tokens';

const FORWARD_PATH = /^\/forward\/([^/]*)\.flv$/;

/** The path of a request target, or null when it is not a URL at all (`GET http://[ HTTP/1.1`). */
export function requestPath(target: string | undefined): { pathname: string; ticket: string | null } | null {
  try {
    const url = new URL(target ?? '/', 'http://relay');
    return { pathname: url.pathname, ticket: url.searchParams.get('ticket') };
  } catch {
    return null;
  }
}

/**
 * The relay's forward port: downstream relays pull streams here with a ticket token
 * (GET /forward/<streamId>.flv?ticket=… with the X-Astral-Proof header); operators read GET /stats, GET /metrics (Prometheus) and GET /healthz.
 * A plain node:http server: the hot path goes straight from the hub to the socket.
 */
@Injectable()
export class ForwardServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private server: Server | null = null;
  private readonly refusals = new LogThrottle();

  constructor(
    private readonly relay: RelayService,
    @Inject(RELAY_NODE_CONFIG) private readonly config: NodeConfig,
    @Inject(RELAY_LOGGER) private readonly log: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const server = http.createServer((req, res) => this.handle(req, res));
    // Connection caps, handshake and idle timeouts (a forward's writes count as activity, so a healthy
    // forward is never idle), and malformed requests answered 400/408/431 instead of a reset.
    const guard = new ListenerGuard('forward port', listenerLimits(this.config), this.log);
    hardenHttpServer(server, guard, this.log);
    await listenOn(server, this.config.forwardPort, this.config.host, {
      what: 'forward',
      flag: '--forward-port',
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

  /** Nothing a request can make the routes throw escapes into the process: it is answered and logged. */
  private handle(req: IncomingMessage, res: ServerResponse): void {
    try {
      this.route(req, res);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.log.error(
        { remote: req.socket.remoteAddress, method: req.method, err: message },
        'forward port: request failed',
      );
      if (res.headersSent) res.destroy();
      else
        sendJson(
          res,
          500,
          new AstralError('unavailable', `the relay failed to serve this request: ${message}`).toBody(),
        );
    }
  }

  private refuse(req: IncomingMessage, res: ServerResponse, status: number, error: AstralError): void {
    const remote = req.socket.remoteAddress ?? 'unknown';
    const suppressed = this.refusals.take(`${status}|${remote}`);
    if (suppressed !== null) {
      this.log.warn(
        {
          remote,
          status,
          reason: error.message,
          ...(suppressed > 0 && { suppressedSinceLastLine: suppressed }),
        },
        'forward port: request refused',
      );
    }
    sendJson(res, status, error.toBody());
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    res.setHeader('Access-Control-Allow-Origin', '*');
    const url = requestPath(req.url);
    if (!url) {
      this.refuse(
        req,
        res,
        400,
        new AstralError(
          'bad-request',
          'the request target is not a valid URL path; try GET /forward/<streamId>.flv?ticket=…',
        ),
      );
      return;
    }
    if (req.method !== 'GET') {
      this.refuse(req, res, 405, new AstralError('bad-request', 'only GET is served on the forward port'));
      return;
    }
    const m = FORWARD_PATH.exec(url.pathname);
    if (m) {
      if (!STREAM_ID_PATTERN.test(m[1])) {
        this.refuse(req, res, 400, new AstralError('bad-request', `the stream id ${STREAM_ID_RULE}`));
        return;
      }
      this.relay.serveForward(
        m[1],
        url.ticket,
        req.headers[FORWARD_PROOF_HEADER],
        res,
        `${req.socket.remoteAddress}:${req.socket.remotePort}`,
      );
      return;
    }
    if (url.pathname === '/stats') return sendJson(res, 200, this.relay.stats());
    if (url.pathname === '/metrics') {
      this.relay.metrics.metrics().then(
        (text) => {
          res.writeHead(200, { 'Content-Type': this.relay.metrics.contentType });
          res.end(text);
        },
        (err: Error) =>
          sendJson(res, 503, new AstralError('unavailable', `metrics failed: ${err.message}`).toBody()),
      );
      return;
    }
    if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok', nodeId: this.relay.nodeId });
    sendJson(
      res,
      404,
      new AstralError(
        'not-found',
        `no route ${url.pathname.slice(0, 200)}; try /forward/<streamId>.flv, /stats or /metrics`,
      ).toBody(),
    );
  }
}
