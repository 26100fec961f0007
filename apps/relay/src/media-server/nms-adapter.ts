/**
 * The one file that reaches into node-media-server's internals. Everything else in the relay talks to the
 * functions below, so an upgrade of node-media-server is checked here and nowhere else.
 *
 * What Astral takes from node-media-server 4.4.3: its RTMP protocol code (handshake, chunking, AMF commands)
 * behind our own listener, and its per-stream broadcast (GOP cache, FLV and RTMP encoding for players,
 * publish grace). What it does not take: its HTTP server, its FLV parser for ingest and its FLV play
 * sessions (Astral's own HTTP-FLV listener parses untrusted FLV with libs/media and serves players itself).
 * docs/RELAY.md lists which of its code paths still see untrusted bytes.
 */
import { Socket } from 'node:net';
import NodeMediaServer from 'node-media-server';
import nmsLogger from 'node-media-server/src/core/logger.js';
import nmsContext, { NmsBroadcast } from 'node-media-server/src/core/context.js';
import RtmpSession, { NmsRtmp } from 'node-media-server/src/session/rtmp_session.js';
import BroadcastServer from 'node-media-server/src/server/broadcast_server.js';
import Flv from 'node-media-server/src/protocol/flv.js';
import Rtmp from 'node-media-server/src/protocol/rtmp.js';
import { CLOCK_TAG_NAME, scriptDataName } from '@astral/media';

export type { NmsBroadcast };

/** Routes node-media-server's log lines (its constructor's banner included) to `sink`; trace lines are dropped unformatted. */
export function routeNmsLogs(sink: (message: string, level: string) => void): void {
  nmsLogger.log = (message: string, level = 'info') => {
    if (level === 'trace') return;
    sink(String(message), level);
  };
}

/** node-media-server with no listener of its own: Astral's RTMP and HTTP-FLV listeners feed its broadcasts. */
export function createNms(storePath: string): NodeMediaServer {
  return new NodeMediaServer({
    rtmp: { chunk_size: 60000, gop_cache: true, ping: 30, ping_timeout: 60 },
    store: { path: storePath },
    record: { auto: false },
    webadmin: { enable: false },
    notify: { url: '' },
  });
}

/** Fields node-media-server's broadcast reads and writes on a session (src/session/base_session.js). */
export interface BroadcastSession {
  id: string;
  /** "address:port"; empty for the relay's own in-process sessions (no play events, not counted). */
  ip: string;
  protocol: 'flv' | 'rtmp';
  isPublisher: boolean;
  streamApp: string;
  streamName: string;
  streamPath: string;
  streamQuery: Record<string, string>;
  /** Sends it the source's onAstralClock stamps: the relay's tap (for forwards) and players that asked (`?clock=1`). */
  wantsClock?: boolean;
  sendBuffer(buffer: Buffer): void;
  close(): void;
  [stat: string]: unknown;
}

const STAT_FIELDS = [
  'inBytes',
  'outBytes',
  'playCount',
  'videoCodec',
  'videoWidth',
  'videoHeight',
  'videoFramerate',
  'videoDatarate',
  'audioCodec',
  'audioChannels',
  'audioSamplerate',
  'audioDatarate',
  'endTime',
] as const;

export function newSessionFields(): Record<string, number> {
  const fields: Record<string, number> = { createTime: Date.now() };
  for (const f of STAT_FIELDS) fields[f] = 0;
  return fields;
}

const PATCHED = new WeakSet<object>();
/** Timestamp step given to the first frame of a resumed publish when its clock did not restart. */
const RESUME_STEP_MS = 40;

type BroadcastInternals = NmsBroadcast & {
  _lastDts: Record<number, number>;
  _dtsOffset: Record<number, number>;
  _resumePublish(session: BroadcastSession): void;
  _finishPublish(): void;
  broadcastMessage(packet: NmsPacket): void;
  publishGraceMs: number;
};

interface NmsPacket {
  codec_type: number;
  flags: number;
  dts: number;
  pts: number;
  size: number;
  data: Buffer;
}

