import { AddressInfo, Server, createServer } from 'node:net';
import { listenOn } from './listen';

describe(listenOn.name, () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });
  const server = (): Server => {
    const s = createServer();
    servers.push(s);
    return s;
  };

  it('resolves once the server is listening', async () => {
    const sut = server();
    await listenOn(sut, 0, '127.0.0.1', { what: 'RTMP', flag: '--rtmp-port' });
    expect(sut.listening).toBe(true);
  });

  it('names the port and the option to change it when the port is in use', async () => {
    const first = server();
    await listenOn(first, 0, '127.0.0.1', { what: 'RTMP', flag: '--rtmp-port' });
    const { port } = first.address() as AddressInfo;
    await expect(
      listenOn(server(), port, '127.0.0.1', { what: 'RTMP', flag: '--rtmp-port' }),
    ).rejects.toThrow(`RTMP port 127.0.0.1:${port} is in use; choose another with --rtmp-port`);
  });

  it('names the listener on any other failure', async () => {
    await expect(
      listenOn(server(), 0, 'host.invalid', { what: 'HTTP-FLV', flag: '--http-port' }),
    ).rejects.toThrow(/^HTTP-FLV listener failed: /);
  });
});
