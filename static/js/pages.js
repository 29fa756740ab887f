// Методкабинет wiki: presence («Сейчас редактирует»), upload progress. No inline scripts (CSP).
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // ---- presence: a room per page on the /pages Socket.IO namespace
  function startPresence() {
    var box = document.getElementById("presence");
    if (!box || typeof window.io !== "function") { return null; }
    var slug = box.getAttribute("data-slug");
    var editing = box.getAttribute("data-editing") === "1";
    var socket = window.io("/pages", { transports: ["websocket", "polling"] });
    function show(state) {
      var others = (state.editors || []).filter(function (e) { return e.sid !== socket.id; });
      if (!others.length) { box.hidden = true; box.textContent = ""; return; }
      var names = others.map(function (e) {
        return e.organization ? e.name + " (" + e.organization + ")" : e.name;
      });
      box.textContent = "Сейчас редактирует: " + names.join(", ");
      box.hidden = false;
    }
    socket.on("connect", function () {
      socket.emit("join", { slug: slug, editing: editing }, function (state) {
        if (state && !state.error) { show(state); }
      });
    });
    socket.on("presence", function (state) { if (state.slug === slug) { show(state); } });
    window.addEventListener("pagehide", function () { socket.emit("leave", {}); });
    return socket;
  }

  // ---- uploads with a progress bar (the plain form still works without JavaScript)
  function startUploads() {
    var form = document.getElementById("upload-form");
    if (!form || !window.FormData || !window.XMLHttpRequest) { return; }
    var input = form.querySelector('input[type="file"]');
    var bar = form.querySelector(".upload-progress");
    var status = form.querySelector(".upload-status");
    var button = form.querySelector('button[type="submit"]');
    form.addEventListener("submit", function (event) {
      if (!input.files || !input.files.length) { return; }
      event.preventDefault();
      var file = input.files[0];
      if (file.size > parseInt(form.getAttribute("data-max-bytes"), 10)) {
        status.textContent = form.getAttribute("data-too-large");
        status.className = "upload-status error";
        return;
      }
      var data = new FormData();
      data.append("file", file);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.getAttribute("data-api"));
      xhr.setRequestHeader("X-CSRFToken", csrfToken());
      xhr.setRequestHeader("Accept", "application/json");
      bar.hidden = false; bar.value = 0; button.disabled = true;
      status.className = "upload-status"; status.textContent = file.name + ": 0 %";
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          var pct = Math.round((e.loaded / e.total) * 100);
          bar.value = pct;
          status.textContent = file.name + ": " + pct + " %";
        }
      });
      xhr.addEventListener("load", function () {
        button.disabled = false;
        if (xhr.status === 201) {
          bar.value = 100;
          status.textContent = form.getAttribute("data-done");
          window.location.hash = "files";
          window.location.reload();
          return;
        }
        var message = form.getAttribute("data-failed");
        try { message = JSON.parse(xhr.responseText).error || message; } catch (e) { /* keep */ }
        status.textContent = message; status.className = "upload-status error"; bar.hidden = true;
      });
      xhr.addEventListener("error", function () {
        button.disabled = false; bar.hidden = true;
        status.textContent = form.getAttribute("data-failed");
        status.className = "upload-status error";
      });
      xhr.send(data);
    });
  }

  window.kbPages = { csrfToken: csrfToken };
  document.addEventListener("DOMContentLoaded", function () {
    window.kbPages.socket = startPresence();
    startUploads();
  });
})();