/**
 * The broadcast of a stream path, created when missing. Each is patched once: a publisher that resumes
 * within the grace window continues the timeline where it stopped (node-media-server shifts by the whole
 * previous timeline, a leap of minutes when the new publish's clock had not restarted, and cannot shift back).
 */
export function ensureBroadcast(streamPath: string, publishGraceMs: number): NmsBroadcast {
  let b = nmsContext.broadcasts.get(streamPath) as BroadcastInternals | undefined;
  if (!b) {
    b = new BroadcastServer(streamPath) as unknown as BroadcastInternals;
    nmsContext.broadcasts.set(streamPath, b);
  }
  if (!PATCHED.has(b)) {
    PATCHED.add(b);
    const bi = b;
    bi.publishGraceMs = publishGraceMs;
    // One timeline per broadcast: a resumed publish continues one step after the last timestamp sent,
    // whatever its own clock says (restarted at 0, or run on while it was away); audio and video share
    // the shift, so A/V sync is the publisher's. node-media-server's own offset is switched off.
    let resumedFrom: number | null = null;
    let shift = 0;
    const resume = bi._resumePublish.bind(bi);
    bi._resumePublish = (session) => {
      resume(session);
      resumedFrom = Math.max(bi._lastDts[8] ?? 0, bi._lastDts[9] ?? 0);
      bi._dtsOffset = {};
    };
    const finish = bi._finishPublish.bind(bi);
    bi._finishPublish = () => {
      resumedFrom = null;
      shift = 0;
      finish();
    };
    const broadcastMessage = bi.broadcastMessage.bind(bi);
    bi.broadcastMessage = (packet) => {
      // Frames only (flags 1 audio, 3 keyframe, 4 inter frame): sequence headers carry the publisher's own
      // time, often 0, and are not played.
      if (
        (packet.codec_type === 8 || packet.codec_type === 9) &&
        (packet.flags === 1 || packet.flags === 3 || packet.flags === 4)
      ) {
        if (resumedFrom !== null) {
          shift = resumedFrom + RESUME_STEP_MS - packet.dts;
          resumedFrom = null;
        }
        if (shift !== 0) {
          const dts = Math.max(0, packet.dts + shift);
          packet.pts += dts - packet.dts;
          packet.dts = dts;
        }
      }
      broadcastMessage(packet);
    };
  }
  return b;
}

export function findBroadcast(streamPath: string): NmsBroadcast | undefined {
  return nmsContext.broadcasts.get(streamPath);
}

/** Is someone publishing the stream (or resuming within the grace window)? */
export function hasPublisher(streamPath: string): boolean {
  return findBroadcast(streamPath)?.publisher != null;
}

/** Is the stream published right now, not merely held in the grace window after its publisher left? */
export function isPublishing(streamPath: string): boolean {
  const b = findBroadcast(streamPath) as (NmsBroadcast & { getPublishStatus(): string }) | undefined;
  return b?.getPublishStatus() === 'publishing';
}

/** Starts a publish on the broadcast; returns node-media-server's refusal, or null. */
export function beginPublish(broadcast: NmsBroadcast, session: BroadcastSession): string | null {
  return (broadcast as unknown as { postPublish(s: BroadcastSession): string | null }).postPublish(session);
}

export function endPublish(broadcast: NmsBroadcast, session: BroadcastSession): void {
  (broadcast as unknown as { donePublish(s: BroadcastSession): void }).donePublish(session);
}

export function addPlayer(broadcast: NmsBroadcast, session: BroadcastSession): string | null {
  return broadcast.postPlay(session);
}

export function removePlayer(broadcast: NmsBroadcast, session: BroadcastSession): void {
  broadcast.donePlay(session);
}

/** The newest audio or video timestamp the broadcast sent (its players' timeline), or null before any. */
export function lastMediaTimestamp(broadcast: NmsBroadcast): number | null {
  const dts = (broadcast as unknown as BroadcastInternals)._lastDts;
  const a = dts[8];
  const v = dts[9];
  if (a === undefined && v === undefined) return null;
  return Math.max(a ?? 0, v ?? 0);
}

