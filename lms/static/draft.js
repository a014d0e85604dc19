// Written answers: the draft is saved every few seconds while the trainee types (30 by default) and when the
// page is left; leaving with text not yet saved asks first; a word counter shows the expected length.
// Without this script the form works as before ("Save draft", "Preview", "Submit for grading").
(function () {
  "use strict";
  var form = document.getElementById("answer-form");
  if (!form || !window.fetch) { return; }
  var answer = form.querySelector("textarea[name=answer]");
  var status = form.querySelector(".autosave-status");
  var counter = form.querySelector(".word-count");
  var url = form.getAttribute("data-draft-url");
  var seconds = parseInt(form.getAttribute("data-autosave-seconds"), 10) || 30;
  var saved = answer.value;   // what the server holds
  var sending = null;         // text of the request in flight
  var leaving = false;        // the form itself is being sent

  function say(text) {
    status.textContent = text;
    status.hidden = !text;
  }

  function body() {
    var data = new FormData();
    data.append("csrf_token", form.querySelector("input[name=csrf_token]").value);
    data.append("answer", answer.value);
    return data;
  }

  function save() {
    var text = answer.value;
    if (text === saved || text === sending || !text.trim()) { return; }
    sending = text;
    say(form.getAttribute("data-saving"));
    fetch(url, {method: "POST", body: body(), credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        return response.json().then(function (json) { return {ok: response.ok, json: json}; });
      })
      .then(function (result) {
        if (result.ok && result.json.saved) {
          saved = text;
          say(result.json.message);
        } else {
          say(result.json.error || form.getAttribute("data-save-failed"));
        }
      })
      .catch(function () { say(form.getAttribute("data-save-failed")); })
      .then(function () { sending = null; });
  }

  function saveOnLeaving() {
    if (leaving || answer.value === saved || !answer.value.trim()) { return; }
    if (navigator.sendBeacon && navigator.sendBeacon(url, body())) { saved = answer.value; }
  }

  var plural = new Intl.PluralRules(document.documentElement.lang || "ru");
  function countWords() {
    if (!counter) { return; }
    var words = answer.value.trim() ? answer.value.trim().split(/\s+/).length : 0;
    var form_ = plural.select(words);
    var pattern = form.getAttribute("data-words-" + form_) || form.getAttribute("data-words-many");
    var text = pattern.replace("{n}", String(words));
    var range = form.getAttribute("data-words-range");
    counter.textContent = range ? text + " · " + range : text;
    counter.hidden = false;
  }

  answer.addEventListener("input", function () {
    countWords();
    if (answer.value !== saved) { say(form.getAttribute("data-unsaved")); }
  });
  form.addEventListener("submit", function () { leaving = true; });
  window.setInterval(save, seconds * 1000);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { saveOnLeaving(); }
  });
  window.addEventListener("pagehide", saveOnLeaving);
  window.addEventListener("beforeunload", function (event) {
    if (leaving || answer.value === saved || !answer.value.trim()) { return; }
    event.preventDefault();
    event.returnValue = "";
  });
  countWords();
}());
