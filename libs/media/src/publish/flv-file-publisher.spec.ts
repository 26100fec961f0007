import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleFlvPath } from '@astral/testing';
import { FlvTag, FlvTagType, isMetadata, isSequenceHeader, isVideoFrame } from '../flv/flv-tag';
import { FlvParser, parseFlvFile } from '../flv/flv-parser';
import { encodeFlvFile } from '../flv/flv-writer';
import { FlvFilePublisher, PublishError } from './flv-file-publisher';

/** What one publish POST brought to the server. */
interface Upload {
  method?: string;
  url?: string;
  headers: IncomingMessage['headers'];
  bytes: number;
  tags: FlvTag[];
  /** The body ended with its terminating chunk (not cut). */
  ended: boolean;
}

/** A real HTTP server on loopback that takes publish POSTs and parses their FLV body as it arrives. */
async function startIngest(
  answer?: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ url: string; server: Server; uploads: Upload[]; received: Promise<Upload> }> {
  const uploads: Upload[] = [];
  let resolveReceived!: (u: Upload) => void;
  const received = new Promise<Upload>((resolve) => (resolveReceived = resolve));
  const server = createServer((req, res) => {
    const upload: Upload = {
      method: req.method,
      url: req.url,
      headers: req.headers,
      bytes: 0,
      tags: [],
      ended: false,
    };
    uploads.push(upload);
    if (answer) return answer(req, res);
    const parser = new FlvParser();
    req.on('data', (chunk: Buffer) => {
      upload.bytes += chunk.length;
      upload.tags.push(...parser.push(chunk));
    });
    req.on('end', () => {
      upload.ended = true;
      res.end();
      resolveReceived(upload);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/live/s1.flv?key=secret-key`, server, uploads, received };
}

describe('FlvFilePublisher', () => {
  const { header, tags } = parseFlvFile(readFileSync(sampleFlvPath()));
  // A short real file: the sample's preamble and its first 1.5 s of frames.
  const shortTags = tags.filter((t) => t.timestamp < 1500);
  const shortVideo = shortTags.filter(isVideoFrame).length;
  let dir: string;
  let file: string;
  let server: Server | undefined;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'flv-publisher-'));
    file = join(dir, 'short.flv');
    writeFileSync(file, encodeFlvFile(header.raw, shortTags));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    if (!server) return;
    const s = server;
    server = undefined;
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  });

  it('publishes one pass as a chunked FLV POST: header, preamble at 0, then every frame in time order', async () => {
    const ingest = await startIngest();
    server = ingest.server;
    const publisher = new FlvFilePublisher({ file, url: ingest.url, speed: 10, loop: false });
    const ended = new Promise<void>((resolve) => publisher.once('end', resolve));
    const frames: number[] = [];
    publisher.on('videoFrame', (ts: number) => frames.push(ts));
    const t0 = performance.now();
    await publisher.start();
    await publisher.done;
    await ended;
    const upload = await ingest.received;

    expect(upload).toMatchObject({ method: 'POST', url: '/live/s1.flv?key=secret-key', ended: true });
    expect(upload.headers['content-type']).toBe('video/x-flv');
    expect(upload.headers['transfer-encoding']).toBe('chunked');
    expect(upload.bytes).toBe(publisher.bytesSent);
    expect(upload.tags).toHaveLength(shortTags.length);
    const preambleLength = shortTags.filter((t) => isMetadata(t) || isSequenceHeader(t)).length;
    const preamble = upload.tags.slice(0, preambleLength);
    expect(preamble.every((t) => (isMetadata(t) || isSequenceHeader(t)) && t.timestamp === 0)).toBe(true);
    const media = upload.tags.slice(preambleLength);
    expect(publisher.tagsSent).toBe(media.length);
    for (let i = 1; i < media.length; i++)
      expect(media[i].timestamp).toBeGreaterThanOrEqual(media[i - 1].timestamp);
    // The frames arrive byte for byte as in the file.
    const sent = shortTags.filter((t) => !isMetadata(t) && !isSequenceHeader(t));
    expect(media.map((t) => t.data.length)).toEqual(sent.map((t) => t.data.length));
    expect(Buffer.concat(media.map((t) => t.data)).equals(Buffer.concat(sent.map((t) => t.data)))).toBe(true);
    expect(publisher.framesSent).toBe(shortVideo);
    expect(frames).toEqual(media.filter(isVideoFrame).map((t) => t.timestamp));
    expect(publisher.loops).toBe(1);
    // Paced: 1.5 s of media at 10× takes about 0.15 s.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(120);
  });

  it('loops with increasing timestamps until stop(), which ends the upload cleanly', async () => {
    const ingest = await startIngest();
    server = ingest.server;
    const publisher = new FlvFilePublisher({ file, url: ingest.url, speed: 10 });
    await publisher.start();
    await new Promise<void>((resolve) => publisher.once('loop', () => resolve()));
    await new Promise<void>((resolve) => publisher.once('videoFrame', () => resolve()));
    await publisher.stop();
    const upload = await ingest.received;

    expect(upload.ended).toBe(true);
    expect(publisher.loops).toBeGreaterThanOrEqual(1);
    const video = upload.tags.filter((t) => isVideoFrame(t) && !isSequenceHeader(t));
    expect(video.length).toBe(publisher.framesSent);
    expect(video.length).toBeGreaterThan(shortVideo);
    for (let i = 1; i < video.length; i++) expect(video[i].timestamp).toBeGreaterThan(video[i - 1].timestamp);
    expect(video[shortVideo].timestamp).toBeGreaterThanOrEqual(publisher.fileDurationMs);
    const audio = upload.tags.filter((t) => t.type === FlvTagType.Audio && !isSequenceHeader(t));
    for (let i = 1; i < audio.length; i++) expect(audio[i].timestamp).toBeGreaterThan(audio[i - 1].timestamp);
  });

  it('rejects done with a PublishError, key redacted, when the server refuses the stream', async () => {
    const ingest = await startIngest((_req, res) => {
      res.writeHead(403, { connection: 'close' });
      res.end('wrong key');
    });
    server = ingest.server;
    const publisher = new FlvFilePublisher({ file, url: ingest.url, speed: 1 });
    const errors: Error[] = [];
    publisher.on('error', (e: Error) => errors.push(e));
    await publisher.start();
    const failure = await publisher.done.then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(failure).toBeInstanceOf(PublishError);
    expect((failure as Error).message).toMatch(/HTTP 403 \(refused: wrong key or stream\?\): wrong key$/);
    expect((failure as Error).message).toContain('key=[redacted]');
    expect((failure as Error).message).not.toContain('secret-key');
    expect(errors).toEqual([failure]);
  });

  it('rejects start() when nothing listens', async () => {
    const ingest = await startIngest();
    const url = ingest.url;
    await new Promise((resolve) => ingest.server.close(resolve));
    const publisher = new FlvFilePublisher({ file, url });
    await expect(publisher.start()).rejects.toThrow(
      /publishing to http:\/\/127\.0\.0\.1:\d+\/live\/s1\.flv\?key=\[redacted\] failed: connect ECONNREFUSED/,
    );
    await expect(publisher.done).rejects.toBeInstanceOf(PublishError);
  });
});
