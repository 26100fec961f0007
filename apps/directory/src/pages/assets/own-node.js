/*
 * The viewer's own node (served at /assets/own-node.js, before the player): window.astralOwnNode.find(streamId)
 * asks the node agent on this machine (loopback only) for its status, then to watch the stream, and answers the
 * node's loopback HTTP-FLV, LL-HLS and HLS URLs, which cost the node no upload. The agent answers this
 * directory's origin only, and only for POST …/watch with X-Astral-Control: 1 (docs/security/agent-api.md); any
 * failure answers null and the player uses the directory's placement instead.
 * The API: ?node=<url> for this load (?node=off: none), else the one saved with the page's form, else the
 * default (the page's data). A plain browser script (ES2019, no modules, no build step).
 */
(function () {
  'use strict';
  var KEY = 'astral.ownNode';
  var STATUS_MS = 1500;
  var WATCH_MS = 15000;
  var cfg = JSON.parse(document.getElementById('astral-play').textContent);
  var form = document.getElementById('own-node');

  /** Only a node on this machine: http to a loopback name, any port. */
  function loopbackApi(text) {
    var u;
    try {
      u = new window.URL(text);
    } catch {
      return null;
    }
    var loopback = ['127.0.0.1', 'localhost', '[::1]'].indexOf(u.hostname) >= 0;
    return u.protocol === 'http:' && loopback ? u.origin : null;
  }

  function chosenApi() {
    var asked = new URLSearchParams(location.search).get('node');
    var saved = localStorage.getItem(KEY);
    var text = asked || saved || cfg.ownNodeApi;
    return text === 'off' ? null : loopbackApi(text);
  }

  if (form) {
    form.elements.namedItem('node').value = localStorage.getItem(KEY) || '';
    form.addEventListener('submit', function (e) {
      var value = e.submitter && e.submitter.value === 'off' ? 'off' : form.elements.namedItem('node').value;
      if (value === 'off' || loopbackApi(value)) localStorage.setItem(KEY, value);
      else localStorage.removeItem(KEY);
    });
  }

  async function json(url, init, ms) {
    var ac = new window.AbortController();
    var timer = window.setTimeout(function () {
      ac.abort();
    }, ms);
    try {
      var res = await window.fetch(url, Object.assign({ signal: ac.signal, cache: 'no-store' }, init));
      var body = await res.json();
      if (!res.ok) throw new Error((body && body.message) || 'answered ' + res.status);
      return body;
    } finally {
      window.clearTimeout(timer);
    }
  }

  async function find(streamId) {
    var api = chosenApi();
    if (!api) return null;
    var status = await json(api + '/api/status', {}, STATUS_MS);
    var watch = await json(
      api + '/api/streams/' + encodeURIComponent(streamId) + '/watch',
      { method: 'POST', headers: { 'X-Astral-Control': '1' } },
      WATCH_MS,
    );
    if (
      typeof status.nodeId !== 'string' ||
      !watch.play ||
      !loopbackOrSame(watch.play.httpFlv, status.host) ||
      // An agent older than issue 15 has no HLS URLs: FLV from it still works.
      ![watch.play.hls, watch.play.llHls].every((u) => u === undefined || loopbackOrSame(u, status.host))
    ) {
      throw new Error('your node answered something unexpected');
    }
    return {
      nodeId: status.nodeId,
      hops: watch.hops,
      source: watch.upstreamNodeId === null,
      urls: { flv: watch.play.httpFlv, 'll-hls': watch.play.llHls, hls: watch.play.hls },
      own: true,
    };
  }

  /** The node's play URL must be on this machine: loopback, or the address the node itself advertises. */
  function loopbackOrSame(url, host) {
    try {
      var name = new window.URL(url).hostname;
      return ['127.0.0.1', 'localhost', '[::1]', host].indexOf(name) >= 0;
    } catch {
      return false;
    }
  }

  window.astralOwnNode = { api: chosenApi(), find: find };
})();
