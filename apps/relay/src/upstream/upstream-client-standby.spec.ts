import { once } from 'node:events';
import http, { ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { FlvTag, FlvTagType, encodeFlvHeader, encodeFlvTag } from '@astral/media';
import { syntheticFlv as flv, waitFor } from '@astral/testing';
import { createLogger } from '@astral/config';
import { generateNodeKeys } from '@astral/identity';
import { UpstreamClient, UpstreamLoss } from './upstream-client';

const KEYS = generateNodeKeys();
const TICKET = '00000000-0000-4000-8000-0000000000aa';
const P = '00000000-0000-4000-8000-00000000000a';
const S = '00000000-0000-4000-8000-00000000000b';

/** An upstream in this process: the test answers each request and writes its tags. */
class Upstream {
  readonly responses: ServerResponse[] = [];
  private readonly server = http.createServer((_req, res) => this.responses.push(res));

  async listen(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/forward/s.flv`;
  }

  async stream(n = 0): Promise<{ send: (tags: FlvTag[]) => void; res: ServerResponse }> {
    const res = await waitFor(() => this.responses[n], { timeoutMs: 5000, intervalMs: 5, what: 'a request' });
    res.writeHead(200, { 'Content-Type': 'video/x-flv' });
    res.write(encodeFlvHeader(true, true));
    return { res, send: (tags) => tags.forEach((t) => res.write(encodeFlvTag(t))) };
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** 120 frames of the source: a keyframe every 25, audio between, each with its own bytes (index at byte 8). */
function source(): FlvTag[] {
  const tags: FlvTag[] = [];
  for (let v = 0; v < 120; v++) {
    const video = v % 25 === 0 ? flv.keyframe(v * 40, 12) : flv.interframe(v * 40, 12);
    video.data.writeUInt32BE(tags.length, 8);
    tags.push(video);
    const audio = flv.audio(v * 40 + 20, 12);
    audio.data.writeUInt32BE(tags.length, 8);
    tags.push(audio);
  }
  return tags;
}
const shifted = (tags: FlvTag[], by: number) => tags.map((t) => ({ ...t, timestamp: t.timestamp + by }));

describe('UpstreamClient with a standby', () => {
  let p: Upstream;
  let s: Upstream;
  let client: UpstreamClient;
  let out: FlvTag[];
  let losses: { upstreamNodeId: string; loss: UpstreamLoss }[];
  const src = source();
  const media = () => out.filter((t) => t.data[1] === 1);

  beforeEach(() => {
    [p, s] = [new Upstream(), new Upstream()];
    out = [];
    losses = [];
    const [o, l] = [out, losses];
    client = new UpstreamClient(
      's',
      1000,
      KEYS,
      {
        onTag: (t) => o.push(t),
        onLost: (_r, upstreamNodeId, loss) => l.push({ upstreamNodeId, loss }),
      },
      createLogger('relay', 'test', 'silent'),
    );
  });

  afterEach(async () => {
    client.close();
    await Promise.all([p.close(), s.close()]);
  });

  it.each([
    ['receiving, ahead of the primary', 'receiving', 140],
    ['receiving, behind the primary', 'receiving', 60],
    ['idle: its GOP replay is aligned at the loss', 'idle', 0],
  ] as const)('splices without a missing or repeated frame: %s', async (_name, mode, standbyUpTo) => {
    const [urlP, urlS] = await Promise.all([p.listen(), s.listen()]);
    client.connect(urlP, P, TICKET);
    client.connectStandby(urlS, S, TICKET, mode);
    const primary = await p.stream();
    primary.send([flv.videoHeader(), ...src.slice(0, 100)]);
    await waitFor(() => media().length === 100, { timeoutMs: 5000, intervalMs: 5 });
    // The standby's path re-based the stream by 3 s.
    const standbyTags = shifted(src, 3000);
    if (mode === 'receiving') {
      const standby = await s.stream();
      standby.send([flv.videoHeader(3000), ...standbyTags.slice(0, standbyUpTo)]);
      await waitFor(() => client.standbyState?.aligned === true, { timeoutMs: 5000, intervalMs: 5 });
      primary.res.destroy(); // the primary's relay dies
      await waitFor(() => losses.length === 1, { timeoutMs: 5000, intervalMs: 5 });
      standby.send(standbyTags.slice(standbyUpTo));
    } else {
      primary.res.destroy();
      const standby = await s.stream();
      // The GOP replay: from the keyframe at frame 25 (tag 50) on, then live.
      standby.send([flv.videoHeader(3000), ...standbyTags.slice(50)]);
    }
    await waitFor(() => media().length === src.length, { timeoutMs: 5000, intervalMs: 5 });
    await new Promise((r) => setTimeout(r, 50));
    expect(losses).toEqual([{ upstreamNodeId: P, loss: { promotedNodeId: S } }]);
    expect(media().map((t) => t.data.readUInt32BE(8))).toEqual(src.map((_t, i) => i));
    expect(media().map((t) => t.timestamp)).toEqual(src.map((t) => t.timestamp));
    expect(client.upstreamNodeId).toBe(S);
  });

  it('reports a lost standby and keeps the primary', async () => {
    const [urlP, urlS] = await Promise.all([p.listen(), s.listen()]);
    client.connect(urlP, P, TICKET);
    const primary = await p.stream();
    primary.send([flv.videoHeader(), ...src.slice(0, 10)]);
    client.connectStandby(urlS, S, TICKET, 'receiving');
    (await waitFor(() => s.responses[0], { timeoutMs: 5000, intervalMs: 5 })).writeHead(403).end();
    await waitFor(() => losses.length === 1, { timeoutMs: 5000, intervalMs: 5 });
    expect(losses[0]).toEqual({ upstreamNodeId: S, loss: { standby: true } });
    expect(client.standbyState).toBeNull();
    primary.send(src.slice(10, 20));
    await waitFor(() => media().length === 20, { timeoutMs: 5000, intervalMs: 5 });
    expect(client.upstreamNodeId).toBe(P);
  });

  it('has no standby state until one is kept, and closes it on request', async () => {
    expect(client.standbyState).toBeNull();
    client.connect(await p.listen(), P, TICKET);
    client.connectStandby(await s.listen(), S, TICKET, 'idle');
    expect(client.standbyState).toMatchObject({ upstreamNodeId: S, mode: 'idle', connected: false });
    expect(client.closeStandby()).toBe(true);
    expect(client.closeStandby()).toBe(false);
    expect(s.responses).toHaveLength(0);
    expect(FlvTagType.Video).toBe(9);
  });
});
