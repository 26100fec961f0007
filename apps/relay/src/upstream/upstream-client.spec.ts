import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { sampleFlvPath } from '@astral/testing';
import { createLogger } from '@astral/config';
import { UpstreamClient } from './upstream-client';

/**
 * Stall detection against a real upstream socket: a child process serves the sample FLV over HTTP in
 * 4 KB chunks every 20 ms (an endless loop of the file's bytes after the header is not needed: the
 * sample is longer than these tests).
 */
const SERVER = `
const http = require('node:http');
const fs = require('node:fs');
const file = fs.readFileSync(process.argv[1]);
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'video/x-flv' });
  let at = 0;
  const t = setInterval(() => {
    if (at >= file.length) { clearInterval(t); return; }
    res.write(file.subarray(at, at + 4096));
    at += 4096;
  }, 20);
  req.on('close', () => clearInterval(t));
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

describe('UpstreamClient stall detection', () => {
  let server: ChildProcess;
  let url: string;
  let client: UpstreamClient | null = null;
  const lost: string[] = [];

  beforeEach(async () => {
    lost.length = 0;
    server = spawn(process.execPath, ['-e', SERVER, sampleFlvPath()], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(createInterface({ input: server.stdout! }), 'line')) as [string];
    url = `http://127.0.0.1:${Number(line)}/live/s.flv`;
    client = new UpstreamClient('s', 1000, { onTag: () => undefined, onLost: (reason) => lost.push(reason) }, createLogger('relay', 'test', 'silent'));
    client.connect(url, '00000000-0000-4000-8000-000000000001');
    await new Promise((r) => setTimeout(r, 500));
  });

  afterEach(async () => {
    client?.close();
    if (server.exitCode === null) {
      server.kill('SIGCONT');
      server.kill('SIGKILL');
      await once(server, 'exit');
    }
  });

  it('does not call a held-up event loop a stall: data waiting in the socket counts', async () => {
    const until = Date.now() + 2000; // twice the stall bound, with the upstream sending all along
    while (Date.now() < until) {
      // busy: this process's event loop is held up, as on a loaded machine
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(lost).toEqual([]);
    expect(client!.bytesIn).toBeGreaterThan(0);
  });

  it('reports a real stall: the upstream stops sending without closing', async () => {
    server.kill('SIGSTOP');
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 1800));
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatch(/stall/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
  });
});
