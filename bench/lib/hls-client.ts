import { sleep } from '@astral/testing';
import {
  HlsMediaEntry,
  blockingReloadUrl,
  mediaEntries,
  nextPartToAwait,
  parseMediaPlaylist,
} from './hls-media-list';

/**
 * An HLS / LL-HLS client that fetches like a player, without decoding (bench/hls.ts, test/hls.e2e-spec.ts).
 *
 *  - LL ('ll'): blocking playlist reloads for the part after the last one listed (`_HLS_msn`/`_HLS_part`),
 *    and every part fetched as soon as it is advertised: the preload hint is requested at once (the server
 *    answers when the part exists), a listed part not yet fetched is fetched on sight.
 *  - plain ('plain'): the playlist polled every target duration / 2, each new segment fetched.
 *
 * The first playlist's media is the back catalogue: it is not fetched (a player starts at the live edge);
 * everything advertised after it is. Per part/segment it records the arrival (Date.now(), body complete),
 * the bytes, the media time (its segment's EXT-X-PROGRAM-DATE-TIME + its offset within the segment) and
 *
 *   latency = arrival − media time
 *
 * which is AVAILABILITY latency at the client: how long after the source's wall clock stamped the first
 * frame of this part it was in the client's hands. A low-latency player's live edge sits behind that by its
 * hold-back (PART-HOLD-BACK, ~3 parts); the part's own duration is inside the figure (a part is served once
 * complete). PDT comes from the source relay's clock, this process reads Date.now(): on one machine they agree.
 */

export type HlsClientMode = 'll' | 'plain';

export interface HlsArrival {
  kind: 'part' | 'segment';
  uri: string;
  msn: number;
  part?: number;
  /** Date.now() when the whole body was in. */
  arrivalMs: number;
  bytes: number;
  /** Segment PDT + the part's offset within it (ms since the epoch); null if the playlist gave no PDT. */
  mediaTimeMs: number | null;
  latencyMs: number | null;
  /** Fetched through EXT-X-PRELOAD-HINT (requested before the playlist listed it). */
  viaHint: boolean;
}

export interface HlsClientOptions {
  /** The playlist URL: /live/<id>/ll.m3u8 or /live/<id>/index.m3u8. */
  url: string;
  mode: HlsClientMode;
  /** How long the first playlist may take (segmenting starts on demand: up to a GOP or so). Default 20 s. */
  startTimeoutMs?: number;
  /** Bound on one request (a blocking reload waits at most a few target durations). Default 15 s. */
  requestTimeoutMs?: number;
  /** Fetch init segments, parts and segments (default true); false: playlists only. */
  fetchMedia?: boolean;
  onArrival?: (a: HlsArrival) => void;
  /** Also hands over the bodies (init segments with arrival null); without it, bodies are dropped. */
  onBody?: (uri: string, body: Buffer, arrival: HlsArrival | null) => void;
}

export class HlsClient {
  readonly arrivals: HlsArrival[] = [];
  /** Bytes of init segments fetched (one per EXT-X-MAP URI). */
  initBytes = 0;
  playlistsLoaded = 0;
  /** Distinct part URIs seen in playlists (hints excluded). */
  readonly partsAdvertised = new Set<string>();
  /** Media sequence numbers of segments preceded by EXT-X-DISCONTINUITY, over every playlist seen. */
  readonly discontinuityMsns = new Set<number>();
  /** Problems a player would notice: the sequence going backwards, a URI changing under an msn, failures. */
  readonly problems: string[] = [];
  /** Hinted parts the server never produced (404 after the segment was cut short by a keyframe): harmless. */
  hintMisses = 0;
  lastPlaylistText = '';
  lastMediaSequence: number | null = null;
  lastMsn: number | null = null;

  private readonly abort = new AbortController();
  private readonly seen = new Map<string, HlsMediaEntry>();
  private readonly requested = new Set<string>();
  private readonly hinted = new Set<string>();
  private readonly pending = new Map<string, { arrivalMs: number; body: Buffer }>();
  private readonly uriByMsn = new Map<number, string>();
  private readonly inFlight = new Set<Promise<void>>();
  private loop: Promise<void> | null = null;

