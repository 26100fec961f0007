/*
 * The stream list's preview refresher (served at /assets/stream-list.js): every few seconds each live card's
 * <img data-preview> loads its preview again, with a cache-busting query, swapped in only once it has loaded
 * (a failed load keeps the last frame). A plain browser script (ES2019, no modules, no build step).
 */
(function () {
  'use strict';
  var REFRESH_MS = 5000;
  var images = document.querySelectorAll('img[data-preview]');
  function refresh() {
    if (document.hidden) return;
    Array.prototype.forEach.call(images, function (img) {
      var next = new window.Image();
      next.onload = function () {
        img.src = next.src;
      };
      next.src = img.getAttribute('data-preview') + '?t=' + Date.now();
    });
  }
  if (images.length) window.setInterval(refresh, REFRESH_MS);
})();
