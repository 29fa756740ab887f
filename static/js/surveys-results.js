// Live survey results for organizers: Socket.IO `/surveys` room, with slow polling as a fallback.
(function () {
  "use strict";
  var POLL_MS = 30000;

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("results-live");
    if (!box) { return; }
    var surveyId = parseInt(box.getAttribute("data-survey-id"), 10);
    var url = box.getAttribute("data-fragment-url");
    var indicator = document.getElementById("live-indicator");
    var pending = false;

    function refresh() {
      if (pending) { return; }
      pending = true;
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) { if (html !== null) { box.innerHTML = html; } })
        .catch(function () { /* offline: the next event or poll tries again */ })
        .then(function () { pending = false; });
    }

    var timer = setInterval(refresh, POLL_MS);
    if (!window.io) { return; }
    var socket = window.io("/surveys", { transports: ["websocket", "polling"] });
    socket.on("connect", function () {
      socket.emit("watch", { survey_id: surveyId }, function (ack) {
        if (ack && ack.ok) {
          if (indicator) { indicator.hidden = false; }
          clearInterval(timer);
          timer = setInterval(refresh, POLL_MS * 4);
          refresh();  // anything missed while disconnected
        }
      });
    });
    socket.on("disconnect", function () { if (indicator) { indicator.hidden = true; } });
    socket.on("response", function () { refresh(); });
  });
})();
