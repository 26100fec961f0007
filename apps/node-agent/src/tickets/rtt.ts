import net from 'node:net';

/**
 * Round-trip time to a node measured on the data path: the time a TCP connect to its relay's forward
 * port takes. Resolves to null if it does not connect within `timeoutMs`.
 */
export function measureRtt(host: string, port: number, timeoutMs = 500): Promise<number | null> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = net.connect({ host, port });
    const done = (value: number | null) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(timeoutMs, () => done(null));
    socket.once('connect', () => done(performance.now() - started));
    socket.once('error', () => done(null));
  });
}
