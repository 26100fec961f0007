/*
 * HLS for the stream page's player (served at /assets/stream-hls.js, before stream-player.js). The player has
 * three modes: 'flv' (mpegts.js, the lowest latency), 'll-hls' and 'hls' (a node's ll.m3u8 or index.m3u8).
 * window.astralHls.start(video, url, mode, onFatal) plays a playlist in the page's <video>: with hls.js (loaded
 * from /assets/hls.js on first use, so FLV viewers never fetch it) where the browser has Media Source
 * Extensions, else natively where the browser plays HLS itself (iOS Safari). onFatal(why) is called once, when
 * the session cannot go on (hls.js's fatal error, or the <video>'s own error for native HLS): the player then
 * asks for a new placement without that node, as it does for FLV. A plain browser script (ES2019).
 */
(function () {
  'use strict';
  var HLS_TYPE = 'application/vnd.apple.mpegurl';
  var NAMES = { flv: 'FLV', 'll-hls': 'LL-HLS', hls: 'HLS' };
  var loading = null;

  /** How this browser plays a mode's HLS: 'hls.js', 'native', or null (it cannot). */
  function engine(video, mode) {
    if (mode === 'flv') return null;
    var native = !!video.canPlayType && video.canPlayType(HLS_TYPE) !== '';
    if (!window.MediaSource && native) return 'native';
    if (window.MediaSource || window.ManagedMediaSource) return 'hls.js';
    return native ? 'native' : null;
  }

  /** The mode a load starts in: ?player=<mode> if this browser plays it, else FLV, else native HLS. */
  function initialMode(video, flvPlayable) {
    var asked = new URLSearchParams(location.search).get('player');
    var playable = function (m) {
      return NAMES[m] !== undefined && (m === 'flv' ? flvPlayable : engine(video, m) !== null);
    };
    if (asked && playable(asked)) return asked;
    if (flvPlayable) return 'flv';
    return playable('hls') ? 'hls' : null;
  }

  /** The mode <select>: shows the current mode, and calls onChange(mode) when the viewer picks another. */
  function bindModes(select, mode, onChange) {
    if (!select) return;
    if (mode) select.value = mode;
    select.addEventListener('change', function () {
      var url = new window.URL(location.href);
      url.searchParams.set('player', select.value);
      window.history.replaceState(null, '', url.toString());
      onChange(select.value);
    });
  }

  function loadHlsJs() {
    if (window.Hls) return Promise.resolve(window.Hls);
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var s = document.createElement('script');
        s.src = '/assets/hls.js';
        s.onload = function () {
          if (window.Hls) resolve(window.Hls);
          else reject(new Error('/assets/hls.js loaded but defined no Hls'));
        };
        s.onerror = function () {
          loading = null;
          reject(new Error('could not load /assets/hls.js'));
        };
        document.head.appendChild(s);
      });
    }
    return loading;
  }

  /** Live tuning: LL-HLS holds back by the playlist's PART-HOLD-BACK; no worker (the page's CSP has no blob: scripts). */
  function hlsConfig(mode) {
    return {
      lowLatencyMode: mode === 'll-hls',
      // A player that fell behind the target latency (a late start, a stall) plays a little faster to get back.
      maxLiveSyncPlaybackRate: 1.5,
      enableWorker: false,
      liveDurationInfinity: true,
      backBufferLength: 30,
    };
  }

  function start(video, url, mode, onFatal) {
    var session = { engine: engine(video, mode), hls: null, done: false };
    var fatal = function (why) {
      if (session.done) return;
      session.destroy();
      onFatal(why);
    };
    var onVideoError = function () {
      var e = video.error;
      fatal(
        'The browser could not play the HLS (' +
          (e ? e.code + ': ' + (e.message || 'media error') : 'error') +
          ').',
      );
    };
    session.latencyMs = function () {
      var s = session.hls && session.hls.latency;
      return typeof s === 'number' && isFinite(s) ? Math.max(0, Math.round(s * 1000)) : null;
    };
    session.destroy = function () {
      session.done = true;
      video.removeEventListener('error', onVideoError);
      if (session.hls) {
        session.hls.destroy();
        session.hls = null;
      } else if (session.engine === 'native') {
        video.removeAttribute('src');
        video.load();
      }
    };
    if (session.engine === 'native') {
      video.addEventListener('error', onVideoError);
      video.src = url;
      var p = video.play();
      if (p && p.catch) p.catch(function () {});
      return session;
    }
    if (session.engine !== 'hls.js') {
      window.setTimeout(function () {
        fatal('This browser cannot play ' + NAMES[mode] + '.');
      }, 0);
      return session;
    }
    loadHlsJs().then(
      function (Hls) {
        if (session.done) return;
        if (!Hls.isSupported()) return fatal('hls.js cannot play in this browser.');
        var hls = new Hls(hlsConfig(mode));
        session.hls = hls;
        hls.on(Hls.Events.ERROR, function (_event, data) {
          if (data && data.fatal)
            fatal('The node stopped answering (' + data.type + ': ' + data.details + ').');
        });
        hls.on(Hls.Events.MANIFEST_PARSED, function () {
          var p = video.play();
          if (p && p.catch) p.catch(function () {});
        });
        hls.loadSource(url);
        hls.attachMedia(video);
      },
      function (e) {
        fatal(e.message);
      },
    );
    return session;
  }

  window.astralHls = {
    names: NAMES,
    engine: engine,
    initialMode: initialMode,
    bindModes: bindModes,
    start: start,
  };
})();