/** Hands one FLV tag to the broadcast (its players, its GOP cache). Throws on a tag it cannot read. */
export function publishTag(broadcast: NmsBroadcast, type: number, timestamp: number, data: Buffer): void {
  if (type === 9 && data.length < 5) throw new Error(`video tag of ${data.length} bytes is too short`);
  if (type === 8 && data.length < 2) throw new Error(`audio tag of ${data.length} bytes is too short`);
  const packet = Flv.parserTag(type, timestamp, data.length, data) as NmsPacket;
  if (type === 18 && !isMetadataBody(data)) return sendLiveScript(broadcast, packet, isClockBody(data));
  (broadcast as unknown as BroadcastInternals).broadcastMessage(packet);
}

/** "onMetaData" or "@setDataFrame" as the AMF0 string a script tag starts with: what node-media-server caches. */
function isMetadataBody(data: Buffer): boolean {
  const name = scriptDataName(data);
  return name === 'onMetaData' || name === '@setDataFrame';
}

/** The source's wall-clock stamp (AMF0 string "onAstralClock" first). */
function isClockBody(data: Buffer): boolean {
  return scriptDataName(data) === CLOCK_TAG_NAME;
}

/**
 * Any other script tag (cue points) goes to the players as it is, live only: node-media-server would take every
 * script tag for the stream's metadata and hand it to joiners. The source's onAstralClock stamp goes only to the
 * sessions that want it (the tap that feeds forwards, players that asked with ?clock=1): ffmpeg would show it to
 * every other player as a data stream without a codec.
 */
function sendLiveScript(broadcast: NmsBroadcast, packet: NmsPacket, clock: boolean): void {
  const flv = Flv.createMessage(packet);
  const rtmp = Rtmp.createMessage(packet);
  for (const s of broadcast.subscribers.values()) {
    const session = s as BroadcastSession;
    if (clock && !session.wantsClock) continue;
    if (session.protocol === 'flv') session.sendBuffer(flv);
    else if (session.protocol === 'rtmp') session.sendBuffer(rtmp);
  }
}

/** Hooks Astral puts between node-media-server's RTMP command handling and its replies. */
export interface RtmpHooks {
  /** `connect` arrived with a usable command object. */
  onConnect(app: string): string | null;
  /** Returns null to accept, or the status code and description sent to the client before closing. */
  onPublish(
    session: BroadcastSession,
    app: string,
    name: string,
    query: URLSearchParams,
  ): { code: string; description: string } | null;
  onPlay(
    session: BroadcastSession,
    app: string,
    name: string,
    query: URLSearchParams,
  ): { code: string; description: string } | null;
  /** After a publish or play was accepted: the session is a real publisher or player now. */
  onStarted(session: BroadcastSession): void;
  /** Protocol code threw on the peer's bytes: the session is closed, the process goes on. */
  onFault(err: Error): void;
}

/** A message from a peer that is not (yet) an accepted publisher: commands and control only. */
const RTMP_UNAUTHENTICATED_MESSAGE_MAX = 64 * 1024;
/** Audio and video messages of a publisher (an I-frame of a high bit-rate stream fits with room). */
const RTMP_MEDIA_MESSAGE_MAX = 8 * 1024 * 1024;
const RTMP_OTHER_MESSAGE_MAX = 256 * 1024;
const RTMP_MAX_CHUNK_STREAMS = 16;
const RTMP_MAX_CHUNK_SIZE = 16 * 1024 * 1024;

function splitName(raw: unknown): { name: string; query: URLSearchParams } {
  const text = typeof raw === 'string' ? raw : '';
  const q = text.indexOf('?');
  return {
    name: q < 0 ? text : text.slice(0, q),
    query: new URLSearchParams(q < 0 ? '' : text.slice(q + 1)),
  };
}

/**
 * Runs node-media-server's RTMP session on an accepted socket, with its error paths owned here: every
 * byte from the peer goes through a try/catch (its parser and AMF decoder throw on malformed input), and
 * connect, publish and play are checked by the hooks before node-media-server answers them.
 */
