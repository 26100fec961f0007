import { Server, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import WebSocket from 'ws';
import { NETWORK_SOCKET_PATH, NetworkSnapshot, NetworkSocketMessage } from '@astral/contracts';
import { waitFor } from '@astral/testing';
import { NetworkSnapshotSource } from './network-snapshot-source';
import { NetworkSocket } from './network-socket';

/** A source whose picture the test sets; it counts builds. */
class SettableSource extends NetworkSnapshotSource {
  builds = 0;
  failure: string | undefined;
  constructor(public nodes: string[]) {
    super();
  }
  snapshot(): Promise<NetworkSnapshot> {
    this.builds += 1;
    if (this.failure) return Promise.reject(new Error(this.failure));
    return Promise.resolve({
      at: new Date().toISOString(),
      nodes: this.nodes.map((nodeId) => ({
        nodeId,
        supernode: false,
        supernodeId: null,
        uploadBps: null,
        uploadLimitBps: null,
        players: 0,
        host: '127.0.0.1',
      })),
      streams: [],
      edges: [],
      truncated: false,
    });
  }
}

interface Client {
  ws: WebSocket;
  messages: NetworkSocketMessage[];
  closed: Promise<[number, string]>;
}

/** The socket on a real HTTP server on loopback, with real `ws` clients. */
describe(NetworkSocket.name, () => {
  let server: Server;
  let url: string;
  let source: SettableSource;
  let sut: NetworkSocket;
  const clients: WebSocket[] = [];

  const open = (options: WebSocket.ClientOptions = {}): Promise<Client> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(url, options);
      clients.push(ws);
      const messages: Client['messages'] = [];
      const closed = new Promise<[number, string]>((done) =>
        ws.on('close', (code, reason) => done([code, reason.toString()])),
      );
      ws.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString()) as Client['messages'][0]));
      ws.once('open', () => resolve({ ws, messages, closed }));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade answered ${res.statusCode}`)));
      ws.once('error', reject);
    });
  const nodesIn = (m: Client['messages'][0] | undefined) =>
    m?.type === 'snapshot' ? m.snapshot.nodes.map((n) => n.nodeId) : undefined;

  beforeAll(() => {
    Logger.overrideLogger(false);
  });
  afterAll(() => {
    Logger.overrideLogger(new Logger());
  });

  beforeEach(async () => {
    server = createServer((_req, res) => res.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}${NETWORK_SOCKET_PATH}`;
    source = new SettableSource(['a', 'b']);
    sut = new NetworkSocket(
      { httpAdapter: { getHttpServer: () => server } } as unknown as HttpAdapterHost,
      source,
      {
        maxPerAddress: 3,
        pingIntervalMs: 300,
      },
    );
    sut.onApplicationBootstrap();
  });

  afterEach(async () => {
    sut.beforeApplicationShutdown();
    for (const ws of clients.splice(0)) ws.terminate();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('pushes the snapshot on connect, then only changes', async () => {
    const c = await open();
    await waitFor(() => c.messages.length === 1, { timeoutMs: 5000, what: 'the first snapshot' });
    expect(nodesIn(c.messages[0])).toEqual(['a', 'b']);
    // Rebuilt every second, the same picture is not sent again.
    await waitFor(() => source.builds >= 3, { timeoutMs: 5000, what: 'two rebuilds' });
    expect(c.messages).toHaveLength(1);
    source.nodes = ['a'];
    await waitFor(() => c.messages.length === 2, { timeoutMs: 5000, what: 'the change' });
    expect(nodesIn(c.messages[1])).toEqual(['a']);
  });

  it('closes a client that sends garbage; the other keeps receiving', async () => {
    const polite = await open();
    const hostile = await open();
    await waitFor(() => polite.messages.length === 1 && hostile.messages.length === 1, {
      timeoutMs: 5000,
      what: 'both first snapshots',
    });
    hostile.ws.send('\u0000garbage');
    expect(await hostile.closed).toEqual([1008, 'message is not JSON: send {"type":"resync"}']);
    source.nodes = ['c'];
    await waitFor(() => polite.messages.length === 2, {
      timeoutMs: 5000,
      what: 'the change on the polite client',
    });
    expect(nodesIn(polite.messages[1])).toEqual(['c']);
    expect(sut.clientCount).toBe(1);
  });

  it('answers a resync with the snapshot again, and closes a client that floods', async () => {
    const c = await open();
    await waitFor(() => c.messages.length === 1, { timeoutMs: 5000, what: 'the first snapshot' });
    c.ws.send('{"type":"resync"}');
    await waitFor(() => c.messages.length === 2, { timeoutMs: 5000, what: 'the resync' });
    expect(nodesIn(c.messages[1])).toEqual(['a', 'b']);
    for (let i = 0; i < 10; i++) c.ws.send('{"type":"resync"}');
    expect(await c.closed).toEqual([1008, 'more than 10 messages in 10000 ms']);
  });

  it('closes a client that stops answering pings, not the one that answers', async () => {
    const live = await open();
    const mute = await open({ autoPong: false });
    expect((await mute.closed)[0]).toBe(1006);
    expect(live.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('refuses a socket above the per-address cap with 503, and admits one when a slot frees', async () => {
    const three = [await open(), await open(), await open()];
    await expect(open()).rejects.toThrow('upgrade answered 503');
    three[0].ws.close();
    await three[0].closed;
    await waitFor(() => sut.clientCount === 2, { timeoutMs: 5000, what: 'the slot to free' });
    await expect(open()).resolves.toBeDefined();
  });

  it('answers 404 on another path', async () => {
    url = url.replace(NETWORK_SOCKET_PATH, '/ws/other');
    await expect(open()).rejects.toThrow('upgrade answered 404');
  });

  it('says when the snapshot cannot be built, and recovers', async () => {
    source.failure = 'database unreachable';
    const c = await open();
    await waitFor(() => c.messages.length === 1, { timeoutMs: 5000, what: 'the unavailable message' });
    expect(c.messages[0]).toEqual({
      type: 'unavailable',
      reason: 'the directory could not build the network snapshot: database unreachable',
    });
    source.failure = undefined;
    await waitFor(() => c.messages.length === 2, { timeoutMs: 5000, what: 'the snapshot once it builds' });
    expect(nodesIn(c.messages[1])).toEqual(['a', 'b']);
  });
});