  constructor(private readonly options: HlsClientOptions) {}

  /** Resolves once the first playlist is in (throws if it does not come in startTimeoutMs). */
  async start(): Promise<void> {
    const first = await this.firstPlaylist();
    this.absorb(first, true);
    this.loop = this.run(first).catch((err: unknown) => {
      if (!this.abort.signal.aborted) this.problems.push(`client stopped: ${(err as Error).message}`);
    });
  }

  /** Stops every request and the loop; resolves when they are settled. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
  }

  get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  /** Arrivals (parts in LL mode, segments in plain) whose latency is known, sorted. */
  latencies(): number[] {
    return this.arrivals
      .map((a) => a.latencyMs)
      .filter((l): l is number => l !== null)
      .sort((a, b) => a - b);
  }

  /** The longest time between consecutive arrivals since `sinceMs` (Date.now() clock). */
  maxGapMs(sinceMs = 0): number {
    const times = this.arrivals
      .map((a) => a.arrivalMs)
      .filter((t) => t >= sinceMs)
      .sort((a, b) => a - b);
    let gap = 0;
    for (let i = 1; i < times.length; i++) gap = Math.max(gap, times[i] - times[i - 1]);
    return gap;
  }

  private async firstPlaylist(): Promise<string> {
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 20_000);
    let last: string;
    while (!this.abort.signal.aborted) {
      try {
        const res = await this.get(this.options.url);
        const text = await res.text();
        if (res.status === 200) return text;
        last = `${res.status} ${text.slice(0, 200)}`;
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() > deadline)
        throw new Error(`no playlist at ${this.options.url} within the start timeout (last answer: ${last})`);
      await sleep(250);
    }
    throw new Error('stopped before the first playlist');
  }

  private async run(first: string): Promise<void> {
    let text = first;
    while (!this.abort.signal.aborted) {
      const playlist = parseMediaPlaylist(text);
      const target = playlist.targetDuration || 2;
      let url = this.options.url;
      let pause = 0;
      if (this.options.mode === 'll') {
        const next = nextPartToAwait(playlist);
        if (playlist.lowLatencyCompatibility?.canBlockReload && next)
          url = blockingReloadUrl(url, next.msn, next.part);
        else pause = (playlist.partTargetDuration ?? target / 2) * 1000;
      } else pause = (target * 1000) / 2;
      if (playlist.endlist) return;
      if (pause) await sleep(pause);
      const before = this.lastMsn;
      const startedAt = Date.now();
      try {
        const res = await this.get(url);
        const body = await res.text();
        if (res.status !== 200) {
          this.problems.push(`playlist ${res.status} at ${new Date().toISOString()}: ${body.slice(0, 200)}`);
          await sleep(500);
          continue;
        }
        text = body;
        this.absorb(text, false);
      } catch (err) {
        if (this.abort.signal.aborted) return;
        this.problems.push(`playlist request failed: ${(err as Error).message}`);
        await sleep(500);
        continue;
      }
      // A server that answers a blocking reload at once without progress must not make this loop spin.
      if (this.options.mode === 'll' && this.lastMsn === before && Date.now() - startedAt < 20)
        await sleep(100);
    }
  }

  /** Takes in one playlist: sequence checks, and fetches of what is new (not on the first). */
  private absorb(text: string, first: boolean): void {
    this.playlistsLoaded++;
    this.lastPlaylistText = text;
    const playlist = parseMediaPlaylist(text);
    const mediaSequence = playlist.mediaSequenceBase ?? 0;
    if (this.lastMediaSequence !== null && mediaSequence < this.lastMediaSequence)
      this.problems.push(`EXT-X-MEDIA-SEQUENCE went back from ${this.lastMediaSequence} to ${mediaSequence}`);
    this.lastMediaSequence = mediaSequence;
    for (const e of mediaEntries(playlist)) {
      if (e.kind === 'segment') {
        const known = this.uriByMsn.get(e.msn);
        if (known && known !== e.uri) this.problems.push(`segment ${e.msn} was ${known}, now ${e.uri}`);
        this.uriByMsn.set(e.msn, e.uri);
        if (this.lastMsn !== null && e.msn < this.lastMsn - 50)
          this.problems.push(`media sequence number ${e.msn} far behind ${this.lastMsn}`);
        this.lastMsn = Math.max(this.lastMsn ?? e.msn, e.msn);
        if (e.discontinuity) this.discontinuityMsns.add(e.msn);
      } else if (!e.hint) {
        this.partsAdvertised.add(e.uri);
        if (e.discontinuity) this.discontinuityMsns.add(e.msn);
      }
      if (!e.hint) this.seen.set(e.uri, e);
      const wanted = this.options.mode === 'll' ? e.kind === 'part' : e.kind === 'segment';
      if (this.options.fetchMedia === false || !wanted) continue;
      if (e.mapUri && !this.requested.has(e.mapUri)) this.fetchInit(e.mapUri);
      if (first && !e.hint) {
        this.requested.add(e.uri); // back catalogue: not fetched
        continue;
      }
      if (e.hint) {
        if (!this.requested.has(e.uri)) this.hinted.add(e.uri);
      }
      this.fetchMedia(e.uri);
    }
    // Arrivals that came in before the playlist listed them (hints) get their media time now.
    for (const [uri, got] of this.pending) {
      const e = this.seen.get(uri);
      if (!e) continue;
      this.pending.delete(uri);
      this.record(e, got.arrivalMs, got.body);
    }
  }

  private fetchInit(uri: string): void {
    this.requested.add(uri);
    this.track(
      (async () => {
        const res = await this.get(this.resolve(uri));
        const buf = await res.arrayBuffer();
        if (res.status === 200) {
          this.initBytes += buf.byteLength;
          this.options.onBody?.(uri, Buffer.from(buf), null);
        } else this.problems.push(`init ${uri}: ${res.status}`);
      })(),
    );
  }

  private fetchMedia(uri: string): void {
    if (this.requested.has(uri)) return;
    this.requested.add(uri);
    this.track(
      (async () => {
        const res = await this.get(this.resolve(uri));
        const buf = await res.arrayBuffer();
        const arrivalMs = Date.now();
        if (res.status !== 200) {
          if (this.hinted.has(uri) && res.status === 404) this.hintMisses++;
          else this.problems.push(`${uri}: ${res.status} ${Buffer.from(buf).toString('utf8').slice(0, 200)}`);
          return;
        }
        const e = this.seen.get(uri);
        const body = Buffer.from(buf);
        if (e) this.record(e, arrivalMs, body);
        else this.pending.set(uri, { arrivalMs, body });
      })(),
    );
  }

  private record(e: HlsMediaEntry, arrivalMs: number, body: Buffer): void {
    const mediaTimeMs = e.pdtMs === null ? null : e.pdtMs + e.offsetMs;
    const arrival: HlsArrival = {
      kind: e.kind,
      uri: e.uri,
      msn: e.msn,
      ...(e.part !== undefined && { part: e.part }),
      arrivalMs,
      bytes: body.length,
      mediaTimeMs,
      latencyMs: mediaTimeMs === null ? null : arrivalMs - mediaTimeMs,
      viaHint: this.hinted.has(e.uri),
    };
    this.arrivals.push(arrival);
    this.options.onArrival?.(arrival);
    this.options.onBody?.(e.uri, body, arrival);
  }

  private track(p: Promise<void>): void {
    const settled = p.catch((err: unknown) => {
      if (!this.abort.signal.aborted) this.problems.push(`media request failed: ${(err as Error).message}`);
    });
    this.inFlight.add(settled);
    void settled.finally(() => this.inFlight.delete(settled));
  }

  private resolve(uri: string): string {
    return new URL(uri, this.options.url).toString();
  }

  private get(url: string): Promise<Response> {
    const timeout = AbortSignal.timeout(this.options.requestTimeoutMs ?? 15_000);
    return fetch(url, { signal: AbortSignal.any([this.abort.signal, timeout]) });
  }
}
