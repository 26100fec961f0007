import net from 'node:net';
import { freePort } from '@astral/testing';
import { orderSupernodeCandidates } from '@astral/overlay';
import { measureRtt } from './rtt';

describe(measureRtt.name, () => {
  let server: net.Server;
  let port: number;

  beforeAll(async () => {
    server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('times a TCP connect to a listening forward port', async () => {
    const rtt = await measureRtt('127.0.0.1', port);
    expect(rtt).not.toBeNull();
    expect(rtt!).toBeGreaterThanOrEqual(0);
    expect(rtt!).toBeLessThan(500);
  });

  it('gives null for a port nobody listens on, and such a supernode is never tried', async () => {
    const closed = await freePort('127.0.0.1');
    const dead = await measureRtt('127.0.0.1', closed);
    expect(dead).toBeNull();
    const live = await measureRtt('127.0.0.1', port);
    const order = orderSupernodeCandidates('me', [
      { nodeId: 'dead', rttMs: dead, childCount: 0, maxChildren: 3 },
      { nodeId: 'live', rttMs: live, childCount: 2, maxChildren: 3 },
    ]);
    expect(order.map((c) => c.nodeId)).toEqual(['live']);
  });
});
