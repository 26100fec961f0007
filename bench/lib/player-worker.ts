/**
 * One process of a PlayerPool (forked by player-pool.ts): opens its share of players, counts their bytes
 * and, when asked, the lag of each (tag timestamps against this process's clock, media-clock.ts), and answers
 * snapshots over IPC. It imports only node and bench-local files, so it runs from dist without path mapping.
 */
import { RtmpPlayer } from '../peers/rtmp-player';
import { FlvTagClock, LagMeter, RtmpMessageClock } from './media-clock';
import { RawConsumer } from './raw-consumer';
import type { PoolReply, PoolRequest, PoolTarget } from './player-pool';

interface Player {
  bytes(): number;
  ended(): boolean;
  lag: LagMeter | null;
  close(): void;
}

const players: Player[] = [];

async function openOne(t: PoolTarget, track: boolean, timeoutMs: number): Promise<Player> {
  const lag = track ? new LagMeter() : null;
  const onTag = (_type: number, ts: number): void => lag!.tag(ts, performance.now());
  if (t.protocol === 'rtmp') {
    const p = new RtmpPlayer(t.url);
    if (lag) {
      const clock = new RtmpMessageClock(onTag);
      p.sink = (d) => clock.push(d);
    }
    await p.open(timeoutMs);
    return { bytes: () => p.bytes, ended: () => p.ended, lag, close: () => p.close() };
  }
  const c = new RawConsumer(t.url, t.headers, lag ? new FlvTagClock(onTag) : undefined);
  await c.open(timeoutMs);
  return { bytes: () => c.bytes, ended: () => c.ended, lag, close: () => c.close() };
}

async function handle(req: PoolRequest): Promise<PoolReply> {
  if (req.op === 'open') {
    let failed = 0;
    let error = '';
    for (let i = 0; i < req.targets.length; i += 50) {
      const settled = await Promise.allSettled(
        req.targets.slice(i, i + 50).map((t) => openOne(t, req.track, req.timeoutMs)),
      );
      for (const s of settled)
        if (s.status === 'fulfilled') players.push(s.value);
        else {
          failed++;
          error = s.reason instanceof Error ? s.reason.message : String(s.reason);
        }
    }
    return { id: req.id, opened: players.length, failed, error };
  }
  if (req.op === 'snapshot') {
    const reply: PoolReply = {
      id: req.id,
      bytes: players.map((p) => p.bytes()),
      lagMs: players.map((p) => p.lag?.maxLagMs ?? 0),
      ended: players.filter((p) => p.ended()).length,
    };
    if (req.resetLag) for (const p of players) p.lag?.reset();
    return reply;
  }
  for (const p of players.splice(0)) p.close();
  return { id: req.id };
}

process.on('message', (req: PoolRequest) => {
  void handle(req).then((reply) => process.send!(reply));
});
process.on('disconnect', () => process.exit(0));
