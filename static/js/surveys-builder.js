// Survey builder on one page: every section and question edited in place, saved by itself
// (PUT /api/v1/surveys/<id> with the whole survey, a moment after the last change), questions
// added without a reload, copied, moved with buttons or by dragging. It takes over from the
// server-rendered forms while the survey has no answers; those forms stay for browsers
// without JavaScript and for surveys that already have answers.
(function () {
  "use strict";

  var configNode = document.getElementById("builder-config");
  var root = document.getElementById("builder");
  if (!configNode || !root || !window.fetch) { return; }
  var cfg = JSON.parse(configNode.textContent);
  var T = cfg.strings;
  var SAVE_AFTER_MS = 700;

  var survey = null;     // {title, description, anonymous, sections: [{title, description, questions}]}
  var saveTimer = null;
  var saving = false;
  var dirtyAgain = false;
  var pending = false;   // a change not yet stored (asked about before leaving the page)
  var dragged = null;    // [sectionIndex, questionIndex] of the question being dragged

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }
  var uid = 0;
  function field(labelText, input, hint) {
    var id = "b-" + (++uid);
    var box = el("div", "builder-field");
    var label = el("label", null, labelText);
    label.htmlFor = id;
    input.id = id;
    box.appendChild(label);
    box.appendChild(input);
    if (hint) { box.appendChild(el("p", "hint", hint)); }
    return box;
  }
  function button(text, className, onClick, label) {
    var b = el("button", "button small " + (className || ""), text);
    b.type = "button";
    if (label) { b.setAttribute("aria-label", label); b.title = label; }
    b.addEventListener("click", onClick);
    return b;
  }
  function status(kind, text) {
    var node = document.getElementById("builder-status");
    node.className = "builder-status builder-" + kind;
    node.textContent = text;
  }

  // ---------------------------------------------------------------- the survey as JSON
  function fromApi(data) {
    return {
      title: data.title, description: data.description, anonymous: data.anonymous,
      sections: data.sections.map(function (section) {
        return {
          title: section.title, description: section.description,
          questions: section.questions.map(function (q) {
            return {
              kind: q.kind, text: q.text, help: q.help || "", required: !!q.required,
              options: (q.options || []).map(function (o) { return o.text; }),
              scale_max: q.scale_max || 5, label_min: q.label_min || "", label_max: q.label_max || ""
            };
          })
        };
      })
    };
  }
  function hasOptions(kind) { return kind === "single" || kind === "multiple"; }
  function filledOptions(q) {
    return q.options.map(function (o) { return o.trim(); }).filter(Boolean);
  }
  // What a question still needs before it can be stored (it is left out of the save until then).
  function missing(q) {
    if (!q.text.trim()) { return T.needs_text; }
    if (hasOptions(q.kind) && filledOptions(q).length < 2) { return T.needs_options; }
    return "";
  }
  function toApi() {
    return {
      title: survey.title, description: survey.description, anonymous: survey.anonymous,
      sections: survey.sections.map(function (section) {
        return {
          title: section.title, description: section.description,
          questions: section.questions.filter(function (q) { return !missing(q); }).map(function (q) {
            var item = { kind: q.kind, text: q.text.trim(), help: q.help, required: q.required };
            if (hasOptions(q.kind)) { item.options = filledOptions(q); }
            if (q.kind === "scale") {
              item.scale_max = q.scale_max; item.label_min = q.label_min; item.label_max = q.label_max;
            }
            return item;
          })
        };
      })
    };
  }

  // ---------------------------------------------------------------- saving
  function changed() {
    pending = true;
    status("pending", T.unsaved);
    clearTimeout(saveTimer);
    saveTimer = setTimeout(save, SAVE_AFTER_MS);
  }
  function save() {
    if (saving) { dirtyAgain = true; return; }
    saving = true;
    dirtyAgain = false;
    status("pending", T.saving);
    fetch(cfg.api, {
      method: "PUT",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(toApi())
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) { throw new Error(data.error || T.failed); }
      });
    }).then(function () {
      if (!dirtyAgain) { pending = false; }
      var waiting = countMissing();
      status(waiting ? "pending" : "saved", waiting ? T.saved_but_incomplete : T.saved);
    }).catch(function (error) {
      status("error", T.not_saved + " " + (error && error.message ? error.message : T.failed));
    }).then(function () {
      saving = false;
      if (dirtyAgain) { save(); }
    });
  }
  function countMissing() {
    var n = 0;
    survey.sections.forEach(function (s) { s.questions.forEach(function (q) { if (missing(q)) { n += 1; } }); });
    return n;
  }
  window.addEventListener("beforeunload", function (event) {
    if (pending) { event.preventDefault(); event.returnValue = T.unsaved; }
  });

  // ---------------------------------------------------------------- editing
  function blankQuestion(kind) {
    return { kind: kind || "single", text: "", help: "", required: true, options: ["", ""],
      scale_max: 5, label_min: "", label_max: "" };
  }
  function copyOf(q) { return JSON.parse(JSON.stringify(q)); }
  function move(from, to) {
    // from/to: [section, index]; to may be one past the end of its section
    var q = survey.sections[from[0]].questions.splice(from[1], 1)[0];
    var target = survey.sections[to[0]].questions;
    var at = to[1];
    if (from[0] === to[0] && from[1] < at) { at -= 1; }
    target.splice(Math.max(0, Math.min(at, target.length)), 0, q);
    render(to[0], Math.max(0, Math.min(at, target.length - 1)));
    changed();
  }

  function questionCard(q, s, i, number) {
    var card = el("article", "builder-question");
    card.draggable = true;
    var head = el("div", "question-head");
    head.appendChild(el("span", "drag-handle", "⋮⋮")).setAttribute("aria-hidden", "true");
    var title = el("h3", "question-number", T.question + " " + number);
    head.appendChild(title);
    card.setAttribute("aria-label", T.question + " " + number);

    var kind = el("select");
    cfg.kinds.forEach(function (k) {
      var option = el("option", null, k.label);
      option.value = k.value;
      option.selected = k.value === q.kind;
      kind.appendChild(option);
    });
    kind.addEventListener("change", function () {
      q.kind = kind.value;
      if (hasOptions(q.kind) && q.options.length < 2) { q.options = ["", ""]; }
      render(s, i);
      changed();
    });
    head.appendChild(field(T.kind, kind));
    card.appendChild(head);

    var text = el("input");
    text.value = q.text;
    text.maxLength = 500;
    text.placeholder = T.text_placeholder;
    text.addEventListener("input", function () { q.text = text.value; note(); changed(); });
    card.appendChild(field(T.text, text));

    var help = el("input");
    help.value = q.help;
    help.maxLength = 1000;
    help.addEventListener("input", function () { q.help = help.value; changed(); });
    card.appendChild(field(T.help, help));

    if (hasOptions(q.kind)) {
      var options = el("textarea");
      options.rows = Math.max(q.options.length, 2) + 1;
      options.value = q.options.join("\n");
      options.placeholder = T.options_placeholder;
      options.addEventListener("input", function () { q.options = options.value.split("\n"); note(); changed(); });
      card.appendChild(field(T.options, options));
    }
    if (q.kind === "scale") {
      var scale = el("select");
      [5, 10].forEach(function (n) {
        var option = el("option", null, n === 5 ? T.scale5 : T.scale10);
        option.value = String(n);
        option.selected = q.scale_max === n;
        scale.appendChild(option);
      });
      scale.addEventListener("change", function () { q.scale_max = Number(scale.value); changed(); });
      card.appendChild(field(T.scale, scale));
      var low = el("input");
      low.value = q.label_min; low.maxLength = 80;
      low.addEventListener("input", function () { q.label_min = low.value; changed(); });
      card.appendChild(field(T.label_min, low));
      var high = el("input");
      high.value = q.label_max; high.maxLength = 80;
      high.addEventListener("input", function () { q.label_max = high.value; changed(); });
      card.appendChild(field(T.label_max, high));
    }
    var required = el("input");
    required.type = "checkbox";
    required.checked = q.required;
    required.addEventListener("change", function () { q.required = required.checked; changed(); });
    var check = el("label", "check");
    check.appendChild(required);
    check.appendChild(document.createTextNode(" " + T.required));
    card.appendChild(check);

    var hint = el("p", "builder-missing");
    hint.setAttribute("aria-live", "polite");
    function note() { hint.textContent = missing(q); }
    note();
    card.appendChild(hint);

    var tools = el("div", "form-row builder-tools");
    var questions = survey.sections[s].questions;
    var up = button("↑", "", function () { move([s, i], i > 0 ? [s, i - 1] : [s - 1, survey.sections[s - 1].questions.length]); }, T.up);
    up.disabled = i === 0 && s === 0;
    var down = button("↓", "", function () { move([s, i], i < questions.length - 1 ? [s, i + 2] : [s + 1, 0]); }, T.down);
    down.disabled = i === questions.length - 1 && s === survey.sections.length - 1;
    tools.appendChild(up);
    tools.appendChild(down);
    tools.appendChild(button(T.duplicate, "", function () {
      questions.splice(i + 1, 0, copyOf(q));
      render(s, i + 1);
      changed();
    }));
    tools.appendChild(button(T.delete, "danger", function () {
      if (q.text.trim() && !window.confirm(T.confirm_delete)) { return; }
      questions.splice(i, 1);
      render(s, Math.max(0, i - 1));
      changed();
    }));
    card.appendChild(tools);

    card.addEventListener("dragstart", function (event) {
      if (event.target !== card) { return; }
      dragged = [s, i];
      card.classList.add("dragging");
      if (event.dataTransfer) { event.dataTransfer.effectAllowed = "move"; event.dataTransfer.setData("text/plain", T.question); }
    });
    card.addEventListener("dragend", function () { dragged = null; card.classList.remove("dragging"); });
    card.addEventListener("dragover", function (event) { if (dragged) { event.preventDefault(); card.classList.add("drop-target"); } });
    card.addEventListener("dragleave", function () { card.classList.remove("drop-target"); });
    card.addEventListener("drop", function (event) {
      event.preventDefault();
      card.classList.remove("drop-target");
      if (!dragged) { return; }
      var box = card.getBoundingClientRect();
      var after = event.clientY > box.top + box.height / 2;
      var from = dragged;
      dragged = null;
      move(from, [s, i + (after ? 1 : 0)]);
    });
    return card;
  }

  function sectionBox(section, s, numbering) {
    var box = el("section", "card-section builder-section");
    var title = el("input", "section-title");
    title.value = section.title;
    title.maxLength = 200;
    title.placeholder = T.section_placeholder.replace("{n}", String(s + 1));
    title.addEventListener("input", function () { section.title = title.value; changed(); });
    box.appendChild(field(T.section_title, title));
    var description = el("textarea");
    description.rows = 1;
    description.value = section.description;
    description.addEventListener("input", function () { section.description = description.value; changed(); });
    box.appendChild(field(T.section_description, description));
    if (!section.questions.length) { box.appendChild(el("p", "empty", T.empty_section)); }
    section.questions.forEach(function (q, i) {
      numbering.n += 1;
      box.appendChild(questionCard(q, s, i, numbering.n));
    });
    var tools = el("div", "form-row");
    tools.appendChild(button(T.add_question, "primary", function () {
      var last = section.questions[section.questions.length - 1];
      section.questions.push(blankQuestion(last ? last.kind : "single"));
      render(s, section.questions.length - 1, true);
      changed();
    }));
    if (survey.sections.length > 1) {
      tools.appendChild(button(T.delete_section, "danger", function () {
        if (section.questions.length && !window.confirm(T.confirm_delete_section)) { return; }
        survey.sections.splice(s, 1);
        render();
        changed();
      }));
    }
    box.appendChild(tools);
    return box;
  }

  // focus: [section, question] to put the keyboard back on after a redraw
  function render(focusSection, focusQuestion, newQuestion) {
    var list = document.getElementById("builder-sections");
    list.textContent = "";
    var numbering = { n: 0 };
    survey.sections.forEach(function (section, s) { list.appendChild(sectionBox(section, s, numbering)); });
    if (focusSection !== undefined) {
      var sections = list.querySelectorAll(".builder-section");
      var cards = sections[focusSection] ? sections[focusSection].querySelectorAll(".builder-question") : [];
      var card = cards[focusQuestion];
      if (card) {
        var target = newQuestion ? card.querySelector("input") : card.querySelector("select");
        if (target) { target.focus(); }
        if (card.scrollIntoView) { card.scrollIntoView({ block: "nearest" }); }
      }
    }
  }

  // ---------------------------------------------------------------- start
  fetch(cfg.api, { credentials: "same-origin", headers: { "Accept": "application/json" } })
    .then(function (response) { if (!response.ok) { throw new Error(); } return response.json(); })
    .then(function (data) {
      survey = fromApi(data);
      if (!survey.sections.length) { survey.sections.push({ title: "", description: "", questions: [] }); }
      var classic = document.getElementById("classic-builder");
      if (classic) { classic.hidden = true; }
      root.hidden = false;
      document.getElementById("builder-add-section").addEventListener("click", function () {
        survey.sections.push({ title: "", description: "", questions: [blankQuestion()] });
        render(survey.sections.length - 1, 0, true);
        changed();
      });
      render();
      status("saved", T.saved);
    })
    .catch(function () { /* the server-rendered forms stay */ });
})();