export function runRtmpSession(socket: Socket, publishGraceMs: number, hooks: RtmpHooks): BroadcastSession {
  const session = new RtmpSession(socket) as unknown as BroadcastSession & {
    rtmp: NmsRtmp;
    onData: (d: Buffer) => void;
  };
  const rtmp = session.rtmp;
  let faulted = false;
  const refuse = (streamId: number, code: string, description: string): void => {
    rtmp.sendStatusMessage(streamId, 'error', code, description);
    socket.end();
  };
  const connect = rtmp.onConnect.bind(rtmp);
  rtmp.onConnect = (invoke) => {
    const cmd = invoke.cmdObj as Record<string, unknown> | null | undefined;
    if (
      !cmd ||
      typeof cmd !== 'object' ||
      typeof cmd.app !== 'string' ||
      typeof cmd.tcUrl !== 'string' ||
      !URL.canParse(cmd.tcUrl)
    ) {
      throw new Error('connect without a command object carrying app and a valid tcUrl');
    }
    const refusal = hooks.onConnect(cmd.app);
    if (refusal) throw new Error(refusal);
    connect(invoke);
  };
  const publish = rtmp.onPublish.bind(rtmp);
  rtmp.onPublish = (invoke) => {
    const { name, query } = splitName(invoke.streamName);
    const refusal = hooks.onPublish(session, String(rtmp.streamApp), name, query);
    if (refusal) return refuse(rtmp.parserPacket.header.stream_id, refusal.code, refusal.description);
    ensureBroadcast(`/${String(rtmp.streamApp)}/${name}`, publishGraceMs);
    publish(invoke);
    if (session.isPublisher) hooks.onStarted(session);
  };
  const play = rtmp.onPlay.bind(rtmp);
  rtmp.onPlay = (invoke) => {
    const { name, query } = splitName(invoke.streamName);
    const refusal = hooks.onPlay(session, String(rtmp.streamApp), name, query);
    if (refusal) return refuse(rtmp.parserPacket.header.stream_id, refusal.code, refusal.description);
    ensureBroadcast(`/${String(rtmp.streamApp)}/${name}`, publishGraceMs);
    play(invoke);
    hooks.onStarted(session);
  };
  // node-media-server reserves a message's whole claimed length (up to 16 MiB) on its first chunk, per
  // chunk stream: bound both, far lower before the peer is an accepted publisher.
  const alloc = rtmp.packetAlloc.bind(rtmp);
  rtmp.packetAlloc = () => {
    const { type, length } = rtmp.parserPacket.header;
    const limit = !session.isPublisher
      ? RTMP_UNAUTHENTICATED_MESSAGE_MAX
      : type === 8 || type === 9
        ? RTMP_MEDIA_MESSAGE_MAX
        : RTMP_OTHER_MESSAGE_MAX;
    if (length > limit)
      throw new Error(`message of ${length} bytes (type ${type}) exceeds the limit of ${limit}`);
    if (rtmp.inPackets.size > RTMP_MAX_CHUNK_STREAMS)
      throw new Error(`more than ${RTMP_MAX_CHUNK_STREAMS} chunk streams`);
    alloc();
  };
  const control = rtmp.controlHandler.bind(rtmp);
  rtmp.controlHandler = () => {
    const { type, length } = rtmp.parserPacket.header;
    if (type === 1) {
      const size = length >= 4 ? rtmp.parserPacket.payload.readUInt32BE(0) : 0;
      if (size < 1 || size > RTMP_MAX_CHUNK_SIZE)
        throw new Error(`chunk size ${size} is out of range (1 to ${RTMP_MAX_CHUNK_SIZE})`);
    }
    control();
  };
  const onData = session.onData;
  session.onData = (data: Buffer) => {
    if (faulted) return;
    try {
      onData(data);
    } catch (err) {
      faulted = true;
      hooks.onFault(err as Error);
      socket.destroy();
    }
  };
  (session as unknown as { run(): void }).run();
  return session;
}
