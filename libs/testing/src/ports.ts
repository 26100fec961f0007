import { createServer } from 'node:net';

const handedOut = new Set<number>();

/**
 * A TCP port that is free on 127.0.0.1 right now. Ports already returned by this process are not
 * returned again, so several calls in a row give distinct ports.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.unref();
      server.once('error', reject);
      server.listen(0, host, () => {
        const address = server.address();
        const p = typeof address === 'object' && address ? address.port : 0;
        server.close(() => resolve(p));
      });
    });
    if (port > 0 && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('freePort: no free TCP port found after 50 attempts');
}
