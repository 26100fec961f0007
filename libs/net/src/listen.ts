import type { Server } from 'node:net';

/**
 * Starts `server` listening on host:port. A port already in use rejects with what to do about it (`flag`
 * is the command-line option that picks another port); any other failure names the listener.
 */
export function listenOn(
  server: Server,
  port: number,
  host: string,
  names: { what: string; flag: string },
): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          err.code === 'EADDRINUSE'
            ? `${names.what} port ${host}:${port} is in use; choose another with ${names.flag}`
            : `${names.what} listener failed: ${err.message}`,
        ),
      ),
    );
    server.listen(port, host, () => resolve());
  });
}
