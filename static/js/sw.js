/* Service worker: the instructor's phone keeps working with no network.
 *
 * The offline set (crm/offline/services.py: the due list, each branch's page and visit form, the
 * problem ledger, each open problem) is fetched by this worker itself, so it is kept from the
 * first page after sign-in, whether or not that page is controlled yet. Each page opened online
 * sends "refresh": the worker reads the set again, fetches what it lacks or kept too long ago,
 * and drops what is no longer listed (a branch handed over). Pages: network first (a weak
 * signal gets 4 s), else the kept copy. Static files: kept by their versioned address.
 * Nothing else (photos, posts) is touched. A sign-out forgets every page. */
"use strict";

var PAGES = "crm-pages", ASSETS = "crm-assets", STATE = "/offline/state";
var MANIFEST = "/offline/pages.json";
var STALE_MS = 30 * 60 * 1000;  // a kept page older than this is fetched again at the next refresh
var PARALLEL = 3;
var OFFLINE_PAGE = "<!doctype html><html lang=zh-CN><meta charset=utf-8>" +
  "<meta name=viewport content='width=device-width, initial-scale=1'><title>无网络</title>" +
  "<main style='font:16px sans-serif;padding:1rem'><h1 style='font-size:1.2rem'>当前没有网络</h1>" +
  "<p>这个页面没有存在手机上，所以无法离线显示。已暂存的走访会在联网后自动同步。</p>" +
  "<p><a href='/branches/' style='display:inline-block;padding:.7rem 0'>返回我的党组织</a></p></main>";

self.addEventListener("install", function () { self.skipWaiting(); });

self.addEventListener("activate", function (event) {
  var keep = [PAGES, ASSETS];
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return keep.indexOf(n) === -1; })
      .map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

/* --- the offline set ----------------------------------------------------------------------- */

function readState() {
  return caches.open(PAGES).then(function (cache) { return cache.match(STATE); })
    .then(function (hit) { return hit ? hit.json() : null; });
}

function writeState(state) {
  return caches.open(PAGES).then(function (cache) {
    return cache.put(STATE, new Response(JSON.stringify(state), { headers: { "Content-Type": "application/json" } }));
  });
}

function forget() {
  return caches.delete(PAGES);
}

function absolute(path) {
  return new URL(path, self.location.origin).href;
}

function signedOut(response) {
  return response.status === 401 || (response.redirected && new URL(response.url).pathname === "/login");
}

/* Fetch one page of the set and keep it; true when it is kept. */
function keep(cache, path) {
  return withTimeout(fetch(absolute(path), { credentials: "same-origin", headers: { Accept: "text/html" } }), 20000)
    .then(function (response) {
      if (!response.ok || response.redirected) return false;
      return cache.put(absolute(path), response).then(function () { return true; });
    }, function () { return false; });
}

function inParallel(items, work) {
  var next = 0;
  function lane() {
    if (next >= items.length) return Promise.resolve();
    var item = items[next++];
    return work(item).then(lane);
  }
  var lanes = [];
  for (var i = 0; i < PARALLEL; i++) lanes.push(lane());
  return Promise.all(lanes);
}

/* What is kept of the set, as the page shows it. */
function report(state) {
  if (!state) return Promise.resolve({ total: 0, kept: 0, known: false });
  var assets = state.assets || [];
  return Promise.all([caches.open(PAGES), caches.open(ASSETS)]).then(function (opened) {
    return Promise.all(state.pages.map(function (path) { return opened[0].match(absolute(path)); })
      .concat(assets.map(function (path) { return opened[1].match(absolute(path)); })));
  }).then(function (hits) {
    return { total: hits.length, kept: hits.filter(Boolean).length, known: true };
  });
}

var refreshing = null;

