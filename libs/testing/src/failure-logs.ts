import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Something whose processes' logs can be read: a LocalNetwork, a netns network. */
export interface HasLogs {
  logs(maxBytesEach?: number): string;
}

/**
 * Wraps a test body so that, when it fails, every process's whole log is saved to
 * `<tmpdir>/astral-<name>-failure-<time>.log` and the tails are printed, then the failure is rethrown.
 * `of` is called only then (the network may not exist when the test is declared).
 */
export function withFailureLogs(
  name: string,
  of: () => HasLogs,
): (body: () => Promise<void>) => () => Promise<void> {
  return (body) => async () => {
    try {
      await body();
    } catch (err) {
      const file = join(tmpdir(), `astral-${name}-failure-${Date.now()}.log`);
      writeFileSync(file, of().logs(50_000_000));
      console.log(`full logs of every process: ${file}\n${of().logs(2000)}`);
      throw err;
    }
  };
}
