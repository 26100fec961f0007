import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { AddressInfo } from 'node:net';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { dirname, join } from 'node:path';
import {
  encodeFlvFile,
  FlvFilePublisher,
  FlvParser,
  FlvTag,
  isMetadata,
  isSequenceHeader,
  isVideoFrame,
  parseFlvFile,
  PublishError,
} from '@astral/media';
import {
  FlvTagReader,
  ffprobe,
  freePort,
  pingRedis,
  runningProcesses,
  sampleFlvPath,
  spawnManaged,
  processAlive,
  startRedis,
  waitFor,
} from '@astral/testing';

interface Received {
  header: boolean;
  metadata: number;
  sequenceHeaders: number;
  videoTimestamps: number[];
  ended: boolean;
}

/** An HTTP server that accepts FLV POSTs and parses them, like an HTTP-FLV ingest would. */
async function startIngest(handler?: (req: IncomingMessage, res: ServerResponse) => boolean): Promise<{
  server: Server;
  url: string;
  received: Received;
}> {
  const received: Received = {
    header: false,
    metadata: 0,
    sequenceHeaders: 0,
    videoTimestamps: [],
    ended: false,
  };
  const server = createServer((req, res) => {
    if (handler?.(req, res)) return;
    const parser = new FlvParser();
    req.on('data', (chunk: Buffer) => {
      for (const tag of parser.push(chunk)) {
        if (isMetadata(tag)) received.metadata++;
        else if (isSequenceHeader(tag)) received.sequenceHeaders++;
        else if (isVideoFrame(tag)) received.videoTimestamps.push(tag.timestamp);
      }
      received.header = parser.header !== null;
    });
    req.on('end', () => {
      received.ended = true;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/live/test.flv?key=secret`, received };
}

describe('startRedis', () => {
  it('starts, survives a kill by restarting on the same port, and stops without leftovers', async () => {
    const sut = await startRedis();
    try {
      expect(await pingRedis(sut.port)).toBe(true);
      expect(sut.url).toBe(`redis://127.0.0.1:${sut.port}`);
      await sut.kill();
      expect(await pingRedis(sut.port)).toBe(false);
      await sut.restart();
      expect(await pingRedis(sut.port)).toBe(true);
      await sut.restart();
      expect(await pingRedis(sut.port)).toBe(true);
    } finally {
      await sut.stop();
    }
    expect(await pingRedis(sut.port)).toBe(false);
    expect(existsSync(dirname(sut.logFile))).toBe(false);
    expect(runningProcesses().filter((p) => p.name === 'redis-server')).toHaveLength(0);
  });
});

describe('spawnManaged', () => {
  it('escalates to SIGKILL when SIGTERM is ignored and leaves no process behind', async () => {
    const script = [
      "process.on('SIGTERM', () => {});",
      "const c = require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });",
      "console.log('grandchild ' + c.pid);",
      'setInterval(() => {}, 1000);',
    ].join('\n');
    const logFile = join(tmpdir(), `astral-spawn-test-${process.pid}.log`);
    const sut = spawnManaged('stubborn', ['-e', script], { logFile });
    const grandchild = await waitFor(() => /grandchild (\d+)/.exec(sut.readLog())?.[1], {
      what: 'the grandchild pid in the log',
      timeoutMs: 5000,
    });
    const pid = sut.pid as number;
    expect(processAlive(pid)).toBe(true);
    expect(runningProcesses()).toContain(sut);

    const started = Date.now();
    const exit = await sut.stop('SIGTERM', 500);

    expect(exit.signal).toBe('SIGKILL');
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(sut.running).toBe(false);
    expect(runningProcesses()).not.toContain(sut);
    await waitFor(() => !processAlive(pid) && !processAlive(Number(grandchild)), {
      what: 'the child and grandchild to be gone',
      timeoutMs: 3000,
    });
    rmSync(logFile, { force: true });
  });

  it('reports a program that does not exist', async () => {
    const sut = spawnManaged('nothing', [], { command: 'astral-no-such-program' });
    await sut.exited;
    expect(sut.spawnError?.message).toMatch(/ENOENT/);
  });
});

