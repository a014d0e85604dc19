// The practice log and the new-entry form on a phone: installs the service worker (/sw.js), lists the entries kept
// on the phone (waiting, sent, needs attention) with their date and hours, opens one in the form to correct it,
// sends them when the connection returns, asks before signing out with entries kept, and makes photos fit the
// upload limit. Its words come from the page's data- attributes. Without it the form posts as it always has.
(function () {
  "use strict";
  var queue = window.practiceQueue;
  if (!queue || !("serviceWorker" in navigator) || !window.indexedDB) { return; }
  navigator.serviceWorker.register("/sw.js");
  var section = document.getElementById("offline-queue");
  var form = document.getElementById("entry-form");
  var lang = document.documentElement.lang || "ru";
  var BADGES = {waiting: "submitted", sent: "passed", attention: "failed"};

  function value(fields, name) {
    var pair = fields.filter(function (field) { return field[0] === name; })[0];
    return pair ? pair[1] : "";
  }

  function minutes(fields) {
    var start = value(fields, "start_time").split(":"), end = value(fields, "end_time").split(":");
    if (start.length === 2 && end.length === 2) { return (end[0] - start[0]) * 60 + (end[1] - start[1]); }
    return Number(value(fields, "duration")) || 0;
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    node.className = className || "";
    if (text) { node.textContent = text; }
    return node;
  }

  // --- the practice log: what is kept on the phone ---

  function item(entry) {
    var say = section.dataset, day = value(entry.fields, "date");
    var li = element("li", "card entry-item");
    li.appendChild(element("strong", "", day ? new Intl.DateTimeFormat(lang, {dateStyle: "medium"})
      .format(new Date(day + "T12:00")) : "—"));
    var hours = new Intl.NumberFormat(lang, {maximumFractionDigits: 1}).format(minutes(entry.fields) / 60);
    var meta = li.appendChild(element("p", "meta", say.hours.replace("{hours}", hours) + " · "));
    meta.appendChild(element("span", "status status-" + BADGES[entry.state], say[entry.state]));
    var problems = Object.keys(entry.errors).map(function (name) { return entry.errors[name]; });
    if (entry.message) { problems.unshift(entry.message); }
    if (problems.length) { li.appendChild(element("p", "field-error", problems.join(" "))); }
    var actions = li.appendChild(element("p", "actions"));
    if (entry.state === "sent") {
      actions.appendChild(element("a", "", say.open)).href = entry.url;
      return li;
    }
    actions.appendChild(element("a", "button secondary", say.edit)).href =
      say.formUrl + "#queued=" + encodeURIComponent(entry.key);
    var discard = actions.appendChild(element("button", "button secondary", say.delete));
    discard.type = "button";
    discard.addEventListener("click", function () {
      if (window.confirm(say.deleteConfirm)) { queue.remove(entry.key).then(showKept); }
    });
    return li;
  }

  function showKept() {
    return queue.entriesOf(Number(section.dataset.user)).then(function (entries) {
      var list = section.querySelector("ul");
      list.textContent = "";
      entries.forEach(function (entry) { list.appendChild(item(entry)); });
      section.hidden = !entries.length;
      return entries;
    });
  }

  function tell(result) {
    var status = section.querySelector(".queue-status");
    status.textContent = "";
    if (result === "offline") { status.textContent = section.dataset.offline; }
    if (result === "sign-in") {
      status.appendChild(element("a", "", section.dataset.signIn)).href = section.dataset.signInUrl;
    }
  }

  function sendKept() {
    return queue.send().then(function (result) {
      tell(result);
      return showKept();
    });
  }

  // Signing out with entries kept: the service worker sent the trainee here (?sign-out) to choose.
  function askBeforeSigningOut(entries) {
    var box = section.querySelector(".sign-out-box"), signOut = box.querySelector("form");
    var user = Number(section.dataset.user);
    box.hidden = !entries.some(function (entry) { return entry.state !== "sent"; });
    box.querySelector("[data-send]").addEventListener("click", function () {
      sendKept().then(function (left) {
        if (!left.some(function (entry) { return entry.state !== "sent"; })) { signOut.submit(); }
      });
    });
    signOut.addEventListener("submit", function (event) {
      event.preventDefault();
      queue.entriesOf(user).then(function (kept) {
        return Promise.all(kept.map(function (entry) { return queue.remove(entry.key); }));
      }).then(function () { signOut.submit(); });
    });
  }

  if (section) {
    // What was sent before this visit has shown as sent once: the log lists it now.
    queue.entriesOf(Number(section.dataset.user)).then(function (entries) {
      return Promise.all(entries.filter(function (entry) { return entry.state === "sent"; })
        .map(function (entry) { return queue.remove(entry.key); }));
    }).then(showKept).then(function (entries) {
      if (new URLSearchParams(window.location.search).has("sign-out")) { askBeforeSigningOut(entries); }
      return sendKept();
    });
    window.addEventListener("online", sendKept);
  }

  // --- the new-entry form ---

  function fill(fields) {
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!field.name || field.type === "file" || field.type === "hidden" || field.type === "submit") { return; }
      var values = fields.filter(function (pair) { return pair[0] === field.name; })
        .map(function (pair) { return pair[1]; });
      if (field.type === "checkbox") {
        field.checked = values.indexOf(field.value) >= 0;
      } else {
        field.value = values.length ? values[0] : "";
      }
    });
  }

  function showErrors(errors) {
    Object.keys(errors).forEach(function (name) {
      var field = document.getElementById(name) || form.querySelector("[name='" + name + "']") ||
        (name === "audiences" && form.querySelector("[name^='aud-']"));
      var box = field && field.closest(".field, fieldset, details");
      if (!box) { return; }
      box.classList.add("has-error");
      var message = box.appendChild(element("p", "field-error", errors[name]));
      message.id = name + "-error";
    });
  }

  function editKept(entry) {
    var note = document.getElementById("kept-note"), say = form.dataset;
    fill(entry.fields);
    showErrors(entry.errors);
    note.textContent = [say.kept, entry.message].concat(entry.files.length ? [say.keptPhotos.replace(
      "{names}", entry.files.map(function (file) { return file.name; }).join(", "))] : []).join(" ");
    note.hidden = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = new FormData(form);
      data.set("action", event.submitter ? event.submitter.value : "submit");
      var files = queue.filesOf(data);
      Object.assign(entry, {fields: queue.fieldsOf(data), files: files.length ? files : entry.files,
                            state: "waiting", errors: {}, message: ""});
      queue.put(entry).then(function () { window.location.assign(say.logUrl + "#offline-queue"); });
    });
  }

  function tooBig(file) {
    return /^image\/(jpeg|png)$/.test(file.type) && file.size > Number(form.dataset.maxBytes);
  }

  // A phone's photo over the upload limit, drawn smaller until it fits, as a JPEG.
  async function fitted(file) {
    var image = await createImageBitmap(file), scale = Math.min(1, 4096 / Math.max(image.width, image.height));
    var blob;
    do {
      var canvas = element("canvas");
      canvas.width = Math.round(image.width * scale);
      canvas.height = Math.round(image.height * scale);
      canvas.getContext("2d").drawImage(image, 0, 0, canvas.width, canvas.height);
      blob = await new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", 0.85); });
      scale *= 0.75;
    } while (blob.size > Number(form.dataset.maxBytes));
    return new File([blob], file.name.replace(/\.[^.]*$/, "") + ".jpg", {type: "image/jpeg"});
  }

  if (form) {
    var photos = form.elements.files;
    photos.addEventListener("change", async function () {
      var chosen = Array.prototype.slice.call(photos.files);
      if (!window.DataTransfer || !window.createImageBitmap || !chosen.some(tooBig)) { return; }
      var smaller = new DataTransfer();
      for (var i = 0; i < chosen.length; i += 1) {
        smaller.items.add(tooBig(chosen[i]) ? await fitted(chosen[i]) : chosen[i]);
      }
      photos.files = smaller.files;
    });
    var key = window.location.hash.indexOf("#queued=") === 0 && decodeURIComponent(window.location.hash.slice(8));
    if (key) {
      queue.get(key).then(function (entry) {
        if (entry && entry.user === Number(form.elements.owner.value) && entry.state !== "sent") { editKept(entry); }
      });
    }
    window.addEventListener("online", queue.send);
  }
}());
