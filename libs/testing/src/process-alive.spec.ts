import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { processAlive } from './process-alive';

describe(processAlive.name, () => {
  it('is true for a running process', () => {
    expect(processAlive(process.pid)).toBe(true);
  });

  it('is false once the process has exited', async () => {
    const child = spawn(process.execPath, ['-e', '']);
    await once(child, 'exit');
    expect(processAlive(child.pid!)).toBe(false);
  });
});
