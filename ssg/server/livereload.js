/* ssg serve's live reload, injected into every HTML response of the dev server (never
 * into a build). One WebSocket per tab; after each batch of saved files the server sends
 * every tab {"batch": n, "action": "reload" | "css" | "none", "css": [paths]}:
 *   reload  the page this tab shows read something that changed: load it again
 *   css     only stylesheets from static/ changed: swap them in place, keep the page
 *   none    nothing this tab shows changed
 * window.__ssgLive counts the messages, so tests (and the curious) can see them.
 */
(function () {
  "use strict";
  if (window.__ssgLive) return;
  var script = document.currentScript;
  var version = (script && script.getAttribute("data-version")) || "0";
  var state = (window.__ssgLive = { batches: 0, last: null, connected: false });
  var retries = 0;
  var wasConnected = false;

  function sameOrigin(link) {
    try {
      return new URL(link.href, location.href).origin === location.origin;
    } catch (e) {
      return false;
    }
  }

  function swapCss(paths) {
    var links = Array.prototype.slice
      .call(document.querySelectorAll('link[rel~="stylesheet"][href]'))
      .filter(sameOrigin);
    var matched = links.filter(function (link) {
      return paths.indexOf(new URL(link.href, location.href).pathname) >= 0;
    });
    // A changed file no <link> names may be @import-ed: refresh every stylesheet then.
    (matched.length ? matched : links).forEach(function (link) {
      var url = new URL(link.href, location.href);
      url.searchParams.set("ssg-t", String(Date.now()));
      var next = link.cloneNode(false);
      next.href = url.href;
      // Keep the old sheet until the new one has loaded, so the page never flashes unstyled.
      next.onload = next.onerror = function () {
        link.remove();
      };
      link.parentNode.insertBefore(next, link.nextSibling);
    });
  }

  function connect() {
    var url =
      (location.protocol === "https:" ? "wss://" : "ws://") + location.host +
      "/__ssg/live?path=" + encodeURIComponent(location.pathname) + "&version=" + encodeURIComponent(version);
    var ws = new WebSocket(url);
    ws.onopen = function () {
      if (wasConnected) {
        location.reload(); // the server restarted: what it serves may have changed
        return;
      }
      wasConnected = true;
      retries = 0;
      state.connected = true;
    };
    ws.onmessage = function (event) {
      var message = JSON.parse(event.data);
      state.batches += 1;
      state.last = message;
      if (message.action === "reload") location.reload();
      else if (message.action === "css") swapCss(message.css || []);
    };
    ws.onclose = function () {
      state.connected = false;
      setTimeout(connect, Math.min(5000, 250 * Math.pow(2, retries++)));
    };
  }

  window.addEventListener("pageshow", function (event) {
    if (event.persisted) location.reload(); // restored from the back/forward cache: may be stale
  });
  connect();
})();