function refresh() {
  if (refreshing) return refreshing;
  refreshing = withTimeout(fetch(MANIFEST, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" }), 15000)
    .then(function (response) {
      if (signedOut(response)) return forget().then(function () { return null; });
      if (!response.ok) return readState();
      return response.json().then(function (wanted) { return update(wanted); });
    }, function () { return readState(); })
    .then(function (state) { refreshing = null; return state; }, function (error) { refreshing = null; throw error; });
  return refreshing;
}

function update(wanted) {
  return readState().then(function (old) {
    var start = old && old.account !== wanted.account ? forget() : Promise.resolve();
    return start.then(function () { return caches.open(PAGES); }).then(function (cache) {
      var fetchedAt = (old && old.account === wanted.account && old.fetchedAt) || {};
      var listed = {};
      wanted.pages.forEach(function (path) { listed[absolute(path)] = true; });
      var state = { account: wanted.account, pages: wanted.pages, assets: wanted.assets,
                    aliases: wanted.aliases, fetchedAt: {} };
      return cache.keys().then(function (requests) {  // drop what is no longer in the set
        return Promise.all(requests.filter(function (r) { return !listed[r.url] && r.url !== absolute(STATE); })
          .map(function (r) { return cache.delete(r); }));
      }).then(function () {
        return Promise.all(wanted.pages.map(function (path) { return cache.match(absolute(path)); }));
      }).then(function (hits) {
        var now = Date.now(), due = [];
        wanted.pages.forEach(function (path, i) {
          var when = fetchedAt[path] || 0;
          if (hits[i] && now - when < STALE_MS) state.fetchedAt[path] = when;
          else due.push(path);
        });
        return writeState(state).then(function () {
          return inParallel(due, function (path) {
            return keep(cache, path).then(function (kept) {
              if (kept) state.fetchedAt[path] = Date.now();
            });
          });
        });
      }).then(function () { return keepAssets(wanted.assets); })
        .then(function () { return writeState(state); }).then(function () { return state; });
    });
  });
}

/* The static files of this version, and no older ones. */
function keepAssets(assets) {
  var listed = {};
  assets.forEach(function (path) { listed[absolute(path)] = true; });
  return caches.open(ASSETS).then(function (cache) {
    return cache.keys().then(function (requests) {
      return Promise.all(requests.filter(function (r) { return !listed[r.url]; }).map(function (r) { return cache.delete(r); }));
    }).then(function () {
      return Promise.all(assets.map(function (path) {
        return cache.match(absolute(path)).then(function (hit) {
          if (hit) return;
          return fetch(absolute(path)).then(function (response) {
            if (response.ok) return cache.put(absolute(path), response);
          }).catch(function () {});
        });
      }));
    });
  });
}

self.addEventListener("message", function (event) {
  var data = event.data || {}, client = event.source;
  if (data.type !== "refresh" && data.type !== "status") return;
  var work = (data.type === "refresh" ? refresh() : readState()).then(report).then(function (status) {
    if (client) client.postMessage({ type: "offline-status", status: status });
  });
  event.waitUntil(work);
});

/* --- answering the page ---------------------------------------------------------------------- */

function withTimeout(promise, ms) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error("timeout")); }, ms);
    promise.then(function (r) { clearTimeout(timer); resolve(r); }, function (e) { clearTimeout(timer); reject(e); });
  });
}

/* The kept copy of a page: the address itself, without the "saved" notice, or what it aliases. */
function kept(url) {
  var plain = new URL(url);
  plain.searchParams.delete("saved");
  return caches.open(PAGES).then(function (cache) {
    return cache.match(plain.href, { ignoreVary: true }).then(function (hit) {
      if (hit) return hit;
      return readState().then(function (state) {
        var target = state && state.aliases && state.aliases[plain.pathname];
        return target ? cache.match(absolute(target), { ignoreVary: true }) : undefined;
      });
    });
  });
}

function networkFirst(request) {
  var url = new URL(request.url);
  if (url.pathname === "/login") forget();  // signed out: a new person may sign in on this phone
  return withTimeout(fetch(request), 4000).then(function (response) {
    if (signedOut(response)) forget();
    else if (response.ok && !response.redirected) {
      var copy = response.clone();
      caches.open(PAGES).then(function (cache) {
        return cache.match(request).then(function (old) { if (old) return cache.put(request, copy); });
      });  // only pages of the set are kept; this brings a kept one up to date
    }
    return response;
  }).catch(function () {
    return kept(request.url).then(function (hit) {
      return hit || new Response(OFFLINE_PAGE, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
    });
  });
}

function fromAssets(request) {
  return caches.open(ASSETS).then(function (cache) {
    return cache.match(request, { ignoreVary: true }).then(function (hit) {
      if (hit) return hit;
      return fetch(request).then(function (response) {
        if (response.ok) cache.put(request, response.clone());
        return response;
      }, function (error) {  // a kept page of an older version: the file as it is now
        return cache.match(request, { ignoreVary: true, ignoreSearch: true }).then(function (old) {
          if (old) return old;
          throw error;
        });
      });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request, url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(fromAssets(request));
  } else if (request.mode === "navigate" || (request.headers.get("Accept") || "").indexOf("text/html") !== -1) {
    if (url.pathname.indexOf("/photos/") === 0) return;
    event.respondWith(networkFirst(request));
  }
});
