import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import http, { IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { FlvTag, FlvTagType, encodeCloseTag, encodeFlvHeader, encodeFlvTag, wireOf } from '@astral/media';
import { sampleFlvPath, syntheticFlv as flv, waitFor } from '@astral/testing';
import { createLogger } from '@astral/config';
import { generateNodeKeys } from '@astral/identity';
import { UpstreamClient } from './upstream-client';

const KEYS = generateNodeKeys();
const TICKET = '00000000-0000-4000-8000-0000000000aa';

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
    server = spawn(process.execPath, ['-e', SERVER, sampleFlvPath()], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [line] = (await once(createInterface({ input: server.stdout! }), 'line')) as [string];
    url = `http://127.0.0.1:${Number(line)}/live/s.flv`;
    client = new UpstreamClient(
      's',
      1000,
      KEYS,
      { onTag: () => undefined, onLost: (reason) => lost.push(reason) },
      createLogger('relay', 'test', 'silent'),
    );
    client.connect(url, '00000000-0000-4000-8000-000000000001', TICKET);
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

/** An upstream forward server in this process: each request waits for the test to answer it. */
class Upstream {
  readonly requests: { req: IncomingMessage; res: ServerResponse }[] = [];
  private readonly server = http.createServer((req, res) => {
    this.requests.push({ req, res });
  });

  async listen(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/forward/s.flv`;
  }

  /** The response of the n-th request, once it has come. */
  async response(n = 0): Promise<ServerResponse> {
    return (await waitFor(() => this.requests[n], { timeoutMs: 5000, intervalMs: 5, what: `request ${n}` }))
      .res;
  }

  /** Answers the n-th request with 200 and the FLV header, and returns a writer of tags. */
  async stream(n = 0): Promise<(...tags: FlvTag[]) => void> {
    const res = await this.response(n);
    res.writeHead(200, { 'Content-Type': 'video/x-flv' });
    res.write(encodeFlvHeader(true, true));
    return (...tags) => {
      for (const tag of tags) res.write(encodeFlvTag(tag));
    };
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';
const STALL_MS = 150;

/** `k@40` for a keyframe at 40, `i@…` another video frame, `a@…` audio, `vh`/`ah`/`meta` for headers. */
function label(tag: FlvTag): string {
  if (tag.type === FlvTagType.Script) return 'meta';
  if (tag.data[1] === 0) return tag.type === FlvTagType.Video ? 'vh' : 'ah';
  if (tag.type === FlvTagType.Audio) return `a@${tag.timestamp}`;
  return `${tag.data[0] >> 4 === 1 ? 'k' : 'i'}@${tag.timestamp}`;
}

describe('UpstreamClient pulls, loses and switches upstreams', () => {
  let a: Upstream;
  let b: Upstream;
  let urlA: string;
  let urlB: string;
  let client: UpstreamClient;
  let out: FlvTag[];
  let lost: { reason: string; upstreamNodeId: string }[];
  const seen = (): string[] => out.map(label);

  beforeEach(async () => {
    [a, b] = [new Upstream(), new Upstream()];
    [urlA, urlB] = await Promise.all([a.listen(), b.listen()]);
    out = [];
    lost = [];
    const [ownOut, ownLost] = [out, lost];
    client = new UpstreamClient(
      's',
      STALL_MS,
      KEYS,
      {
        onTag: (tag) => ownOut.push(tag),
        onLost: (reason, upstreamNodeId) => ownLost.push({ reason, upstreamNodeId }),
      },
      createLogger('relay', 'test', 'silent'),
    );
  });

  afterEach(async () => {
    client.close();
    await Promise.all([a.close(), b.close()]);
  });

  it('passes the upstream’s tags on as they come, on its own timeline', async () => {
    client.connect(urlA, A, TICKET);
    expect(client.upstreamNodeId).toBe(A);
    const send = await a.stream();
    send(flv.metadata(), flv.videoHeader(), flv.keyframe(1000), flv.audio(1010), flv.interframe(1040));
    await waitFor(() => out.length === 5, { timeoutMs: 5000, intervalMs: 5 });
    expect(seen()).toEqual(['meta', 'vh', 'k@1000', 'a@1010', 'i@1040']);
    expect(client.bytesIn).toBeGreaterThan(0);
    expect(client.switches).toBe(0);
    expect(lost).toEqual([]);
  });

  it.each([
    ['a refusal', (res: ServerResponse) => res.writeHead(403).end(), 'upstream answered HTTP 403'],
    [
      'an end of the stream',
      (res: ServerResponse) =>
        res.writeHead(200).end(Buffer.concat([encodeFlvHeader(), encodeFlvTag(flv.keyframe(0))])),
      'upstream ended the stream (EOF)',
    ],
    [
      'a close tag',
      (res: ServerResponse) =>
        res
          .writeHead(200)
          .write(Buffer.concat([encodeFlvHeader(), encodeFlvTag(encodeCloseTag('leaving', 0))])),
      'upstream closed the forward: leaving',
    ],
    [
      'bytes that are not FLV',
      (res: ServerResponse) => res.writeHead(200).write('HTTP/1.1 200 OK, not FLV'),
      /FLV/,
    ],
  ])('reports %s as the upstream lost, with the reason', async (_what, answer, reason) => {
    client.connect(urlA, A, TICKET);
    answer(await a.response());
    await waitFor(() => lost.length > 0, { timeoutMs: 5000, intervalMs: 5 });
    expect(lost).toHaveLength(1);
    expect(lost[0].upstreamNodeId).toBe(A);
    expect(lost[0].reason).toMatch(reason);
    await new Promise((r) => setTimeout(r, STALL_MS * 2 + 50)); // and only once: no stall after the loss
    expect(lost).toHaveLength(1);
  });

  it('passes on the tags ahead of a close tag in the same chunk', async () => {
    client.connect(urlA, A, TICKET);
    const res = await a.response();
    res.writeHead(200);
    res.write(
      Buffer.concat([
        encodeFlvHeader(),
        encodeFlvTag(flv.keyframe(0)),
        encodeFlvTag(encodeCloseTag('leaving')),
      ]),
    );
    await waitFor(() => lost.length > 0, { timeoutMs: 5000, intervalMs: 5 });
    expect(seen()).toEqual(['k@0']);
  });

  it('reports a refused connection', async () => {
    const url = urlA;
    await a.close();
    client.connect(url, A, TICKET);
    await waitFor(() => lost.length > 0, { timeoutMs: 5000, intervalMs: 5 });
    expect(lost[0].reason).toMatch(/^upstream connection failed: .*ECONNREFUSED/);
  });

  it('waits twice the stall bound for the first byte', async () => {
    const t0 = performance.now();
    client.connect(urlA, A, TICKET);
    await a.response(); // never answered
    await waitFor(() => lost.length > 0, { timeoutMs: 2000, intervalMs: 5 });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(2 * STALL_MS);
    expect(lost[0].reason).toBe(`no data from upstream within ${2 * STALL_MS} ms of the request`);
  });

  it('declares a stall once data stops for the stall bound, not while it flows', async () => {
    client.connect(urlA, A, TICKET);
    const send = await a.stream();
    send(flv.keyframe(0));
    for (let i = 1; i <= 6; i++) {
      await new Promise((r) => setTimeout(r, STALL_MS / 2));
      send(flv.interframe(i * 40));
    }
    expect(lost).toEqual([]); // 3 stall bounds of flowing data
    const stoppedAt = performance.now();
    await waitFor(() => lost.length > 0, { timeoutMs: 2000, intervalMs: 5 });
    expect(performance.now() - stoppedAt).toBeGreaterThanOrEqual(STALL_MS - 5);
    expect(lost[0].reason).toBe(`no data from upstream for ${STALL_MS} ms (stall)`);
  });

  it('after a crash, takes the next upstream’s first keyframe at once, right after the last output', async () => {
    client.connect(urlA, A, TICKET);
    const sendA = await a.stream();
    sendA(flv.videoHeader(), flv.keyframe(0), flv.interframe(40), flv.interframe(80));
    await waitFor(() => out.length === 4, { timeoutMs: 5000, intervalMs: 5 });
    (await a.response()).destroy();
    await waitFor(() => lost.length > 0, { timeoutMs: 5000, intervalMs: 5 });
    expect(lost[0]).toMatchObject({ upstreamNodeId: A });

    client.connect(urlB, B, TICKET);
    expect(client.switches).toBe(1);
    expect(client.upstreamNodeId).toBe(B);
    const sendB = await b.stream();
    // Another timeline, joined mid-GOP: frames before its keyframe cannot be decoded and are skipped.
    sendB(flv.videoHeader(), flv.interframe(50_040), flv.keyframe(50_080), flv.interframe(50_120));
    await waitFor(() => out.length === 7, { timeoutMs: 5000, intervalMs: 5 });
    expect(seen()).toEqual(['vh', 'k@0', 'i@40', 'i@80', 'vh', 'k@120', 'i@160']);
    expect(lost).toHaveLength(1);
  });

  it('hands on each tag with wire bytes equal to the encoder’s output at its output timestamp', async () => {
    client.connect(urlA, A, TICKET);
    const sendA = await a.stream();
    sendA(flv.videoHeader(), flv.keyframe(0), flv.audio(20), flv.interframe(40));
    await waitFor(() => out.length === 4, { timeoutMs: 5000, intervalMs: 5 });
    (await a.response()).destroy();
    await waitFor(() => lost.length > 0, { timeoutMs: 5000, intervalMs: 5 });
    client.connect(urlB, B, TICKET);
    const sendB = await b.stream();
    // Another timeline: every tag from B is moved, its wire patched in place.
    sendB(flv.videoHeader(), flv.keyframe(90_000), flv.audio(90_020), flv.interframe(90_040));
    await waitFor(() => out.length === 8, { timeoutMs: 5000, intervalMs: 5 });
    expect(seen()).toEqual(['vh', 'k@0', 'a@20', 'i@40', 'vh', 'k@80', 'a@100', 'i@120']);
    for (const tag of out) {
      expect(tag.wire).toBeDefined(); // the parser's view, never encoded again
      expect(wireOf(tag).equals(encodeFlvTag(tag))).toBe(true);
    }
  });

  it('switches from a flowing upstream without a gap or a repeat, at the new one’s next keyframe', async () => {
    client.connect(urlA, A, TICKET);
    const sendA = await a.stream();
    sendA(flv.videoHeader(), flv.keyframe(0), flv.interframe(40), flv.interframe(80));
    await waitFor(() => out.length === 4, { timeoutMs: 5000, intervalMs: 5 });

    client.connect(urlB, B, TICKET);
    expect(client.upstreamNodeId).toBe(B);
    const sendB = await b.stream();
    const changedHeader = flv.videoHeader();
    changedHeader.data[5] = 1;
    // B replays its GOP (frames A already passed on), then goes on with the same timeline.
    sendB(changedHeader, flv.keyframe(0), flv.interframe(40), flv.interframe(80));
    sendA(flv.interframe(120), flv.keyframe(160)); // A still flows meanwhile
    await waitFor(() => out.length === 6, { timeoutMs: 5000, intervalMs: 5 });
    sendB(flv.interframe(120), flv.keyframe(160), flv.keyframe(200), flv.interframe(240));
    await waitFor(() => out.length === 9, { timeoutMs: 5000, intervalMs: 5 });
    expect(seen()).toEqual(['vh', 'k@0', 'i@40', 'i@80', 'i@120', 'k@160', 'vh', 'k@200', 'i@240']);
    expect(out[6].data.equals(changedHeader.data)).toBe(true); // B's header, ahead of its first frame
    await waitFor(() => a.requests[0].res.destroyed || a.requests[0].req.destroyed, {
      timeoutMs: 5000,
      intervalMs: 5,
    });
    expect(lost).toEqual([]); // the old pull was closed, not lost
    expect(client.switches).toBe(1);
  });

  it('a new upstream lost before it took over is reported; the old one keeps flowing', async () => {
    client.connect(urlA, A, TICKET);
    const sendA = await a.stream();
    sendA(flv.keyframe(0));
    await waitFor(() => out.length === 1, { timeoutMs: 5000, intervalMs: 5 });
    client.connect(urlB, B, TICKET);
    (await b.response()).writeHead(404).end();
    await waitFor(() => lost.length > 0, { timeoutMs: 5000, intervalMs: 5 });
    expect(lost).toEqual([{ reason: 'upstream answered HTTP 404', upstreamNodeId: B }]);
    sendA(flv.interframe(40));
    await waitFor(() => out.length === 2, { timeoutMs: 5000, intervalMs: 5 });
    expect(client.upstreamNodeId).toBe(A);
  });

  it('the old upstream lost during a switch hands over to the new one at once, unreported', async () => {
    client.connect(urlA, A, TICKET);
    const sendA = await a.stream();
    sendA(flv.keyframe(0), flv.interframe(40));
    await waitFor(() => out.length === 2, { timeoutMs: 5000, intervalMs: 5 });
    client.connect(urlB, B, TICKET);
    const sendB = await b.stream();
    sendB(flv.videoHeader(), flv.keyframe(0)); // its replay: not past what A passed on
    await new Promise((r) => setTimeout(r, 20));
    (await a.response()).destroy();
    await new Promise((r) => setTimeout(r, 20));
    sendB(flv.interframe(80), flv.keyframe(120));
    await waitFor(() => out.length === 4, { timeoutMs: 5000, intervalMs: 5 });
    expect(seen()).toEqual(['k@0', 'i@40', 'vh', 'k@80']);
    expect(lost).toEqual([]);
  });

  it('after close, passes nothing on and ignores connect', async () => {
    client.connect(urlA, A, TICKET);
    const sendA = await a.stream();
    sendA(flv.keyframe(0));
    await waitFor(() => out.length === 1, { timeoutMs: 5000, intervalMs: 5 });
    client.close();
    sendA(flv.interframe(40));
    client.connect(urlB, B, TICKET);
    await new Promise((r) => setTimeout(r, STALL_MS * 2 + 50));
    expect(out).toHaveLength(1);
    expect(b.requests).toHaveLength(0);
    expect(lost).toEqual([]);
  });
});
