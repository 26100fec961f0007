import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import WebSocket from 'ws';
import {
  Amf0,
  FlvTagReader,
  amf0Command,
  ffmpegPublishFor,
  ffprobe,
  rtmpChunks,
  rtmpHandshake,
  sleep,
  waitFor,
  withLogsOnFailure,
} from '@astral/testing';
import { rssMbSync } from '../bench/lib/proc-sampler';
import { flood } from './hostile-input-probes';
import { RelayTestbed, TestRelay, sha256Hex, startRelayTestbed } from '../bench/lib/relay-testbed';

/**
 * Hostile input on a relay's RTMP and HTTP-FLV ports (the ports OBS, ffmpeg and every player reach), each
 * answered with a refusal and a log line while a stream through the relay keeps playing downstream. Every
 * refusal has its legitimate twin beside it.
 */
interface RawReply {
  status: number | null;
  head: string;
  body: string;
  /** The connection ended without any answer (a reset or a close). */
  silent: boolean;
  ms: number;
}

function rawRequest(port: number, bytes: Buffer | string, timeoutMs = 8000): Promise<RawReply> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      const split = text.indexOf('\r\n\r\n');
      resolve({
        status: m ? Number(m[1]) : null,
        head: split < 0 ? text : text.slice(0, split),
        body: split < 0 ? '' : text.slice(split + 4),
        silent: chunks.length === 0,
        ms: performance.now() - started,
      });
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      // A play answer streams for ever: its head is enough.
      if (
        Buffer.concat(chunks).includes('\r\n\r\n') &&
        /video\/x-flv/i.test(Buffer.concat(chunks).toString('latin1'))
      )
        finish();
    });
    socket.on('error', () => undefined);
    socket.on('close', finish);
    socket.on('connect', () => socket.write(bytes));
  });
}

/** The audio and video codecs ffprobe found (a metadata stream, if any, left out). */
const avCodecs = (probe: { streams: { codec_name: string }[] }): string[] =>
  probe.streams
    .map((s) => s.codec_name)
    .filter((c) => c === 'aac' || c === 'h264')
    .sort();

jest.setTimeout(120_000);

