/*
 * The stream page's player (served at /assets/stream-player.js, after /assets/mpegts.js).
 * It tries the viewer's own node first (its HTTP-FLV base from ?node=, else the last one saved in this
 * browser, else http://localhost:8000), then every carrier nearest the source first. A source that errors
 * or delivers no frame within a few seconds is skipped for the next one.
 * Its data comes from the page's <script type="application/json" id="astral-play">: {streamId, carriers}.
 * A plain browser script (ES2019, no modules, no build step), linted by eslint.config.mjs.
 */
(function () {
  'use strict';
  var NO_FRAME_MS = 6000;
  var cfg = JSON.parse(document.getElementById('astral-play').textContent);
  var video = document.getElementById('player');
  var status = document.getElementById('play-status');
  var form = document.getElementById('local-node');
  var input = form.elements.namedItem('node');
  var params = new URLSearchParams(location.search);
  var base = params.get('node') || localStorage.getItem('astral.localNode') || 'http://localhost:8000';
  input.value = base;
  form.addEventListener('submit', function () {
    localStorage.setItem('astral.localNode', input.value);
  });
  if (!window.mpegts || !mpegts.getFeatureList().mseLivePlayback) {
    status.textContent = 'This browser cannot play live FLV (no Media Source Extensions).';
    return;
  }
  var candidates = [
    {
      label: 'your node (' + base + ')',
      url: base.replace(/\/+$/, '') + '/live/' + encodeURIComponent(cfg.streamId) + '.flv',
    },
  ].concat(
    cfg.carriers.map(function (c) {
      return { label: 'node ' + c.nodeId + ' (hops ' + c.hops + ')', url: c.flv };
    }),
  );
  var player = null;
  var index = -1;
  var watchdog = null;

  function next(reason) {
    if (watchdog) clearTimeout(watchdog);
    if (player) {
      try {
        player.destroy();
      } catch {
        // a player that failed to start may throw on destroy; the next candidate gets a new one
      }
      player = null;
    }
    index++;
    if (index >= candidates.length) {
      status.textContent = 'No node could play this stream (' + reason + ').';
      return;
    }
    var c = candidates[index];
    status.textContent = 'Connecting to ' + c.label + '…';
    video.dataset.source = c.url;
    player = mpegts.createPlayer(
      { type: 'flv', isLive: true, url: c.url },
      { enableStashBuffer: false, liveBufferLatencyChasing: true },
    );
    player.on(mpegts.Events.ERROR, function (type, detail) {
      next(type + ': ' + detail);
    });
    player.attachMediaElement(video);
    player.load();
    var p = player.play();
    if (p && p.catch) p.catch(function () {});
    var started = video.currentTime;
    watchdog = setTimeout(function () {
      if (video.currentTime <= started) next('no video from ' + c.label);
    }, NO_FRAME_MS);
  }

  video.addEventListener('playing', function () {
    if (watchdog) clearTimeout(watchdog);
    status.textContent = 'Playing from ' + candidates[index].label + '.';
  });
  next('');
})();
