/*
 * The stream page's player (served at /assets/stream-player.js, after mpegts.js, own-node.js and stream-hls.js).
 * It plays from the viewer's own node if there is one (own-node.js), else from the first candidate of the
 * directory's placement (GET /api/streams/:id/play) that answers a probe, in one of three modes: HTTP-FLV with
 * mpegts.js tuned for live (no stash buffer, latency chasing), LL-HLS or HLS (stream-hls.js: hls.js, or the
 * browser's own HLS). When its node errors, ends the connection or stalls, it asks for a new placement without
 * that node and plays on, in the same <video>, without a reload. It shows the node, its hops and its latency:
 * for FLV how far behind the source the picture is, from the source's onAstralClock {wallClockMs} script tag;
 * for hls.js how far behind the playlist's live edge (hls.latency).
 * Its state is window.astralPlayer (read by the tree and by tests). A plain browser script (ES2019).
 */
(function () {
  'use strict';
  // Per mode: currentTime still this long while playing means the node is lost (stallMs); a new connection has
  // startMs to show its first frame; a candidate has probeMs to answer a probe with bytes (an HLS playlist may
  // wait for the relay's first segment: it segments a stream on demand).
  var TIMING = {
    flv: { stallMs: 1500, startMs: 5000, probeMs: 1500 },
    'll-hls': { stallMs: 4000, startMs: 15000, probeMs: 6000 },
    hls: { stallMs: 8000, startMs: 20000, probeMs: 6000 },
  };
  var OWN_TRIES = 8; // the own node just asked to watch gets this many probes, a second apart
  var RETRY_MS = 1000; // between placements when no node answered
  var LOST_MS = 30000; // a lost node is excluded from placements this long
  var LOST_MAX = 8; // and at most this many at once
  var SEEK_BEHIND_S = 3; // further than this behind the buffered live edge: jump to it
  var FAST_BEHIND_S = 1; // further than this: play 10 % faster until close again
  var TUNING = {
    enableStashBuffer: false,
    liveBufferLatencyChasing: true,
    liveBufferLatencyMaxLatency: 1.2,
    liveBufferLatencyMinRemain: 0.3,
    lazyLoad: false,
    autoCleanupSourceBuffer: true,
    autoCleanupMaxBackwardDuration: 30,
    autoCleanupMinBackwardDuration: 10,
  };
  var cfg = JSON.parse(document.getElementById('astral-play').textContent);
  var video = document.getElementById('player');
  var hlsKit = window.astralHls;
  var ui = {
    mode: document.getElementById('play-mode'),
    status: document.getElementById('play-status'),
    node: document.getElementById('play-node'),
    hops: document.getElementById('play-hops'),
    latency: document.getElementById('play-latency'),
  };
  var state = {
    state: 'starting',
    mode: null,
    engine: null,
    nodeId: null,
    hops: null,
    source: null,
    own: false,
    url: null,
    latencyMs: null,
    hlsLatencyMs: null,
    failovers: 0,
    catchUps: 0,
    reason: null,
    lostAt: null,
  };
  window.astralPlayer = state;
  var player = null;
  var hls = null;
  var current = null;
  var attempt = 0;
  var lost = [];
  var own;
  var clock = null;
  var lastTime = -1;
  var lastAdvance = 0;

  function show(s, text) {
    state.state = s;
    ui.status.setAttribute('data-state', s);
    ui.status.textContent = text;
  }

  function label(c) {
    return (c.own ? 'your node ' : 'node ') + c.nodeId.slice(0, 8) + (c.source ? ' (the source)' : '');
  }

  function excluded() {
    var now = Date.now();
    lost = lost.filter((l) => now - l.at < LOST_MS).slice(-LOST_MAX);
    return lost.map((l) => l.nodeId);
  }

  async function placement() {
    var ex = excluded();
    var url =
      '/api/streams/' +
      encodeURIComponent(cfg.streamId) +
      '/play?limit=3' +
      (ex.length ? '&exclude=' + encodeURIComponent(ex.join(',')) : '');
    var res = await window.fetch(url, { cache: 'no-store' });
    var body = await res.json().catch(() => null);
    if (!res.ok || !body || !Array.isArray(body.candidates)) {
      throw new Error((body && body.message) || 'the directory answered ' + res.status);
    }
    return body.candidates.map((c) => ({
      nodeId: c.nodeId,
      hops: c.hops,
      source: c.source,
      urls: { flv: c.flvUrl, 'll-hls': c.llHlsUrl, hls: c.hlsUrl },
      own: false,
    }));
  }

  /** Whether the URL answers 200 with bytes within PROBE_MS; the probe's connection is closed at once. */
  async function probe(url) {
    var ac = new window.AbortController();
    var timer = window.setTimeout(() => ac.abort(), TIMING[state.mode].probeMs);
    try {
      var res = await window.fetch(url, { signal: ac.signal, cache: 'no-store' });
      if (!res.ok || !res.body) return false;
      var chunk = await res.body.getReader().read();
      return !chunk.done && chunk.value.length > 0;
    } catch {
      return false;
    } finally {
      window.clearTimeout(timer);
      ac.abort();
    }
  }

  async function probeOwn(c, mine) {
    for (var i = 0; i < OWN_TRIES && mine === attempt; i++) {
      if (await probe(c.url)) return true;
      await new Promise((r) => window.setTimeout(r, 1000));
    }
    return false;
  }

  function stop() {
    current = null;
    if (hls) hls.destroy();
    hls = null;
    if (!player) return;
    var p = player;
    player = null;
    try {
      p.pause();
      p.unload();
      p.detachMediaElement();
      p.destroy();
    } catch {
      // a player that failed to start may throw on the way down; the next one is new
    }
  }

  async function connect(why) {
    var mine = ++attempt;
    stop();
    show('connecting', (why ? why + ' ' : '') + 'Finding a node with room…');
    if (own === undefined && window.astralOwnNode && window.astralOwnNode.api) {
      show('connecting', 'Asking your node to watch the stream…');
      own = await window.astralOwnNode.find(cfg.streamId).catch((e) => {
        state.reason = 'your node: ' + e.message;
        return null;
      });
    }
    if (mine !== attempt) return;
    var list = own && excluded().indexOf(own.nodeId) < 0 ? [own] : [];
    try {
      list = list.concat(await placement());
    } catch (e) {
      state.reason = e.message;
      if (!list.length) return retry(mine, e.message);
    }
    for (var c of list) {
      if (mine !== attempt) return;
      c.url = c.urls[state.mode];
      if (!c.url) continue; // an older own node without HLS URLs
      if (await (c.own ? probeOwn(c, mine) : probe(c.url))) {
        if (mine === attempt) play(c);
        return;
      }
      lost.push({ nodeId: c.nodeId, at: Date.now() });
    }
    retry(mine, 'No node answered.');
  }

  function retry(mine, why) {
    show('waiting', why + ' Trying again…');
    window.setTimeout(() => {
      if (mine === attempt) connect('').catch(() => undefined);
    }, RETRY_MS);
  }

  function play(c) {
    current = c;
    clock = null;
    lastTime = -1;
    lastAdvance = Date.now();
    Object.assign(state, { nodeId: c.nodeId, hops: c.hops, source: c.source, own: c.own, url: c.url });
    state.latencyMs = null;
    state.hlsLatencyMs = null;
    ui.node.textContent = label(c);
    ui.hops.textContent = String(c.hops);
    show('starting', 'Connecting to ' + label(c) + '…');
    state.engine = state.mode === 'flv' ? 'mpegts.js' : hlsKit.engine(video, state.mode);
    ui.latency.textContent = '— · ' + modeText();
    if (state.mode !== 'flv') {
      hls = hlsKit.start(video, c.url, state.mode, (why) => lose(c, why));
      return;
    }
    // ?clock=1: the node sends this player the source's onAstralClock stamps (plain players don't get them).
    var url = c.url + (c.url.indexOf('?') >= 0 ? '&' : '?') + 'clock=1';
    player = mpegts.createPlayer({ type: 'flv', isLive: true, url: url }, TUNING);
    player.on(mpegts.Events.ERROR, (type, detail) =>
      lose(c, 'The node stopped answering (' + type + ': ' + detail + ').'),
    );
    player.on(mpegts.Events.LOADING_COMPLETE, () => lose(c, 'The node ended the connection.'));
    player.on(mpegts.Events.SCRIPTDATA_ARRIVED, onScriptData);
    player.attachMediaElement(video);
    player.load();
    var p = player.play();
    if (p && p.catch) p.catch(() => undefined);
  }

  function lose(c, why) {
    if (c !== current) return;
    lost.push({ nodeId: c.nodeId, at: Date.now() });
    if (state.state === 'playing') state.failovers++;
    state.reason = why;
    state.lostAt = Date.now();
    connect(why).catch(() => undefined);
  }

  function onScriptData(data) {
    var v = data && data.onAstralClock;
    var ms = typeof v === 'number' ? v : v && typeof v.wallClockMs === 'number' ? v.wallClockMs : NaN;
    // How long the stamp took from the source to this page; the buffer ahead of the playhead adds to it.
    if (isFinite(ms)) clock = { transitMs: Date.now() - ms };
  }

  function ahead() {
    var b = video.buffered;
    return b.length ? b.end(b.length - 1) - video.currentTime : 0;
  }

  function modeText() {
    return hlsKit.names[state.mode] + (state.engine === 'native' ? ' (native)' : '');
  }

  function catchUp() {
    if (video.paused || state.mode !== 'flv') return; // hls.js and Safari hold their own distance to the edge
    var behind = ahead();
    if (behind > SEEK_BEHIND_S) {
      video.currentTime = video.buffered.end(video.buffered.length - 1) - 0.3;
      state.catchUps++;
    } else {
      video.playbackRate = behind > FAST_BEHIND_S ? 1.1 : 1;
    }
  }

  function tick() {
    if (!current) return;
    var now = Date.now();
    var t = video.currentTime;
    if (t !== lastTime) {
      if (lastTime >= 0 && state.state !== 'playing' && !video.seeking) {
        var hops = current.hops === 1 ? '1 hop' : current.hops + ' hops';
        show('playing', 'Playing from ' + label(current) + ', ' + hops + ' from the source.');
      }
      lastTime = t;
      lastAdvance = now;
    } else if (video.paused && video.readyState >= 2) {
      lastAdvance = now; // the viewer paused (or the browser wants a click to play)
      if (state.state !== 'playing') show('paused', 'Press play to start.');
    } else if (now - lastAdvance > TIMING[state.mode][state.state === 'playing' ? 'stallMs' : 'startMs']) {
      lose(current, state.state === 'playing' ? 'The video stalled.' : 'No video arrived.');
      return;
    }
    if (state.state !== 'playing') return;
    catchUp();
    if (clock && state.mode === 'flv') {
      state.latencyMs = Math.max(0, Math.round(clock.transitMs + ahead() * 1000));
      ui.latency.textContent = (state.latencyMs / 1000).toFixed(2) + ' s · ' + modeText();
    } else if (hls && hls.latencyMs() !== null) {
      state.hlsLatencyMs = hls.latencyMs();
      ui.latency.textContent =
        (state.hlsLatencyMs / 1000).toFixed(2) + ' s behind the live edge · ' + modeText();
    }
  }

  /** Plays in a mode, or says why this browser cannot. */
  function useMode(mode, why) {
    state.mode = mode;
    if (mode === 'flv' ? flvOk : mode !== null && hlsKit.engine(video, mode) !== null) {
      connect(why).catch(() => undefined);
      return;
    }
    attempt++;
    stop();
    var name = mode ? hlsKit.names[mode] : 'live video';
    show(
      'failed',
      'This browser cannot play ' + name + ' (no Media Source Extensions). Pick another player.',
    );
  }

  var flvOk = !!window.mpegts && mpegts.getFeatureList().mseLivePlayback;
  var first = hlsKit.initialMode(video, flvOk);
  hlsKit.bindModes(ui.mode, first, (mode) => useMode(mode, 'Switching to ' + hlsKit.names[mode] + '.'));
  window.setInterval(tick, 250);
  useMode(first, '');
})();