describe('relay ports under hostile input', () => {
  let bed: RelayTestbed;
  let A: TestRelay;
  let B: TestRelay;
  const streamId = 'hostile-main';
  let rssStart = 0;

  beforeAll(async () => {
    bed = await startRelayTestbed();
    A = await bed.startRelay('A', {
      env: {
        ASTRAL_HANDSHAKE_TIMEOUT_MS: '1500',
        ASTRAL_IDLE_TIMEOUT_MS: '5000',
        ASTRAL_MAX_CONNECTIONS_PER_ADDRESS: '40',
        ASTRAL_PLAYER_QUEUE_BYTES: '524288',
      },
    });
    B = await bed.startRelay('B');
    await bed.publish(A, streamId);
    await A.waitForTagsIn(streamId, 30, { timeoutMs: 15_000, what: 'the stream at A' });
    await bed.pull(B, A, streamId);
    await B.waitForTagsIn(streamId, 30, { timeoutMs: 15_000, what: 'the stream relayed to B' });
    await sleep(2000);
    rssStart = rssMbSync(A.process.pid!);
  }, 90_000);

  afterAll(async () => {
    await bed?.stop();
  }, 60_000);

  /** A is alive, and the stream through it still reaches B. */
  const stillServing = async (): Promise<void> => {
    expect(A.process.running).toBe(true);
    expect((await fetch(`http://127.0.0.1:${A.ports.forward}/healthz`)).ok).toBe(true);
    const before = (await B.stats()).streams.find((s) => s.streamId === streamId)!.tagsIn;
    await B.waitForTagsIn(streamId, before + 20, {
      timeoutMs: 5000,
      what: 'the stream to keep flowing to B',
    });
  };

  const withLogs = (body: () => Promise<void>): Promise<void> =>
    withLogsOnFailure(() => bed.logs(6000), body);

  it('RTMP: connect with no command object is refused; the relay and its stream live on (was: TypeError reading tcUrl)', () =>
    withLogs(async () => {
      for (const cmd of [null, undefined, { app: 'live' }, { app: 'live', tcUrl: 'http://[' }, 7] as Amf0[]) {
        const { socket } = await rtmpHandshake(A.ports.rtmp);
        const closed = new Promise<void>((r) => socket.once('close', () => r()));
        socket.write(rtmpChunks(amf0Command('connect', 1, cmd)));
        await closed;
      }
      await stillServing();
      expect(A.process.readLog(200_000)).toMatch(
        /RTMP peer sent what the protocol code cannot read; connection closed/,
      );
      // Twin: a well-formed connect is answered with _result.
      const { socket, received } = await rtmpHandshake(A.ports.rtmp);
      socket.write(
        rtmpChunks(
          amf0Command('connect', 1, { app: 'live', tcUrl: `rtmp://127.0.0.1:${A.ports.rtmp}/live` }),
        ),
      );
      await waitFor(() => received().includes('NetConnection.Connect.Success'), {
        timeoutMs: 3000,
        what: 'connect _result',
      });
      socket.destroy();
    }));

  it('RTMP: random bytes, a silent handshake and a flood past the per-address cap are closed; a real player still plays', () =>
    withLogs(async () => {
      for (let i = 0; i < 20; i += 1) await rawRequest(A.ports.rtmp, randomBytes(4000 + i * 100), 2000);
      // Handshake then silence: closed by the handshake timeout (1.5 s here).
      const { socket } = await rtmpHandshake(A.ports.rtmp);
      const t0 = performance.now();
      await new Promise<void>((r) => socket.once('close', () => r()));
      expect(performance.now() - t0).toBeLessThan(4000);
      // 60 connections from one address: the cap is 40.
      const { refused } = await flood(A.ports.rtmp, 60, 500);
      expect(refused).toBeGreaterThanOrEqual(15);
      await sleep(300);
      const probe = await ffprobe(A.rtmpUrl(streamId), { readSeconds: 2 });
      expect(avCodecs(probe)).toEqual(['aac', 'h264']);
      await stillServing();
    }));

  it('RTMP: messages claiming 16 MB on many chunk streams, and a zero chunk size, are refused without reserving the memory', () =>
    withLogs(async () => {
      const before = rssMbSync(A.process.pid!);
      for (let round = 0; round < 20; round += 1) {
        const { socket } = await rtmpHandshake(A.ports.rtmp);
        const closed = new Promise<void>((r) => socket.once('close', () => r()));
        socket.on('error', () => undefined);
        const headers: Buffer[] = [];
        for (let csid = 3; csid < 40; csid += 1) {
          const h = Buffer.alloc(13);
          h[0] = csid; // fmt 0
          h.writeUIntBE(0xffffff, 4, 3); // length: 16 MiB - 1
          h[7] = 9; // video
          h[12] = 0x17; // first payload byte
          headers.push(h);
        }
        socket.write(
          round % 2 === 0
            ? Buffer.concat(headers)
            : rtmpChunks(Buffer.from([0, 0, 0, 0]), { type: 1, csid: 2 }),
        );
        await closed;
      }
      // Each connection was closed by the relay (awaited above); 20 × 37 claims of 16 MiB reserved nothing.
      expect(rssMbSync(A.process.pid!) - before).toBeLessThan(32);
      await stillServing();
    }));

  it('RTMP: a wrong key tells the publisher why; playing an unknown stream is refused at once', () =>
    withLogs(async () => {
      const wrong = await ffmpegPublishFor(`${A.rtmpUrl(streamId)}?key=definitely-wrong`, 3, {
        logLevel: 'info',
      });
      expect(wrong.code).not.toBe(0);
      expect(wrong.stderr).toMatch(/wrong stream key/);
      const t0 = performance.now();
      await expect(
        ffprobe(A.rtmpUrl('no-such-stream'), { readSeconds: 1, timeoutMs: 10_000 }),
      ).rejects.toThrow(/not live on this node|StreamNotFound|failed/);
      expect(performance.now() - t0).toBeLessThan(5000);
      // Twin: the right key publishes over RTMP, and the stream plays.
      const key = randomBytes(12).toString('base64url');
      await A.control.authorizePublish({ streamId: 'hostile-rtmp', keyHash: sha256Hex(key) });
      const publishing = ffmpegPublishFor(`${A.rtmpUrl('hostile-rtmp')}?key=${key}`, 8, { logLevel: 'info' });
      await A.waitForTagsIn('hostile-rtmp', 30, { timeoutMs: 10_000, what: 'the RTMP publish at A' });
      const probe = await ffprobe(A.httpFlvUrl('hostile-rtmp'), { readSeconds: 2 });
      expect(avCodecs(probe)).toEqual(['aac', 'h264']);
      console.log(JSON.stringify({ rtmpPublishedStreams: probe.streams }));
      expect((await publishing).code).toBe(0);
      await stillServing();
    }));

  it('HTTP-FLV: malformed paths, WebSocket upgrades to / and unknown streams get 404 at once; plays carry video/x-flv', () =>
    withLogs(async () => {
      const tilde = await rawRequest(A.ports.http, 'GET /li~ve/x.flv HTTP/1.1\r\nHost: a\r\n\r\n');
      expect(tilde.status).toBe(404);
      const upgrade = await rawRequest(
        A.ports.http,
        'GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      );
      expect(upgrade.status).toBe(404);
      const unknown = await rawRequest(
        A.ports.http,
        'GET /live/no-such-stream.flv HTTP/1.1\r\nHost: a\r\n\r\n',
      );
      expect(unknown.status).toBe(404);
      expect(unknown.ms).toBeLessThan(1000);
      expect(unknown.body).toMatch(/not live on this node/);
      const huge = await rawRequest(
        A.ports.http,
        `GET /live/${streamId}.flv HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(1024 * 1024)}\r\n\r\n`,
      );
      expect(huge.status).toBe(431);
      for (let i = 0; i < 10; i += 1) await rawRequest(A.ports.http, randomBytes(3000), 2000);
      await stillServing();
      // Twins: the live stream plays over HTTP-FLV with its content type, and over WS-FLV.
      const play = await rawRequest(A.ports.http, `GET /live/${streamId}.flv HTTP/1.1\r\nHost: a\r\n\r\n`);
      expect(play.status).toBe(200);
      expect(play.head).toMatch(/content-type: video\/x-flv/i);
      const ws = new WebSocket(`ws://127.0.0.1:${A.ports.http}/live/${streamId}.flv`);
      let wsBytes = 0;
      ws.on('message', (d: Buffer) => (wsBytes += d.length));
      ws.on('error', () => undefined);
      await waitFor(() => wsBytes > 50_000, { timeoutMs: 5000, what: 'WS-FLV bytes' });
      ws.terminate();
    }));

  it('HTTP-FLV: a slowloris is closed after the handshake timeout and a flood past the per-address cap is refused; a player still plays', () =>
    withLogs(async () => {
      const slow = connect(A.ports.http, '127.0.0.1');
      slow.on('error', () => undefined);
      const t0 = performance.now();
      const slowClosed = new Promise<number>((r) => slow.once('close', () => r(performance.now() - t0)));
      const line = `GET /live/${streamId}.flv HTTP/1.1\r\nHost: a\r\n`;
      let i = 0;
      const drip = setInterval(() => {
        if (!slow.destroyed) slow.write(line[i++ % line.length]);
      }, 300);
      const closedAfter = await Promise.race([slowClosed, sleep(10_000).then(() => -1)]);
      clearInterval(drip);
      slow.destroy();
      expect(closedAfter).toBeGreaterThan(1000);
      expect(closedAfter).toBeLessThan(6000);
      const { refused } = await flood(A.ports.http, 60, 500);
      expect(refused).toBeGreaterThanOrEqual(15);
      await sleep(300);
      const probe = await ffprobe(A.httpFlvUrl(streamId), { readSeconds: 2 });
      expect(avCodecs(probe)).toEqual(['aac', 'h264']);
      await stillServing();
    }));

  it('HTTP-FLV ingest: a wrong key gets 403 with the reason; garbage, a header alone and a 16 MB tag are refused and never go live', () =>
    withLogs(async () => {
      const key = randomBytes(12).toString('base64url');
      await A.control.authorizePublish({ streamId: 'hostile-ingest', keyHash: sha256Hex(key) });
      const post = (path: string, body: Buffer): string =>
        `POST ${path} HTTP/1.1\r\nHost: a\r\nContent-Type: video/x-flv\r\nContent-Length: ${body.length}\r\n\r\n` +
        body.toString('latin1');
      const wrongKey = await rawRequest(
        A.ports.http,
        post('/live/hostile-ingest.flv?key=nope', Buffer.from('FLV')),
      );
      expect(wrongKey.status).toBe(403);
      expect(wrongKey.body).toMatch(/wrong stream key/);
      const noKey = await rawRequest(A.ports.http, post('/live/hostile-ingest.flv', Buffer.from('FLV')));
      expect(noKey.status).toBe(401);
      const garbage = await rawRequest(
        A.ports.http,
        post(`/live/hostile-ingest.flv?key=${key}`, randomBytes(64 * 1024)),
      );
      expect(garbage.status).toBe(400);
      expect(garbage.body).toMatch(/FLV/);
      const header = Buffer.from('464c5601050000000900000000', 'hex');
      const headerOnly = await rawRequest(A.ports.http, post(`/live/hostile-ingest.flv?key=${key}`, header));
      expect(headerOnly.status).toBe(400);
      expect(headerOnly.body).toMatch(/no audio or video tag/);
      // The header, then silence on a body that stays open: refused after the handshake timeout (1.5 s here).
      const open = await rawRequest(
        A.ports.http,
        `POST /live/hostile-ingest.flv?key=${key} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nd\r\n` +
          header.toString('latin1') +
          '\r\n',
      );
      expect(open.status).toBe(408);
      expect(open.ms).toBeLessThan(4000);
      const bigTag = Buffer.concat([header, Buffer.from('09ffffff00000000000000', 'hex'), randomBytes(1000)]);
      const big = await rawRequest(A.ports.http, post(`/live/hostile-ingest.flv?key=${key}`, bigTag));
      expect(big.status).toBe(400);
      expect(big.body).toMatch(/exceeds the limit/);
      expect((await A.stats()).streams.some((s) => s.streamId === 'hostile-ingest')).toBe(false);
      expect(A.process.readLog(400_000)).not.toMatch(
        /"streamId":"hostile-ingest"[^\n]*"msg":"local publish is live"/,
      );
      await stillServing();
      // Twin: the sample with the right key goes live and plays.
      const publishing = ffmpegPublishFor(`${A.httpFlvUrl('hostile-ingest')}?key=${key}`, 6, {
        logLevel: 'info',
      });
      await A.waitForTagsIn('hostile-ingest', 30, {
        timeoutMs: 10_000,
        what: 'the real HTTP-FLV publish to go live',
      });
      await publishing;
    }));

  it(
    'a player that stops reading for 40 s is cut back, then disconnected; other players get their frames and RSS stays bounded',
    () =>
      withLogs(async () => {
        const reader = await FlvTagReader.open(A.httpFlvUrl(streamId));
        // A player that reads nothing, with a small receive buffer (as a phone on a weak link has): python,
        // since Node cannot set SO_RCVBUF. After 40 s of not reading it drains what the kernel holds and says
        // whether the relay had closed the connection ("closed") or was still sending ("open").
        const t0 = performance.now();
        const verdict = new Promise<string>((resolve) =>
          execFile(
            'python3',
            [
              '-c',
              [
                'import socket, time',
                's = socket.socket()',
                's.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)',
                `s.connect(("127.0.0.1", ${A.ports.http}))`,
                `s.sendall(b"GET /live/${streamId}.flv HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n")`,
                'time.sleep(40)',
                's.settimeout(3)',
                'state = "open"',
                'until = time.time() + 10',
                'try:',
                '    while time.time() < until:',
                '        if not s.recv(65536):',
                '            state = "closed"',
                '            break',
                'except ConnectionResetError:',
                '    state = "closed"',
                'except socket.timeout:',
                '    pass',
                'print(state)',
              ].join('\n'),
            ],
            { timeout: 60_000 },
            (_err, stdout) => resolve(stdout.trim()),
          ),
        );
        const state = await verdict;
        const frames = reader.videoFrames.length;
        const seconds = (performance.now() - t0) / 1000;
        reader.close();
        const log = A.process.readLog(600_000);
        console.log(
          log
            .split('\n')
            .filter((l) => /player|idle/.test(l))
            .join('\n'),
        );
        expect(state).toBe('closed');
        expect(log).toMatch(/HTTP-FLV player lagging: cut back to the next keyframe/);
        // Disconnected by its queue bound, or by the idle timeout once the cut-back player took nothing for 5 s.
        expect(log).toMatch(/HTTP-FLV player disconnected|http-flv: idle timeout/);
        // The sample runs at 25 fps: the reading player got >= 98 % of the frames.
        expect(frames / (seconds * 25)).toBeGreaterThanOrEqual(0.98);
        await stillServing();
        expect(rssMbSync(A.process.pid!) - rssStart).toBeLessThan(32);
      }),
    90_000,
  );
});
