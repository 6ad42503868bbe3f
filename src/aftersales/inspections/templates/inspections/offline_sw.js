// The round pages' service worker (issue 23 §4, inspections/offline_views.py): a reload without a connection still
// shows the round. Round pages and static assets are fetched network-first and the last good copy is kept; without a
// network the kept copy is served. Nothing else is touched: the API, photos, other pages and every POST go to the
// network as usual (the answers themselves wait in the page's IndexedDB queue, not here).
// The kept pages belong to one user: when another user's page says hello, they are dropped.
"use strict";
var CONFIG = {{ config|safe }};
var ROUND_PAGE = new RegExp("^" + CONFIG.rounds.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "[0-9]+/$");
var USER_KEY = CONFIG.rounds + "__user__";

self.addEventListener("install", function (event) {
  self.skipWaiting();
  event.waitUntil(caches.open(CONFIG.cache).then(function (cache) {
    return Promise.all(CONFIG.assets.map(function (path) { return cache.add(path).catch(function () {}); }));
  }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("aftersales-rounds-") === 0 && name !== CONFIG.cache;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

function keepable(response) {
  return response && response.ok && !response.redirected && response.type === "basic";
}

// `onlyKept`: a round page is renewed only if it is kept already — kept by its engineer's page ("keep-page" below,
// which checks whose pages these are), never by any visitor of this browser.
function networkFirst(event, key, onlyKept) {
  var kept = caches.open(CONFIG.cache);
  return fetch(event.request).then(function (response) {
    if (keepable(response)) {
      var copy = response.clone();
      event.waitUntil(kept.then(function (cache) {
        return (onlyKept ? cache.match(key) : Promise.resolve(true)).then(function (wanted) {
          return wanted ? cache.put(key, copy) : null;
        });
      }));
    }
    return response;
  }, function () {
    return kept.then(function (cache) { return cache.match(key, { ignoreVary: true }); }).then(function (copy) {
      return copy || Response.error();
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate" && ROUND_PAGE.test(url.pathname)) {
    event.respondWith(networkFirst(event, url.pathname, true));
  } else if (url.pathname.indexOf(CONFIG.static) === 0) {
    event.respondWith(networkFirst(event, url.pathname, false));  // the icon font's ?hash is not part of the key
  }
});

// Another user on this phone: the pages kept for the previous one go.
function forOwner(cache, user) {
  return cache.match(USER_KEY).then(function (marker) { return marker ? marker.text() : null; }).then(function (owner) {
    if (owner === String(user)) { return cache; }
    return cache.keys().then(function (requests) {
      return Promise.all(requests.filter(function (request) {
        return ROUND_PAGE.test(new URL(request.url).pathname);
      }).map(function (request) { return cache.delete(request); }));
    }).then(function () { return cache.put(USER_KEY, new Response(String(user))); }).then(function () { return cache; });
  });
}

// A round page asks to be kept (its first visit was loaded before this worker existed) and says whose it is.
// The answer goes back on the message's port: {kept: true|false}.
self.addEventListener("message", function (event) {
  var data = event.data || {}, port = event.ports && event.ports[0];
  if (data.type === "forget") {
    event.waitUntil(caches.delete(CONFIG.cache));
    return;
  }
  if (data.type !== "keep-page" || !ROUND_PAGE.test(data.url || "")) { return; }
  event.waitUntil(caches.open(CONFIG.cache).then(function (cache) { return forOwner(cache, data.user); })
    .then(function (cache) {
      return cache.match(data.url, { ignoreVary: true }).then(function (copy) {
        if (copy && data.controlled) { return true; }  // this visit came through the worker: it is kept already
        return fetch(data.url, { credentials: "same-origin" }).then(function (response) {
          return keepable(response) ? cache.put(data.url, response).then(function () { return true; }) : !!copy;
        }, function () { return !!copy; });
      });
    })
    .then(function (kept) { if (port) { port.postMessage({ kept: kept }); } },
          function () { if (port) { port.postMessage({ kept: false }); } }));
});
