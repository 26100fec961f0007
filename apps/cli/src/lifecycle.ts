import { errorMessage } from './output';

export interface Closable {
  close(): Promise<void>;
}

/**
 * Runs a long-lived service started by `start` until SIGINT or SIGTERM, then calls close() and exits
 * 0. Signals repeated while closing are ignored (a terminal's Ctrl-C can reach a process both
 * directly and forwarded by `astral node start`); if close() takes longer than `closeTimeoutMs`,
 * the process exits 1.
 */
export async function runService(name: string, start: () => Promise<Closable>, closeTimeoutMs = 30_000): Promise<void> {
  let service: Closable;
  try {
    service = await start();
  } catch (err) {
    process.stderr.write(`astral ${name}: failed to start: ${errorMessage(err)}\n`);
    process.exit(1);
  }
  let closing = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (closing) return;
    closing = true;
    const timer = setTimeout(() => {
      process.stderr.write(`astral ${name}: did not stop within ${closeTimeoutMs} ms after ${signal}; exiting\n`);
      process.exit(1);
    }, closeTimeoutMs);
    timer.unref();
    service.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`astral ${name}: error while stopping: ${errorMessage(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
