import { IncomingMessage, Server } from 'node:http';
import { Duplex } from 'node:stream';
import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  Optional,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import WebSocket, { RawData, WebSocketServer } from 'ws';
import {
  AstralError,
  NETWORK_SOCKET_MAX_CLIENT_MESSAGE_BYTES,
  NETWORK_SOCKET_PATH,
  NetworkSnapshot,
  NetworkSocketClose,
  NetworkSocketMessage,
} from '@astral/contracts';
import { LogThrottle } from '@astral/net';
import {
  DEFAULT_NETWORK_SOCKET_LIMITS,
  MessageBudget,
  NetworkSocketLimits,
  admissionRefusal,
  readClientMessage,
} from './network-clients';
import { NetworkSnapshotSource } from './network-snapshot-source';
import { SnapshotThrottle, contentHash, snapshotHash } from './snapshot-push';

/** A build that takes longer is abandoned (clients get `unavailable`), so one stuck query cannot stop the push. */
const BUILD_TIMEOUT_MS = 10_000;

/** Injection token for limits other than the defaults (tests). */
export const NETWORK_SOCKET_LIMITS = Symbol('NETWORK_SOCKET_LIMITS');

/** How often the snapshot is rebuilt while a client is connected: the push is at most this frequent. */
const BUILD_INTERVAL_MS = 1000;

interface ViewClient {
  address: string;
  budget: MessageBudget;
  /** Answered the last ping. */
  alive: boolean;
  /** Has not had the current snapshot yet (new, or asked to resync). */
  waiting: boolean;
}

/**
 * The live network view's WebSocket at /ws/network on the directory's HTTP port (`ws`, no Nest gateway: one
 * read-only push needs no message routing). While a client is connected the snapshot is rebuilt once a second;
 * it goes to every client when its hash changed (SnapshotThrottle), to new clients at once. Bounded: clients in
 * all and per address (503 before the upgrade), client frames (1 KiB, JSON `{"type":"resync"}` only, 10 per
 * 10 s), bytes queued per client, snapshot size; a client that misses a ping is closed as idle.
 */
