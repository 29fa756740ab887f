// Методкабинет editor: toolbar, server-rendered preview, unsaved-changes warning, conflicts.
(function () {
  "use strict";

  function wrap(area, before, after, placeholder) {
    var start = area.selectionStart, end = area.selectionEnd;
    var selected = area.value.slice(start, end) || placeholder;
    area.setRangeText(before + selected + after, start, end, "end");
    area.selectionStart = start + before.length;
    area.selectionEnd = start + before.length + selected.length;
    area.focus();
    area.dispatchEvent(new Event("input"));
  }

  function prefixLines(area, prefix) {
    var start = area.value.lastIndexOf("\n", area.selectionStart - 1) + 1;
    var end = area.selectionEnd;
    var block = area.value.slice(start, end) || "";
    var n = 0;
    var text = block.split("\n").map(function (line) {
      n += 1;
      return (typeof prefix === "function" ? prefix(n) : prefix) + line;
    }).join("\n");
    area.setRangeText(text, start, end, "end");
    area.focus();
    area.dispatchEvent(new Event("input"));
  }

  var ACTIONS = {
    bold: function (a) { wrap(a, "**", "**", "жирный текст"); },
    italic: function (a) { wrap(a, "*", "*", "курсив"); },
    heading: function (a) { prefixLines(a, "## "); },
    list: function (a) { prefixLines(a, "- "); },
    numbered: function (a) { prefixLines(a, function (n) { return n + ". "; }); },
    link: function (a, button) {
      var url = window.prompt(button.getAttribute("data-prompt"), "https://");
      if (url) { wrap(a, "[", "](" + url + ")", "текст ссылки"); }
    },
    wikilink: function (a, button) {
      var selected = a.value.slice(a.selectionStart, a.selectionEnd);
      var title = selected || window.prompt(button.getAttribute("data-prompt"), "");
      if (title) { a.setRangeText("[[" + title + "]]", a.selectionStart, a.selectionEnd, "end"); a.focus(); a.dispatchEvent(new Event("input")); }
    },
    table: function (a) {
      wrap(a, "\n| Столбец 1 | Столбец 2 |\n|---|---|\n| ", " |  |\n", "ячейка");
    }
  };

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("editor-form");
    if (!form) { return; }
    var area = document.getElementById("body");
    var initial = area.value;
    var dirty = false;
    var conflict = document.querySelector(".conflict");
    if (conflict) { dirty = true; }

    var toolbar = form.querySelector(".toolbar");
    toolbar.hidden = false;
    toolbar.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-md]");
      if (button && ACTIONS[button.getAttribute("data-md")]) {
        ACTIONS[button.getAttribute("data-md")](area, button);
      }
    });

    area.addEventListener("input", function () { dirty = area.value !== initial || !!conflict; });
    window.addEventListener("beforeunload", function (event) {
      if (dirty) { event.preventDefault(); event.returnValue = form.getAttribute("data-unsaved"); }
    });
    form.addEventListener("submit", function () { dirty = false; });

    // Choosing a template over typed text asks first.
    document.querySelectorAll("a.template-link").forEach(function (link) {
      link.addEventListener("click", function (event) {
        if (dirty && !window.confirm(form.getAttribute("data-unsaved"))) { event.preventDefault(); }
        else { dirty = false; }
      });
    });

    // A conflict: one choice per place where the edits overlap (mine / theirs / both);
    // the agreed passages between them are already merged.
    var useChoices = document.getElementById("use-choices");
    if (useChoices) {
      useChoices.addEventListener("click", function () {
        var parts = [];
        document.querySelectorAll("#conflict-choices > .conflict-same, #conflict-choices > .conflict-place")
          .forEach(function (node) {
            if (node.classList.contains("conflict-same")) { parts.push(node.getAttribute("data-text")); return; }
            var checked = node.querySelector("input[type=radio]:checked");
            var choice = checked ? checked.value : "mine";
            var mine = node.getAttribute("data-mine");
            var theirs = node.getAttribute("data-theirs");
            if (choice === "theirs") { parts.push(theirs); }
            else if (choice === "both") {
              parts.push(mine && !/\n$/.test(mine) && theirs ? mine + "\n" : mine);
              parts.push(theirs);
            }
            else { parts.push(mine); }
          });
        area.value = parts.join("");
        area.focus();
        dirty = true;
      });
    }

    // Tabs: write / preview (rendered by the server through the same pipeline as saving).
    var tabWrite = document.getElementById("tab-write");
    var tabPreview = document.getElementById("tab-preview");
    var write = document.getElementById("write-panel");
    var preview = document.getElementById("preview-panel");
    function select(showPreview) {
      tabWrite.setAttribute("aria-selected", showPreview ? "false" : "true");
      tabPreview.setAttribute("aria-selected", showPreview ? "true" : "false");
      write.hidden = showPreview;
      preview.hidden = !showPreview;
    }
    tabWrite.addEventListener("click", function () { select(false); area.focus(); });
    tabPreview.addEventListener("click", function () {
      select(true);
      preview.textContent = "Готовим предпросмотр…";
      fetch(form.getAttribute("data-preview-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          "X-CSRFToken": window.kbPages ? window.kbPages.csrfToken() : "",
          "Accept": "application/json"
        },
        body: JSON.stringify({ body: area.value, slug: form.getAttribute("data-slug") })
      }).then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      }).then(function (result) {
        if (result.ok) { preview.innerHTML = result.data.html; }  // sanitized on the server
        else { preview.textContent = result.data.error || "Не удалось показать предпросмотр."; }
      }).catch(function () { preview.textContent = "Нет связи с сервером."; });
    });
  });
})();
