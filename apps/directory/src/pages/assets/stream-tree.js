/*
 * The stream page's compact tree (served at /assets/stream-tree.js): every few seconds it reads the stream's
 * carriers (GET /api/streams/:id/carriers) and redraws them level by level, marking the node this page plays
 * from (window.astralPlayer.nodeId). Text only, set with textContent. A plain browser script (ES2019).
 */
(function () {
  'use strict';
  var REFRESH_MS = 5000;
  var cfg = JSON.parse(document.getElementById('astral-play').textContent);

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs).forEach(function (k) {
      e.setAttribute(k, attrs[k]);
    });
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function draw(carriers) {
    var old = document.getElementById('stream-tree');
    if (!old || !Array.isArray(carriers)) return;
    var playing = window.astralPlayer && window.astralPlayer.nodeId;
    var levels = {};
    carriers.forEach(function (c) {
      (levels[c.hops] = levels[c.hops] || []).push(c.nodeId);
    });
    var tree = el('ol', { class: 'tree', id: 'stream-tree' });
    Object.keys(levels)
      .map(Number)
      .sort(function (a, b) {
        return a - b;
      })
      .forEach(function (hops) {
        var row = el('li', { 'data-hops': String(hops) });
        row.appendChild(el('span', { class: 'level' }, hops === 0 ? 'source' : 'hop ' + hops));
        var nodes = el('ul', {});
        levels[hops].forEach(function (id) {
          var item = el('li', { 'data-node-id': id, title: id });
          if (id === playing) item.className = 'current';
          item.appendChild(el('code', {}, String(id).slice(0, 8)));
          nodes.appendChild(item);
        });
        row.appendChild(nodes);
        tree.appendChild(row);
      });
    if (!carriers.length)
      tree = el('p', { class: 'muted', id: 'stream-tree' }, 'No node carries this stream right now.');
    old.replaceWith(tree);
  }

  function refresh() {
    if (document.hidden) return;
    window
      .fetch('/api/streams/' + encodeURIComponent(cfg.streamId) + '/carriers', { cache: 'no-store' })
      .then(function (res) {
        return res.ok ? res.json() : null;
      })
      .then(draw)
      .catch(function () {
        // the next refresh tries again
      });
  }
  window.setInterval(refresh, REFRESH_MS);
  window.setTimeout(refresh, 1000);
})();
