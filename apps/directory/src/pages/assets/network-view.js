/*
 * The live network view (served at /assets/network-view.js, after /assets/cytoscape.min.js).
 * It opens the directory's WebSocket (path from <script type="application/json" id="astral-network">), which
 * pushes the whole NetworkSnapshot on connect and whenever it changes, and draws it with cytoscape: nodes
 * (supernodes as orange diamonds), streams linked to their source, membership edges dashed, forward tickets as
 * arrows coloured per stream. The counts and the stream list are text, for screen readers and tests. When the
 * socket drops it reconnects with a growing delay (0.5 s up to 10 s).
 * window.astralNetwork exposes the cytoscape instance and the counts (the e2e test reads them).
 * A plain browser script (ES2019, no modules, no build step), linted by eslint.config.mjs.
 */
(function () {
  'use strict';
  var PALETTE = [
    '#1f77b4',
    '#d62728',
    '#2ca02c',
    '#9467bd',
    '#8c564b',
    '#e377c2',
    '#17becf',
    '#bcbd22',
    '#ff7f0e',
  ];
  var cfg = JSON.parse(document.getElementById('astral-network').textContent);
  var status = document.getElementById('network-status');
  var streamList = document.getElementById('network-streams');
  var view = { cy: null, counts: null, updates: 0, connected: false, hash: null, reconnects: 0 };
  window.astralNetwork = view;

  if (!window.cytoscape || !window.WebSocket) {
    setStatus('down', 'This page needs JavaScript with WebSocket support to draw the network.');
    return;
  }

  view.cy = window.cytoscape({
    container: document.getElementById('network-graph'),
    minZoom: 0.2,
    maxZoom: 3,
    style: [
      {
        selector: 'node',
        style: {
          label: 'data(label)',
          'text-wrap': 'wrap',
          'text-valign': 'bottom',
          'text-margin-y': 4,
          'font-size': 10,
          'font-family': 'monospace',
          'text-background-color': '#fafafa',
          'text-background-opacity': 0.85,
          'text-background-padding': 1,
          width: 22,
          height: 22,
          'background-color': '#6c8ebf',
          'border-width': 1,
          'border-color': '#3d5a80',
        },
      },
      {
        selector: 'node.supernode',
        style: {
          shape: 'diamond',
          width: 30,
          height: 30,
          'background-color': '#d79b00',
          'border-color': '#8a6300',
        },
      },
      {
        selector: 'node.stream',
        style: {
          shape: 'round-rectangle',
          width: 'data(width)',
          height: 'data(height)',
          'text-valign': 'center',
          'text-margin-y': 0,
          'font-family': 'system-ui, sans-serif',
          'font-size': 11,
          'background-color': '#fff',
          'border-width': 2,
          'border-color': 'data(color)',
        },
      },
      { selector: 'edge', style: { width: 2, 'curve-style': 'bezier' } },
      {
        selector: 'edge.membership',
        style: { 'line-style': 'dashed', 'line-color': '#999', width: 1.5 },
      },
      {
        selector: 'edge.forward',
        style: {
          'line-color': 'data(color)',
          'target-arrow-color': 'data(color)',
          'target-arrow-shape': 'triangle',
          width: 3,
        },
      },
      {
        selector: 'edge.source',
        style: { 'line-color': 'data(color)', 'line-style': 'dotted', width: 2 },
      },
    ],
  });

  function setStatus(state, text) {
    status.setAttribute('data-state', state);
    status.textContent = text;
  }

  function colourOf(streamId) {
    var h = 0;
    for (var i = 0; i < streamId.length; i++) h = (h * 31 + streamId.charCodeAt(i)) >>> 0;
    return PALETTE[h % PALETTE.length];
  }

  function rate(bps) {
    if (bps === null || bps === undefined) return '∞';
    if (bps >= 1e6) return (bps / 1e6).toFixed(1) + 'M';
    if (bps >= 1e3) return Math.round(bps / 1e3) + 'k';
    return String(bps);
  }

  /** The snapshot as cytoscape elements, and its counts (of what is drawn). */
  function elementsOf(snapshot) {
    var els = [];
    var known = {};
    var counts = { nodes: 0, supernodes: 0, streams: 0, forwards: 0, memberships: 0 };
    snapshot.nodes.forEach(function (n) {
      known[n.nodeId] = true;
      counts.nodes += 1;
      if (n.supernode) counts.supernodes += 1;
      var upload = n.uploadBps === null ? '?' : rate(n.uploadBps);
      els.push({
        group: 'nodes',
        classes: n.supernode ? 'node supernode' : 'node',
        data: {
          id: 'n:' + n.nodeId,
          nodeId: n.nodeId,
          label: n.nodeId.slice(0, 8) + '\n' + upload + ' / ' + rate(n.uploadLimitBps) + ' bit/s',
        },
      });
    });
    snapshot.streams.forEach(function (s) {
      counts.streams += 1;
      var colour = colourOf(s.streamId);
      var title = s.title.length > 36 ? s.title.slice(0, 35) + '…' : s.title;
      var viewers = s.viewers + ' viewers';
      els.push({
        group: 'nodes',
        classes: 'stream',
        data: {
          id: 's:' + s.streamId,
          streamId: s.streamId,
          color: colour,
          label: title + '\n' + viewers,
          width: Math.max(70, Math.max(title.length, viewers.length) * 6.5 + 16),
          height: 36,
        },
      });
      if (known[s.sourceNodeId]) {
        els.push({
          group: 'edges',
          classes: 'source',
          data: {
            id: 'src:' + s.streamId,
            source: 's:' + s.streamId,
            target: 'n:' + s.sourceNodeId,
            color: colour,
          },
        });
      }
    });
    snapshot.edges.forEach(function (e) {
      if (!known[e.from] || !known[e.to]) return;
      if (e.kind === 'membership') {
        counts.memberships += 1;
        els.push({
          group: 'edges',
          classes: 'membership',
          data: { id: 'm:' + e.from + '>' + e.to, source: 'n:' + e.from, target: 'n:' + e.to },
        });
      } else if (e.kind === 'forward') {
        counts.forwards += 1;
        els.push({
          group: 'edges',
          classes: 'forward',
          data: {
            id: 'f:' + e.streamId + ':' + e.from + '>' + e.to,
            source: 'n:' + e.from,
            target: 'n:' + e.to,
            streamId: e.streamId,
            color: colourOf(e.streamId || ''),
          },
        });
      }
    });
    return { els: els, counts: counts };
  }

  /** Applies a snapshot: removes what left, adds what came, updates labels; lays out again if the shape changed. */
  function draw(snapshot) {
    var next = elementsOf(snapshot);
    var cy = view.cy;
    var ids = {};
    next.els.forEach(function (el) {
      ids[el.data.id] = true;
    });
    var changed = false;
    cy.batch(function () {
      cy.elements().forEach(function (el) {
        if (!ids[el.id()]) {
          cy.remove(el);
          changed = true;
        }
      });
      next.els.forEach(function (el) {
        var existing = cy.getElementById(el.data.id);
        if (existing.nonempty()) {
          existing.data(el.data);
          existing.classes(el.classes);
        } else {
          cy.add(el);
          changed = true;
        }
      });
    });
    if (changed) layout();
    view.counts = next.counts;
    Object.keys(next.counts).forEach(function (k) {
      var dd = document.querySelector('[data-count="' + k + '"]');
      if (dd) dd.textContent = String(next.counts[k]);
    });
    listStreams(snapshot);
  }

  /** Trees from each stream down its forwards (breadthfirst); nodes outside every tree below them. */
  function layout() {
    var cy = view.cy;
    var roots = cy.nodes('.stream');
    if (roots.empty()) roots = cy.nodes('.supernode');
    cy.elements()
      .not('.membership')
      .layout({
        name: 'breadthfirst',
        directed: true,
        roots: roots.nonempty() ? roots : undefined,
        spacingFactor: 1.1,
        avoidOverlap: true,
        animate: false,
        fit: true,
        padding: 30,
      })
      .run();
  }

  function listStreams(snapshot) {
    while (streamList.firstChild) streamList.removeChild(streamList.firstChild);
    snapshot.streams.forEach(function (s) {
      var li = document.createElement('li');
      var swatch = document.createElement('span');
      swatch.className = 'swatch forward';
      swatch.style.color = colourOf(s.streamId);
      li.appendChild(swatch);
      li.appendChild(document.createTextNode(s.title + ' (' + s.viewers + ' viewers)'));
      streamList.appendChild(li);
    });
  }

  var attempt = 0;
  function connect() {
    var scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    var ws = new window.WebSocket(scheme + location.host + cfg.socketPath);
    ws.onopen = function () {
      attempt = 0;
      view.connected = true;
      setStatus('live', 'Live: connected, waiting for the first snapshot…');
    };
    ws.onmessage = function (ev) {
      var msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (msg.type === 'snapshot') {
        try {
          draw(msg.snapshot);
        } catch (err) {
          setStatus('down', 'Could not draw the snapshot: ' + (err && err.message));
          window.console.error(err);
          return;
        }
        view.updates += 1;
        view.hash = msg.hash;
        var note = msg.snapshot.truncated
          ? ' (the network is larger than one picture: some nodes are left out)'
          : '';
        setStatus('live', 'Live: updated ' + new Date(msg.at).toLocaleTimeString() + note);
      } else if (msg.type === 'unavailable') {
        setStatus('down', msg.reason);
      }
    };
    ws.onclose = function () {
      view.connected = false;
      var delay = Math.min(10000, 500 * Math.pow(2, attempt)) * (0.75 + Math.random() * 0.5);
      attempt = Math.min(attempt + 1, 10);
      view.reconnects += 1;
      setStatus(
        'down',
        'Disconnected from the directory: reconnecting in ' + Math.round(delay / 1000) + ' s…',
      );
      setTimeout(connect, delay);
    };
  }
  connect();
})();
