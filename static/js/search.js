// Методкабинет: page-title suggestions under the header search box (keyboard-friendly combobox).
(function () {
  "use strict";
  var DELAY_MS = 150;
  var script = document.currentScript;

  function addStylesheet() {
    if (!script || document.querySelector("link[data-search-css]")) { return; }
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = script.src.replace(/js\/search\.js(\?.*)?$/, "css/search.css");
    link.setAttribute("data-search-css", "");
    document.head.appendChild(link);
  }

  function init() {
    var input = document.getElementById("header-q");
    var form = input && input.form;
    if (!input || !form || !window.fetch) { return; }
    addStylesheet();

    var list = document.createElement("ul");
    list.id = "header-q-suggestions";
    list.className = "search-suggest";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    form.appendChild(list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");

    var timer = null;
    var active = -1;
    var items = [];
    var lastQuery = "";
    var controller = null;

    function close() {
      list.hidden = true;
      list.textContent = "";
      items = [];
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      items.forEach(function (item, i) {
        item.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      active = index;
      if (index >= 0) {
        input.setAttribute("aria-activedescendant", items[index].id);
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function show(titles) {
      close();
      if (!titles.length) { return; }
      titles.forEach(function (entry, i) {
        var li = document.createElement("li");
        li.id = "header-q-option-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        var link = document.createElement("a");
        link.href = entry.url;
        link.textContent = entry.title;  // text, never HTML
        link.tabIndex = -1;
        li.appendChild(link);
        li.addEventListener("mousedown", function (event) {
          event.preventDefault();  // keep focus; follow the link on click
          window.location.href = entry.url;
        });
        list.appendChild(li);
        items.push(li);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function fetchTitles() {
      var query = input.value.trim();
      if (query === lastQuery) { return; }
      lastQuery = query;
      if (query.length < 2) { close(); return; }
      if (controller) { controller.abort(); }
      controller = window.AbortController ? new AbortController() : null;
      fetch("/api/v1/search/suggest?q=" + encodeURIComponent(query), {
        credentials: "same-origin",
        headers: { "Accept": "application/json" },
        signal: controller ? controller.signal : undefined
      }).then(function (response) {
        return response.ok ? response.json() : { titles: [] };
      }).then(function (data) {
        if (input.value.trim() === query && document.activeElement === input) {
          show(data.titles || []);
        }
      }).catch(function () { /* offline or aborted: no suggestions */ });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(fetchTitles, DELAY_MS);
    });
    input.addEventListener("keydown", function (event) {
      if (list.hidden || !items.length) { return; }
      if (event.key === "ArrowDown") {
        event.preventDefault();
        highlight((active + 1) % items.length);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        highlight(active <= 0 ? items.length - 1 : active - 1);
      } else if (event.key === "Enter" && active >= 0) {
        event.preventDefault();
        window.location.href = items[active].querySelector("a").href;
      } else if (event.key === "Escape") {
        close();
      }
    });
    input.addEventListener("blur", function () { window.setTimeout(close, 100); });
    input.addEventListener("focus", function () { lastQuery = ""; });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
