// Survey form: progress, answers kept on the device, resilient submit (no inline scripts: CSP).
// The form works without JavaScript too; this adds saving to localStorage and retries with
// one idempotency key per attempt, so an answer sent over a dropping connection is stored once.
(function () {
  "use strict";

  var RETRY_DELAYS = [2000, 5000, 10000, 20000, 30000];

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function newKey() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID().replace(/-/g, ""); }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function storageGet(key) {
    try { return JSON.parse(window.localStorage.getItem(key) || "null"); } catch (e) { return null; }
  }
  function storageSet(key, value) {
    try { window.localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* private mode */ }
  }
  function storageDrop(key) {
    try { window.localStorage.removeItem(key); } catch (e) { /* ignore */ }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("survey-form");
    if (!form) { return; }
    var storageKey = form.getAttribute("data-storage-key");
    var questions = Array.prototype.slice.call(form.querySelectorAll("[data-question]"));
    var progress = document.getElementById("survey-progress");
    var progressText = document.getElementById("survey-progress-text");
    var status = document.getElementById("survey-status");
    var message = document.getElementById("survey-message");
    var submit = document.getElementById("survey-submit");
    var keyInput = form.querySelector('input[name="idempotency_key"]');
    var sending = false;
    var retryTimer = null;
    var attempt = 0;
    var texts = {};
    try { texts = JSON.parse(form.getAttribute("data-i18n") || "{}"); } catch (e) { texts = {}; }
    function t(name, values) {
      var text = texts[name] || name;
      Object.keys(values || {}).forEach(function (key) { text = text.replace("{" + key + "}", values[key]); });
      return text;
    }

    function answerOf(fieldset) {
      var kind = fieldset.getAttribute("data-kind");
      var name = "q" + fieldset.getAttribute("data-question");
      var inputs = form.querySelectorAll('[name="' + name + '"]');
      if (kind === "multiple") {
        return Array.prototype.filter.call(inputs, function (i) { return i.checked; }).map(function (i) { return i.value; });
      }
      if (kind === "single" || kind === "scale") {
        var checked = Array.prototype.filter.call(inputs, function (i) { return i.checked; })[0];
        return checked ? checked.value : "";
      }
      return inputs.length ? inputs[0].value : "";
    }

    function collect() {
      var answers = {};
      questions.forEach(function (fieldset) { answers[fieldset.getAttribute("data-question")] = answerOf(fieldset); });
      return answers;
    }

    function isAnswered(value) {
      return Array.isArray(value) ? value.length > 0 : String(value).trim() !== "";
    }

    function updateProgress() {
      var done = 0;
      questions.forEach(function (fieldset) { if (isAnswered(answerOf(fieldset))) { done += 1; } });
      if (progress) { progress.value = done; }
      if (progressText) { progressText.textContent = t("progress", { done: done, total: questions.length }); }
    }

    function organization() {
      var select = form.querySelector('select[name="organization_id"]');
      return select && select.value ? parseInt(select.value, 10) : null;
    }

    function save() {
      storageSet(storageKey, { answers: collect(), key: keyInput.value, organization: organization(), saved: Date.now() });
    }

    function restore() {
      var saved = storageGet(storageKey);
      if (!saved || !saved.answers) { return; }
      if (saved.key) { keyInput.value = saved.key; }  // the same attempt keeps its key
      var restored = false;
      questions.forEach(function (fieldset) {
        var id = fieldset.getAttribute("data-question");
        var value = saved.answers[id];
        if (value === undefined || !isAnswered(value)) { return; }
        var inputs = form.querySelectorAll('[name="q' + id + '"]');
        Array.prototype.forEach.call(inputs, function (input) {
          if (input.type === "radio" || input.type === "checkbox") {
            var wanted = Array.isArray(value) ? value.indexOf(input.value) >= 0 : input.value === String(value);
            if (wanted && !input.checked) { input.checked = true; restored = true; }
          } else if (!input.value) {
            input.value = value; restored = true;
          }
        });
      });
      var select = form.querySelector('select[name="organization_id"]');
      if (select && saved.organization && !select.value) { select.value = String(saved.organization); }
      if (restored) { showStatus(t("restored"), "info"); }
    }

    function showStatus(text, kind) {
      status.hidden = !text;
      status.textContent = text || "";
      status.className = "survey-status" + (kind ? " status-" + kind : "");
    }

    function showErrors(errors, text) {
      questions.forEach(function (fieldset) {
        var id = fieldset.getAttribute("data-question");
        var box = document.getElementById("err-" + id);
        var problem = errors && errors[id];
        fieldset.classList.toggle("has-error", !!problem);
        if (box) { box.hidden = !problem; box.textContent = problem || ""; }
      });
      message.hidden = !text;
      message.textContent = text || "";
      var first = form.querySelector(".has-error");
      if (first) { first.scrollIntoView({ behavior: "smooth", block: "center" }); }
      else if (text) { message.scrollIntoView({ behavior: "smooth", block: "center" }); }
    }

    function finish(url) {
      storageDrop(storageKey);
      window.location.assign(url || form.getAttribute("data-thanks-url"));
    }

    function scheduleRetry() {
      var delay = RETRY_DELAYS[Math.min(attempt, RETRY_DELAYS.length - 1)];
      attempt += 1;
      showStatus(t("offline", { seconds: Math.round(delay / 1000) }), "warning");
      clearTimeout(retryTimer);
      retryTimer = setTimeout(send, delay);
    }

    function send() {
      if (sending) { return; }
      sending = true;
      submit.disabled = true;
      showStatus(t("sending"), "info");
      var body = { answers: collect(), idempotency_key: keyInput.value, organization_id: organization() };
      var code = form.getAttribute("data-code");
      if (code) { body.code = code; }
      fetch(form.getAttribute("data-api-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), "Accept": "application/json" },
        body: JSON.stringify(body)
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          sending = false;
          submit.disabled = false;
          if (response.ok) { finish(data.thanks_url); return; }
          if (response.status >= 500) { scheduleRetry(); return; }
          showStatus("", "");
          if (response.status === 409) {
            // Already answered (from this account or device), or the wave closed.
            storageDrop(storageKey);
            showErrors(null, data.error || t("refused"));
            return;
          }
          showErrors(data.errors || null, data.error || t("refused"));
        });
      }).catch(function () {
        sending = false;
        submit.disabled = false;
        scheduleRetry();
      });
    }

    restore();
    updateProgress();
    form.addEventListener("input", function () { save(); updateProgress(); });
    form.addEventListener("change", function () { save(); updateProgress(); });
    form.querySelectorAll("[data-counter-for]").forEach(function (counter) {
      var field = document.getElementById(counter.getAttribute("data-counter-for"));
      var limit = parseInt(field.getAttribute("data-limit"), 10);
      var update = function () { counter.textContent = field.value.length + " / " + limit; };
      field.addEventListener("input", update);
      update();
    });
    form.addEventListener("submit", function (event) {
      if (!window.fetch) { return; }  // old browser: the ordinary form post works too
      event.preventDefault();
      save();
      attempt = 0;
      send();
    });
    window.addEventListener("online", function () {
      if (retryTimer) { clearTimeout(retryTimer); retryTimer = null; send(); }
    });
  });
})();
