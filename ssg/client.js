/* ssg client runtime: page data without a second fetch. No dependencies.
 *
 *   ssg.page()              this page's __data.json envelope, from the embedded script
 *   ssg.load(path)          another page's envelope (fetched once, cached; concurrent calls share one request)
 *   ssg.endpoint(path)      a baked endpoint's JSON (same caching)
 *   ssg.preload(path)       start ssg.load(path) ahead of time
 *   ssg.invalidate(key)     drop every cached envelope whose depends() lists key
 *   ssg.seedQueryClient(queryClient, entries)
 *                           put envelopes into a TanStack Query client, dated by generated_at
 *
 * Links marked data-ssg-preload preload their target's data on hover, focus or touch
 * (data-ssg-preload="html" also prefetches the page itself); with
 * <script data-preload="all"> every same-site link does.
 */
(function () {
  "use strict";
  var cache = new Map(); // URL of a data file or endpoint -> Promise of its JSON
  var envelopes = new Map(); // same URL -> the resolved JSON, for invalidate()
  var stale = new Set(); // invalidated URLs: the next request must revalidate with the server
  var current = null;
  var script = document.currentScript;

  function page() {
    if (current === null) {
      var node = document.getElementById("ssg-data");
      current = node ? JSON.parse(node.textContent) : null;
    }
    return current;
  }

  function absolute(path) {
    var url = new URL(path, location.href);
    url.hash = "";
    return url;
  }

  function dataUrl(path) {
    var url = absolute(path);
    url.search = "";
    var p = url.pathname;
    if (/\/__data\.json$/.test(p)) return url.href;
    if (/\.html$/.test(p)) p = p.replace(/(index)?\.html$/, "");
    url.pathname = p.replace(/\/+$/, "") + "/__data.json";
    return url.href;
  }

  function get(url) {
    var hit = cache.get(url);
    if (hit) return hit;
    // After invalidate(), skip the browser's HTTP cache too: it may hold the old file.
    var mode = stale.has(url) ? "no-cache" : "default";
    stale.delete(url);
    var promise = fetch(url, { credentials: "same-origin", cache: mode }).then(function (response) {
      if (!response.ok) throw new Error("ssg: " + response.status + " for " + url);
      return response.json();
    }).then(function (json) {
      envelopes.set(url, json);
      return json;
    }, function (err) {
      cache.delete(url); // a failed request may be retried
      throw err;
    });
    cache.set(url, promise);
    return promise;
  }

  function load(path) {
    return get(dataUrl(path));
  }

  function endpoint(path) {
    var url = absolute(path);
    return get(url.href);
  }

  function invalidate(key) {
    var dropped = 0;
    envelopes.forEach(function (json, url) {
      if (json && Array.isArray(json.depends) && json.depends.indexOf(key) !== -1) {
        envelopes.delete(url);
        cache.delete(url);
        stale.add(url);
        dropped += 1;
      }
    });
    return dropped;
  }

  function seedQueryClient(queryClient, entries) {
    // entries: [{queryKey, envelope}] or [[queryKey, envelope]]; default: this page.
    if (!entries) entries = [{ queryKey: ["ssg", location.pathname], envelope: page() }];
    entries.forEach(function (entry) {
      var key = Array.isArray(entry) ? entry[0] : entry.queryKey;
      var envelope = Array.isArray(entry) ? entry[1] : entry.envelope;
      queryClient.setQueryData(key, envelope.data, { updatedAt: Date.parse(envelope.generated_at) });
    });
    return queryClient;
  }

  function sameSite(anchor) {
    return anchor.origin === location.origin && anchor.target !== "_blank" && !anchor.hasAttribute("download");
  }

  var prefetchedHtml = new Set();
  function preloadFrom(event) {
    var anchor = event.target && event.target.closest ? event.target.closest("a[href]") : null;
    if (!anchor || !sameSite(anchor)) return;
    var mode = anchor.getAttribute("data-ssg-preload");
    if (mode === null && !(script && script.getAttribute("data-preload") === "all")) return;
    if (mode === "off") return;
    load(anchor.href).catch(function () {});
    if (mode === "html" && !prefetchedHtml.has(anchor.href)) {
      prefetchedHtml.add(anchor.href);
      var link = document.createElement("link");
      link.rel = "prefetch";
      link.href = anchor.href;
      document.head.appendChild(link);
    }
  }

  ["mouseover", "focusin", "touchstart"].forEach(function (type) {
    document.addEventListener(type, preloadFrom, { passive: true, capture: true });
  });

  // This page's own data is already here: seed the cache so ssg.load(location) costs nothing.
  var own = page();
  if (own) {
    var ownUrl = dataUrl(location.href);
    envelopes.set(ownUrl, own);
    cache.set(ownUrl, Promise.resolve(own));
  }

  window.ssg = {
    page: page,
    load: load,
    endpoint: endpoint,
    preload: function (path) { return load(path).catch(function () {}); },
    invalidate: invalidate,
    seedQueryClient: seedQueryClient,
    dataUrl: dataUrl,
  };
})();