describe(FlvFilePublisher.name, () => {
  const sample = parseFlvFile(readFileSync(sampleFlvPath()));
  const framesPerPass = sample.tags.filter(isVideoFrame).length;

  it('sends the header and sequence headers once, then frames whose timestamps keep increasing across loops', async () => {
    const ingest = await startIngest();
    const events: number[] = [];
    const sut = new FlvFilePublisher({ file: sampleFlvPath(), url: ingest.url, speed: 10, durationSec: 2 });
    sut.on('videoFrame', (ts: number) => events.push(ts));
    try {
      await sut.start();
      await sut.done;
      await waitFor(() => ingest.received.ended, {
        what: 'the ingest to see the end of the upload',
        timeoutMs: 5000,
      });
    } finally {
      await sut.stop();
      ingest.server.close();
    }
    const { received } = ingest;
    expect(received.header).toBe(true);
    expect(received.metadata).toBe(1);
    expect(received.sequenceHeaders).toBe(2);
    // 12 s at 10x in 2 s: one full pass and part of the next.
    expect(sut.loops).toBe(1);
    expect(received.videoTimestamps.length).toBeGreaterThan(framesPerPass);
    expect(received.videoTimestamps.length).toBeLessThan(2 * framesPerPass);
    expect(received.videoTimestamps.length).toBe(sut.framesSent);
    expect(events).toEqual(received.videoTimestamps);
    for (let i = 1; i < received.videoTimestamps.length; i++) {
      expect(received.videoTimestamps[i]).toBeGreaterThan(received.videoTimestamps[i - 1]);
    }
    // The first frame of the second pass follows the last of the first by about one frame (40 ms).
    const boundary = received.videoTimestamps[framesPerPass] - received.videoTimestamps[framesPerPass - 1];
    expect(boundary).toBeGreaterThan(0);
    expect(boundary).toBeLessThanOrEqual(80);
  });

  it('paces frames in real time at speed 1', async () => {
    const ingest = await startIngest();
    const sut = new FlvFilePublisher({ file: sampleFlvPath(), url: ingest.url });
    try {
      await sut.start();
      await new Promise((resolve) => setTimeout(resolve, 1200));
      const sent = sut.framesSent;
      // 25 fps: about 30 frames in 1.2 s, never a burst of the whole file.
      expect(sent).toBeGreaterThanOrEqual(25);
      expect(sent).toBeLessThanOrEqual(36);
    } finally {
      await sut.stop();
      ingest.server.close();
    }
    await waitFor(() => ingest.received.ended, {
      what: 'the ingest to see the end of the upload',
      timeoutMs: 5000,
    });
  });

  it('fails with a clear error when the server refuses the publish', async () => {
    const ingest = await startIngest((req, res) => {
      req.resume();
      res.writeHead(403, { 'content-type': 'text/plain' }).end('bad key');
      return true;
    });
    const sut = new FlvFilePublisher({ file: sampleFlvPath(), url: ingest.url });
    const errors: Error[] = [];
    sut.on('error', (err: Error) => errors.push(err));
    try {
      await sut.start();
      await expect(sut.done).rejects.toThrow(PublishError);
      await expect(sut.done).rejects.toThrow(/HTTP 403.*bad key/);
      expect(errors).toHaveLength(1);
      expect(errors[0].message).not.toContain('secret');
    } finally {
      await sut.stop();
      ingest.server.close();
    }
  });

  it('rejects start() when nothing listens', async () => {
    const port = await freePort();
    const sut = new FlvFilePublisher({ file: sampleFlvPath(), url: `http://127.0.0.1:${port}/live/x.flv` });
    await expect(sut.start()).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe(FlvTagReader.name, () => {
  it('records video frame timestamps from an HTTP-FLV response', async () => {
    const sample = parseFlvFile(readFileSync(sampleFlvPath()));
    const tags: FlvTag[] = sample.tags.slice(0, 120);
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'video/x-flv' });
      res.end(encodeFlvFile(sample.header.raw, tags));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const sut = await FlvTagReader.open(`http://127.0.0.1:${port}/live/x.flv`);
    try {
      const expected = tags.filter(isVideoFrame).map((t) => t.timestamp);
      await sut.waitForFrames(expected.length, 5000);
      expect(sut.videoTimestamps).toEqual(expected);
      expect(sut.sequenceHeaders).toBe(2);
      expect(sut.metadataTags).toBe(1);
    } finally {
      sut.close();
      server.close();
    }
  });
});

describe('ffprobe', () => {
  it('counts the decoded frames of each stream', async () => {
    const result = await ffprobe(sampleFlvPath(), { readSeconds: 2, timeoutMs: 15_000 });
    const video = result.streams.find((s) => s.codec_type === 'video');
    const audio = result.streams.find((s) => s.codec_type === 'audio');
    expect(video?.codec_name).toBe('h264');
    expect(audio?.codec_name).toBe('aac');
    expect(video?.nb_read_frames).toBeGreaterThanOrEqual(40);
  });
});
