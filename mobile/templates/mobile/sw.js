// The phone page's service worker (mobile/views/offline.py), scope /m/: keeps the page shell
// and the pages the manager opened, so they open without a signal. Only GETs: actions taken
// offline are kept and sent again by offline.js, never by the worker.
"use strict";
const SHELL = "m-shell-{{ version }}";
const PAGES = "m-pages";
const SHELL_URLS = {{ shell|safe }};
const SCOPE = {{ scope|safe }};
// A cheap phone's storage is small: the pages opened last are the ones worth keeping.
const MOST_PAGES = 60;

function keep(url, response) {
  return caches.open(PAGES).then((cache) =>
    cache.put(url, response)
      .then(() => cache.keys())
      .then((kept) => Promise.all(
        kept.slice(0, Math.max(0, kept.length - MOST_PAGES)).map((old) => cache.delete(old))
      ))
  );
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL).then((cache) => cache.addAll(SHELL_URLS)).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((name) => name.startsWith("m-shell-") && name !== SHELL)
          .map((name) => caches.delete(name))
      ))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (SHELL_URLS.includes(url.pathname)) {
    // The shell: from the phone first (a new version comes with a new worker).
    event.respondWith(
      caches.match(request, { cacheName: SHELL, ignoreSearch: true })
        .then((kept) => kept || fetch(request))
    );
    return;
  }
  if (!url.pathname.startsWith(SCOPE) || url.pathname === self.location.pathname) return;
  // A page: from the network while there is one (it is the truth), and kept for later;
  // the kept copy when the network fails. Only whole pages the manager saw, never a
  // redirect (to the sign-in, or after an action).
  event.respondWith(
    fetch(request)
      .then((response) => {
        const type = response.headers.get("Content-Type") || "";
        if (response.ok && !response.redirected && type.startsWith("text/html")) {
          const copy = response.clone();
          event.waitUntil(keep(url.href, copy));
        }
        return response;
      })
      .catch(() =>
        caches.match(url.href, { cacheName: PAGES, ignoreVary: true })
          .then((kept) => kept || Response.error())
      )
  );
});