@Injectable()
export class NetworkSocket implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(NetworkSocket.name);
  private readonly logThrottle = new LogThrottle();
  private readonly limits: NetworkSocketLimits;
  private readonly wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload: NETWORK_SOCKET_MAX_CLIENT_MESSAGE_BYTES,
  });
  private readonly clients = new Map<WebSocket, ViewClient>();
  private readonly perAddress = new Map<string, number>();
  private readonly throttle = new SnapshotThrottle(BUILD_INTERVAL_MS);
  private latest: { text: string; builtAt: number } | undefined;
  private buildTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private building = false;
  private server: Server | undefined;
  private closing = false;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly source: NetworkSnapshotSource,
    @Optional() @Inject(NETWORK_SOCKET_LIMITS) limits?: Partial<NetworkSocketLimits>,
  ) {
    this.limits = { ...DEFAULT_NETWORK_SOCKET_LIMITS, ...limits };
  }

  /** Clients connected now (metrics, tests). */
  get clientCount(): number {
    return this.clients.size;
  }

  onApplicationBootstrap(): void {
    this.server = this.adapterHost.httpAdapter.getHttpServer() as Server;
    this.server.on('upgrade', this.onUpgrade);
  }

  beforeApplicationShutdown(): void {
    this.closing = true;
    this.server?.off('upgrade', this.onUpgrade);
    clearTimeout(this.buildTimer);
    clearInterval(this.pingTimer);
    for (const ws of this.clients.keys()) {
      ws.close(NetworkSocketClose.goingAway, 'the directory is shutting down');
      setTimeout(() => ws.terminate(), 1000).unref();
    }
    this.wss.close();
  }

  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = (req.url ?? '/').split('?')[0];
    const address = req.socket.remoteAddress ?? 'unknown';
    if (path !== NETWORK_SOCKET_PATH) {
      refuseUpgrade(
        socket,
        new AstralError('not-found', `no WebSocket at ${path}: use ${NETWORK_SOCKET_PATH}`),
      );
      return;
    }
    const refusal = this.closing
      ? 'the directory is shutting down: reconnect in a few seconds'
      : admissionRefusal(
          { total: this.clients.size, fromAddress: this.perAddress.get(address) ?? 0 },
          this.limits,
        );
    if (refusal) {
      this.note('network view socket refused', address, { reason: refusal });
      refuseUpgrade(socket, new AstralError('unavailable', refusal));
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, address));
  };

  private onConnection(ws: WebSocket, address: string): void {
    const client: ViewClient = {
      address,
      budget: new MessageBudget(this.limits.maxMessagesPerWindow, this.limits.messageWindowMs),
      alive: true,
      waiting: true,
    };
    this.clients.set(ws, client);
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    ws.on('pong', () => (client.alive = true));
    ws.on('message', (data: RawData, isBinary: boolean) => this.onMessage(ws, client, data, isBinary));
    ws.on('error', (err: Error & { code?: string }) => {
      // ws closes the socket itself (1009 for a frame above maxPayload, 1002 for a broken frame).
      this.note('network view client closed', address, { reason: err.message, code: err.code });
    });
    ws.on('close', () => this.forget(ws, client));
    this.logger.debug({ msg: 'network view client connected', remote: address, clients: this.clients.size });
    this.pingTimer ??= setInterval(() => this.pingAll(), this.limits.pingIntervalMs);
    // A snapshot built within the interval is current enough; otherwise build one now.
    if (this.latest && Date.now() - this.latest.builtAt < BUILD_INTERVAL_MS)
      this.sendTo(ws, client, this.latest.text);
    else this.scheduleBuild(0);
  }

  private onMessage(ws: WebSocket, client: ViewClient, data: RawData, isBinary: boolean): void {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (!client.budget.take(Date.now())) {
      this.closeAbusive(
        ws,
        client,
        `more than ${this.limits.maxMessagesPerWindow} messages in ${this.limits.messageWindowMs} ms`,
      );
      return;
    }
    const verdict = readClientMessage(bytes, isBinary);
    if (!verdict.ok) {
      this.closeAbusive(ws, client, verdict.reason);
      return;
    }
    // resync: the next build (within a second) sends this client the full snapshot.
    client.waiting = true;
    this.scheduleBuild(BUILD_INTERVAL_MS);
  }

  private closeAbusive(ws: WebSocket, client: ViewClient, reason: string): void {
    this.note('network view client closed for a bad message', client.address, { reason });
    // A close frame's reason holds at most 123 bytes.
    ws.close(NetworkSocketClose.policy, Buffer.from(reason).subarray(0, 120).toString());
    setTimeout(() => ws.terminate(), 2000).unref();
  }

  private forget(ws: WebSocket, client: ViewClient): void {
    if (!this.clients.delete(ws)) return;
    const left = (this.perAddress.get(client.address) ?? 1) - 1;
    if (left > 0) this.perAddress.set(client.address, left);
    else this.perAddress.delete(client.address);
    if (this.clients.size === 0) {
      clearTimeout(this.buildTimer);
      this.buildTimer = undefined;
      clearInterval(this.pingTimer);
      this.pingTimer = undefined;
    }
  }

  private pingAll(): void {
    for (const [ws, client] of this.clients) {
      if (!client.alive) {
        this.note('network view client closed: no answer to a ping', client.address, {
          pingIntervalMs: this.limits.pingIntervalMs,
        });
        ws.terminate();
        continue;
      }
      client.alive = false;
      ws.ping();
    }
  }

  /** One build at a time; the next one at most `delayMs` from now (an earlier request wins). */
  private scheduleBuild(delayMs: number): void {
    if (this.closing || this.clients.size === 0) return;
    if (this.buildTimer && delayMs > 0) return;
    clearTimeout(this.buildTimer);
    this.buildTimer = setTimeout(() => void this.build(), delayMs);
  }

  private async build(): Promise<void> {
    this.buildTimer = undefined;
    if (this.building) return this.scheduleBuild(BUILD_INTERVAL_MS);
    this.building = true;
    try {
      const message = await this.snapshotMessage();
      const now = Date.now();
      const text = JSON.stringify(message);
      const hash = message.type === 'snapshot' ? message.hash : snapshotHash(text);
      this.latest = { text, builtAt: now };
      this.broadcast(text, this.throttle.decide(hash, now) === 'broadcast');
    } finally {
      this.building = false;
      this.scheduleBuild(BUILD_INTERVAL_MS);
    }
  }

  private async snapshotMessage(): Promise<NetworkSocketMessage> {
    let snapshot: NetworkSnapshot;
    try {
      snapshot = await withTimeout(this.source.snapshot(), BUILD_TIMEOUT_MS);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.note('network snapshot not built', 'directory', { reason });
      return { type: 'unavailable', reason: `the directory could not build the network snapshot: ${reason}` };
    }
    const json = JSON.stringify(snapshot);
    if (json.length > this.limits.maxSnapshotBytes) {
      this.note('network snapshot too large to push', 'directory', { bytes: json.length });
      return {
        type: 'unavailable',
        reason: `the network snapshot is ${json.length} bytes, above the view's ${this.limits.maxSnapshotBytes}: read GET /api/network`,
      };
    }
    return { type: 'snapshot', hash: contentHash(snapshot), at: new Date().toISOString(), snapshot };
  }

  /** The same text to every client (`all`), or only to those waiting for a first snapshot. */
  private broadcast(text: string, all: boolean): void {
    for (const [ws, client] of this.clients) if (all || client.waiting) this.sendTo(ws, client, text);
  }

  private sendTo(ws: WebSocket, client: ViewClient, text: string): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > this.limits.maxBufferedBytes) {
      this.note('network view client closed: it reads too slowly', client.address, {
        bufferedBytes: ws.bufferedAmount,
      });
      ws.terminate();
      return;
    }
    client.waiting = false;
    ws.send(text);
  }

  private note(what: string, address: string, fields: Record<string, unknown>): void {
    const suppressed = this.logThrottle.take(`${what}|${address}`);
    if (suppressed === null) return;
    this.logger.warn({
      msg: what,
      remote: address,
      ...fields,
      ...(suppressed > 0 && { suppressedSinceLastLine: suppressed }),
    });
  }
}

/** Answers an upgrade that will not become a WebSocket: its status and an AstralErrorBody saying why. */
function refuseUpgrade(socket: Duplex, err: AstralError): void {
  const body = JSON.stringify(err.toBody());
  const status = err.status === 404 ? '404 Not Found' : '503 Service Unavailable';
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  setTimeout(() => socket.destroy(), 2000).unref();
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no snapshot within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
