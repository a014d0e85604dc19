// The service worker (served as /sw.js, so its scope is the whole site). It keeps the styles, the practice log and
// the new-entry form for offline use and shows the offline page in place of other pages; a new entry whose sending
// fails is kept on the phone (practice-queue.js) and sent later, by the pages or by Background Sync. Pages are
// always asked of the network first: what is kept is only a fallback. Signing in or out forgets the kept pages.
importScripts("/static/practice-queue.js");

var SHELL = "lms-shell-1";
var PAGES = "lms-pages";
var SHELL_FILES = ["/static/style.css", "/static/mark.svg", "/static/practice-queue.js",
                   "/static/practice-offline.js"];
var KEPT_PAGES = ["/practice", "/practice/new", "/offline"];
var LOG = "/practice";

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL).then(function (cache) { return cache.addAll(SHELL_FILES); })
    .then(keepMissingPages).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) { return name !== SHELL && name !== PAGES; })
      .map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

// Only what the signed-in trainee's own pages answered (a mentor's /practice is a redirect, never kept); resolves
// to whether it was kept.
function keepPage(path, response) {
  if (response.ok && !response.redirected && response.type === "basic") {
    return caches.open(PAGES).then(function (cache) { return cache.put(path, response); })
      .then(function () { return true; });
  }
  return Promise.resolve(false);
}

function keepMissingPages() {
  return caches.open(PAGES).then(function (cache) {
    return Promise.all(KEPT_PAGES.map(function (path) {
      return cache.match(path).then(function (kept) {
        return kept || fetch(path, {credentials: "same-origin"}).then(function (response) {
          return keepPage(path, response);
        }, function () {});
      });
    }));
  });
}

function page(event, path) {
  return fetch(event.request).then(function (response) {
    if (KEPT_PAGES.indexOf(path) >= 0) {
      event.waitUntil(keepPage(path, response.clone()).then(function (kept) {
        return kept && path === LOG && keepMissingPages();  // after signing in, the form and the offline page too
      }));
    }
    return response;
  }, function () {
    return caches.match(path, {cacheName: PAGES}).then(function (kept) {
      return (KEPT_PAGES.indexOf(path) >= 0 && kept) || offlinePage();
    });
  });
}

function shellFile(request) {
  return fetch(request).then(function (response) {
    if (response.ok) {
      var copy = response.clone();
      caches.open(SHELL).then(function (cache) { return cache.put(request, copy); });
    }
    return response;
  }, function () {
    return caches.match(request, {cacheName: SHELL}).then(function (kept) { return kept || Response.error(); });
  });
}

function offlinePage() {
  return caches.match("/offline", {cacheName: PAGES}).then(function (kept) { return kept || Response.error(); });
}

// A new entry posted from the form: sent with a key made here, so that if the answer is lost the entry kept for
// later finds the one the server made instead of making a second.
async function postEntry(request) {
  var form = await request.clone().formData();
  form.set("idempotency_key", self.crypto.randomUUID());
  try {
    return await fetch(request.url, {method: "POST", body: form, credentials: "same-origin", redirect: "manual",
                                     referrer: request.referrer});
  } catch (error) {
    await self.practiceQueue.keep(form);
    if (self.registration.sync) { self.registration.sync.register("practice-queue").catch(function () {}); }
    return Response.redirect(LOG + "#offline-queue", 303);
  }
}

// Signing in or out: the kept pages belonged to whoever was signed in before.
async function forgetPages(request) {
  var response;
  try {
    response = await fetch(request);
  } catch (error) {
    return offlinePage();
  }
  await caches.delete(PAGES);
  return response;
}

// Signing out with entries still on the phone: the practice log asks first whether to send or discard them.
async function signOut(request) {
  var form = await request.clone().formData();
  if (!form.has("queue_checked")) {
    var kept = await self.practiceQueue.entriesOf(Number(form.get("user")));
    if (kept.some(function (entry) { return entry.state !== "sent"; })) {
      return Response.redirect(LOG + "?sign-out=1#offline-queue", 303);
    }
  }
  return forgetPages(request);
}

self.addEventListener("fetch", function (event) {
  var request = event.request, url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.method === "POST" && request.mode === "navigate") {
    if (url.pathname === "/practice/new") { event.respondWith(postEntry(request)); }
    if (url.pathname === "/logout") { event.respondWith(signOut(request)); }
    if (url.pathname === "/login") { event.respondWith(forgetPages(request)); }
  } else if (request.method === "GET" && request.mode === "navigate") {
    event.respondWith(page(event, url.pathname));
  } else if (request.method === "GET" && SHELL_FILES.indexOf(url.pathname) >= 0) {
    event.respondWith(shellFile(request));
  }
});

self.addEventListener("sync", function (event) {
  if (event.tag === "practice-queue") {
    event.waitUntil(self.practiceQueue.send().then(function (result) {
      if (result === "offline") { throw new Error("no connection yet"); }  // the browser tries again later
    }));
  }
});
