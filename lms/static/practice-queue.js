// New practice entries kept on the phone while there is no connection (IndexedDB, keyed by the idempotency key the
// phone made, indexed by the trainee who made them), and sending them in order, only as that trainee. Shared by the
// practice pages (practice-offline.js) and the service worker (sw.js): no DOM here.
(function (scope) {
  "use strict";
  var opened = null;
  var NOT_FIELDS = ["files", "csrf_token", "idempotency_key", "owner"];

  function done(request) {
    return new Promise(function (resolve, reject) {
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function store(mode) {
    if (!opened) {
      var request = indexedDB.open("lms-practice-queue", 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore("entries", {keyPath: "key"}).createIndex("user", "user");
      };
      opened = done(request);
    }
    return opened.then(function (db) { return db.transaction("entries", mode).objectStore("entries"); });
  }

  async function entriesOf(user) {
    var entries = await done((await store("readonly")).index("user").getAll(user));
    return entries.sort(function (a, b) { return a.created - b.created; });
  }

  async function get(key) { return done((await store("readonly")).get(key)); }
  async function put(entry) { return done((await store("readwrite")).put(entry)); }
  async function remove(key) { return done((await store("readwrite")).delete(key)); }

  function fieldsOf(form) {
    var fields = [];
    form.forEach(function (value, name) {
      if (NOT_FIELDS.indexOf(name) < 0) { fields.push([name, value]); }
    });
    return fields;
  }

  function filesOf(form) {
    return form.getAll("files").filter(function (file) { return file.size; });
  }

  // The new-entry form as it was posted (FormData, with its owner and key), kept to send later.
  async function keep(form) {
    var entry = {key: form.get("idempotency_key"), user: Number(form.get("owner")), created: Date.now(),
                 fields: fieldsOf(form), files: filesOf(form), state: "waiting", errors: {}, message: ""};
    await put(entry);
    return entry;
  }

  function hidden(html, name) {
    var match = new RegExp('name="' + name + '" value="([^"]*)"').exec(html);
    return match && match[1];
  }

  // One entry; resolves to "answered" (sent, or refused with the server's messages), "offline" or "sign-in".
  async function sendOne(entry, user, token) {
    var body = new FormData();
    entry.fields.forEach(function (pair) { body.append(pair[0], pair[1]); });
    entry.files.forEach(function (file) { body.append("files", file, file.name); });
    body.append("idempotency_key", entry.key);
    body.append("owner", String(user));
    body.append("csrf_token", token);
    var response = await fetch("/practice/queued", {method: "POST", body: body, credentials: "same-origin",
                                                    redirect: "manual", headers: {"Accept": "application/json"}});
    if (response.type === "opaqueredirect") { return "sign-in"; }
    if ((response.headers.get("Content-Type") || "").indexOf("application/json") < 0) { return "offline"; }
    var answer = await response.json();
    if (response.ok) {
      Object.assign(entry, {state: "sent", url: answer.url, files: []});
    } else {
      Object.assign(entry, {state: "attention", errors: answer.errors || {}, message: answer.error || ""});
    }
    await put(entry);
    return "answered";
  }

  // Sends the waiting entries of whoever is signed in now, oldest first. Resolves to "sent" (none left waiting),
  // "offline" (no connection or no answer: try again later) or "sign-in" (the session has ended).
  async function send() {
    var all = await done((await store("readonly")).getAll());
    if (!all.some(function (entry) { return entry.state === "waiting"; })) { return "sent"; }
    try {
      // The form page says who is signed in (its owner field) and gives a token of this session.
      var page = await fetch("/practice/new", {credentials: "same-origin", redirect: "manual"});
      if (!page.ok) { return "sign-in"; }
      var html = await page.text();
      var user = Number(hidden(html, "owner")), token = hidden(html, "csrf_token");
      var waiting = (await entriesOf(user)).filter(function (entry) { return entry.state === "waiting"; });
      for (var i = 0; i < waiting.length; i += 1) {
        var result = await sendOne(waiting[i], user, token);
        if (result !== "answered") { return result; }
      }
      return "sent";
    } catch (error) {
      return "offline";
    }
  }

  scope.practiceQueue = {entriesOf: entriesOf, get: get, put: put, remove: remove, keep: keep, send: send,
                         fieldsOf: fieldsOf, filesOf: filesOf};
}(self));
