/* Service worker: pages the instructor opened, and the visit form, still open with no network.
 * Pages: network first (a weak signal gets 4 s), else the copy kept from the last visit.
 * Static files: from the cache. Nothing else (photos, posts) is touched. */
"use strict";

var VERSION = "crm-v1";
var STATIC = ["/static/css/app.css", "/static/js/app.js"];
var OFFLINE_PAGE = "<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'>" +
  "<title>无网络</title><p style='font:16px sans-serif;padding:1rem'>当前没有网络，这个页面之前没有打开过，" +
  "所以无法离线显示。已暂存的走访会在联网后自动同步。</p><p><a href='/branches/'>返回我的党组织</a></p>";

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(VERSION).then(function (cache) { return cache.addAll(STATIC); }));
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== VERSION; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function withTimeout(promise, ms) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error("timeout")); }, ms);
    promise.then(function (r) { clearTimeout(timer); resolve(r); }, function (e) { clearTimeout(timer); reject(e); });
  });
}

function networkFirst(request) {
  if (new URL(request.url).pathname === "/login") caches.delete(VERSION);  // signed out: forget pages
  return withTimeout(fetch(request), 4000).then(function (response) {
    var signedOut = response.redirected && new URL(response.url).pathname === "/login";
    if (response.ok && !signedOut) {
      var copy = response.clone();
      caches.open(VERSION).then(function (cache) { cache.put(request, copy); });
    }
    if (signedOut) caches.delete(VERSION);  // a new person may sign in on this phone
    return response;
  }).catch(function () {
    return caches.match(request).then(function (hit) {
      return hit || new Response(OFFLINE_PAGE, { headers: { "Content-Type": "text/html; charset=utf-8" } });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request, url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(caches.match(request).then(function (hit) { return hit || fetch(request); }));
  } else if (request.mode === "navigate" || (request.headers.get("Accept") || "").indexOf("text/html") !== -1) {
    if (url.pathname.indexOf("/photos/") === 0) return;
    event.respondWith(networkFirst(request));
  }
});
