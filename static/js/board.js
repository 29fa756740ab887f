// Методкабинет: live board client (participants, moderators, presenter wall).
// Protocol: docs/realtime.md. No inline scripts or style attributes (CSP): user text is
// only ever inserted as text nodes; widths and sizes are set through the CSSOM.
(function () {
  "use strict";

  var configNode = document.getElementById("board-config");
  if (!configNode || typeof io === "undefined") { return; }
  var cfg = JSON.parse(configNode.textContent);
  var T = cfg.strings;
  var isWall = cfg.mode === "wall";
  var tokenKey = "kb-board-token:" + cfg.code;
  var nameKey = "kb-board-name";
  var outboxKey = "kb-board-outbox:" + cfg.code;  // posts written while offline

  var state = {
    board: null, posts: new Map(), gone: new Map(), polls: new Map(),
    seq: 0, participant: null, moderator: false, likes: new Set(), votes: {},
    joined: false, joining: false, buffer: [], online: 0,
    preview: false,  // reading before joining: the public state, as the wall sees it
    queued: undefined  // a name submitted while another join was under way
  };
  var sortOrder = "new";
  var $ = function (id) { return document.getElementById(id); };

  function storage(action, key, value) {
    try {
      if (action === "get") { return window.localStorage.getItem(key); }
      window.localStorage.setItem(key, value);
    } catch (e) { /* private mode: identity lasts for this page only */ }
    return null;
  }

  // ------------------------------------------------------------------ DOM helpers
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }
  function button(label, className, onClick) {
    var b = el("button", "button small " + (className || ""), label);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }
  var URL_RE = /\bhttps?:\/\/[^\s<>"'«»]+/gi;
  function linkify(parent, text) {
    // Plain text with safe links: only http(s) URLs become anchors, everything else is text.
    var last = 0;
    text.replace(URL_RE, function (match, offset) {
      var url = match.replace(/[.,;:!?)\]]+$/, "");
      parent.appendChild(document.createTextNode(text.slice(last, offset)));
      var a = el("a", null, url);
      a.href = url;
      a.rel = "noopener noreferrer nofollow ugc";
      a.target = "_blank";
      parent.appendChild(a);
      last = offset + url.length;
      return match;
    });
    parent.appendChild(document.createTextNode(text.slice(last)));
  }
  function showError(message, kind) {
    var box = $("board-error");
    if (!box) { if (message) { window.alert(message); } return; }
    box.className = "flash flash-" + (kind || "error"); // kind "success": a notice, not a fault
    box.textContent = message;
    box.hidden = false;
    clearTimeout(showError.timer);
    showError.timer = setTimeout(function () { box.hidden = true; }, 7000);
  }
  function setStatus(kind, text) {
    var node = $("board-status");
    if (!node) { return; }
    node.className = "conn conn-" + kind;
    node.textContent = text;
  }

  // ------------------------------------------------------------------ state updates
  // Every post and poll carries the seq of its last change: an older copy never overwrites
  // a newer one, so replays, live events and acks can arrive in any order without harm.
  function upsertPost(post) {
    var known = state.posts.get(post.id);
    if (known && known.seq > post.seq) { return; }
    if ((state.gone.get(post.id) || 0) >= post.seq) { return; }
    state.posts.set(post.id, post);
  }
  function removePost(id, seq) {
    var known = state.posts.get(id);
    if (known && known.seq > seq) { return; }
    state.posts.delete(id);
    state.gone.set(id, Math.max(seq, state.gone.get(id) || 0));
  }
  function upsertPoll(poll) {
    var known = state.polls.get(poll.id);
    if (known && known.seq > poll.seq) { return; }
    if (poll.status === "deleted") { state.polls.set(poll.id, poll); return; }
    state.polls.set(poll.id, poll);
  }
  function applyEvent(name, data) {
    if (!state.joined) { state.buffer.push([name, data]); return; }
    if (typeof data.seq === "number" && data.seq > state.seq) { state.seq = data.seq; }
    if (name === "post:created" || name === "post:updated") { upsertPost(data.post); }
    else if (name === "post:deleted") { removePost(data.post_id, data.seq); }
    else if (name === "poll:updated") { upsertPoll(data.poll); }
    else if (name === "board:updated") {
      if (!state.board || state.board.seq <= data.board.seq) { state.board = data.board; }
    } else if (name === "presence") { state.online = data.online; }
    scheduleRender();
  }
  function loadFull(ack) {
    state.posts = new Map(); state.polls = new Map(); state.gone = new Map();
    ack.posts.forEach(upsertPost);
    ack.polls.forEach(upsertPoll);
  }

  // ------------------------------------------------------------------ socket
  var socket = io(cfg.namespace, { transports: ["websocket", "polling"] });
  setStatus("connecting", T.connecting);
  var everJoined = false;

  // full: ask for the whole state instead of the events since our seq (after a resync order);
  // preview: read the board before joining (no participant, nothing counted)
  function join(name, full, preview) {
    if (state.joining) { if (name !== undefined) { state.queued = name; } return; }
    state.joining = true;
    state.joined = false;
    var payload = { code: cfg.code };
    if (isWall || preview) { payload.wall = true; }
    var token = storage("get", tokenKey);
    if (token) { payload.token = token; }
    if (name !== undefined) { payload.name = name; }
    if (everJoined && state.seq > 0 && !full) { payload.since = state.seq; }
    socket.emit("join", payload, function (ack) {
      state.joining = false;
      if (!ack || !ack.ok) {
        showError(ack ? ack.error : T.error);
        if (!isWall) { showJoinForm(true); }
        return;
      }
      if (ack.token) { storage("set", tokenKey, ack.token); }
      state.board = ack.board;
      state.participant = ack.participant;
      state.moderator = ack.moderator;
      state.likes = new Set(ack.my_likes || []);
      state.votes = ack.my_votes || {};
      state.online = ack.online;
      if (ack.events) {
        state.joined = true;
        ack.events.forEach(function (e) { applyEvent(e.name, e.data); });
      } else {
        loadFull(ack);
        state.joined = true;
      }
      if (ack.seq > state.seq) { state.seq = ack.seq; }
      var buffered = state.buffer; state.buffer = [];
      buffered.forEach(function (item) { applyEvent(item[0], item[1]); });
      setStatus("online", everJoined && !state.preview ? T.resynced : T.online);
      everJoined = true;
      state.preview = !!preview;
      showJoinForm(state.preview);
      scheduleRender();
      if (state.queued !== undefined) {
        var queued = state.queued; state.queued = undefined;
        join(queued, true);
      } else if (!state.preview) { sendOutbox(); }
    });
  }

  socket.on("connect", function () {
    setStatus("online", T.online);
    if (isWall || (everJoined && !state.preview) || cfg.signed_in || storage("get", tokenKey)) {
      join();
    } else {
      showJoinForm(true);
      join(undefined, false, true);  // read first; the join form stays above the posts
    }
  });
  socket.on("disconnect", function () {
    // a join whose ack was lost with the connection must not block the rejoin on reconnect
    state.joined = false; state.joining = false;
    setStatus("offline", T.offline);
  });
  socket.io.on("reconnect_attempt", function () { setStatus("offline", T.offline); });
  // The server lost broadcasts while its message queue was away. Events of our own process
  // still arrived meanwhile, so our seq may be past the lost ones: reload the whole state.
  socket.on("board:resync", function () { if (everJoined) { join(undefined, true); } });
  ["post:created", "post:updated", "post:deleted", "poll:updated", "board:updated", "presence"]
    .forEach(function (name) { socket.on(name, function (data) { applyEvent(name, data); }); });

  function send(event, payload, done) {
    socket.timeout(15000).emit(event, payload, function (err, ack) {
      if (err) { showError(T.offline); return; }
      if (!ack.ok) { showError(ack.error); return; }
      if (ack.post) { upsertPost(ack.post); }
      if (ack.poll) { upsertPoll(ack.poll); }
      if (ack.board) { state.board = ack.board; }
      if (typeof ack.liked === "boolean" && ack.post) {
        if (ack.liked) { state.likes.add(ack.post.id); } else { state.likes.delete(ack.post.id); }
      }
      if (done) { done(ack); }
      scheduleRender();
    });
  }

  // ------------------------------------------------------------------ forms
  function showJoinForm(show) {
    var form = $("join-form");
    var postForm = $("post-form");
    if (form) { form.hidden = !show; }
    if (postForm) { postForm.hidden = show || !state.joined || (state.board && state.board.locked); }
    if (show && form) {
      var input = $("join-name");
      if (input && !input.value) { input.value = storage("get", nameKey) || ""; }
    }
  }
  var joinForm = $("join-form");
  if (joinForm) {
    joinForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var name = $("join-name").value.trim();
      storage("set", nameKey, name);
      join(name, true);  // the whole state: own pending posts, likes and votes
    });
  }
  var postForm = $("post-form");
  if (postForm) {
    var textArea = $("post-text");
    var counter = $("post-counter");
    var updateCounter = function () {
      counter.textContent = T.chars_left + ": " + (cfg.text_max - textArea.value.length);
    };
    textArea.addEventListener("input", updateCounter);
    updateCounter();
    postForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = textArea.value.trim();
      if (!text) { return; }
      var column = $("post-column").value;
      var item = { text: text, column: column ? Number(column) : null };
      if (!socket.connected || !state.joined) {
        // No connection: keep the post on this device and send it when the board is back.
        outbox("add", item);
        textArea.value = "";
        updateCounter();
        showError(T.saved_offline, "success");
        return;
      }
      send("post:create", item, function (ack) {
        textArea.value = "";
        updateCounter();
        if (ack.post.status === "pending") { showError(T.posted_pending, "success"); }
      });
    });
  }

  function outbox(action, item) {
    var list = [];
    try { list = JSON.parse(storage("get", outboxKey) || "[]"); } catch (e) { list = []; }
    if (!Array.isArray(list)) { list = []; }
    if (action === "add") { list.push(item); }
    if (action === "shift") { list.shift(); }
    if (action !== "read") { storage("set", outboxKey, JSON.stringify(list)); }
    return list;
  }
  // Posts kept while offline go out one by one, oldest first, once the board is joined
  // again; one the board refuses (locked, too long) goes back into the post box.
  function sendOutbox() {
    var waiting = outbox("read");
    if (!waiting.length || !socket.connected || !state.joined || state.preview) { return; }
    socket.timeout(15000).emit("post:create", waiting[0], function (err, ack) {
      if (err) { return; }  // offline again: the next join retries
      outbox("shift");
      if (!ack.ok) {
        // refused: this one goes back into the post box (nothing typed there is lost), the
        // rest wait on the device for the next join
        var area = $("post-text");
        if (area) { area.value = waiting[0].text + (area.value ? "\n" + area.value : ""); }
        showError(ack.error);
        return;
      }
      upsertPost(ack.post);
      scheduleRender();
      if (!outbox("read").length) { showError(T.sent_from_device, "success"); }
      sendOutbox();
    });
  }
  var sortSelect = $("board-sort");
  if (sortSelect) {
    sortSelect.addEventListener("change", function () { sortOrder = sortSelect.value; scheduleRender(); });
  }
  var fullscreen = $("wall-fullscreen");
  if (fullscreen) {
    fullscreen.addEventListener("click", function () {
      if (document.documentElement.requestFullscreen) { document.documentElement.requestFullscreen(); }
    });
  }
  var lockButton = $("mod-lock");
  if (lockButton) {
    lockButton.addEventListener("click", function () {
      send("board:lock", { locked: !(state.board && state.board.locked) });
    });
  }
  var pollForm = $("poll-form");
  if (pollForm) {
    pollForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var kind = $("poll-kind").value;
      var options = $("poll-options").value.split("\n").map(function (s) { return s.trim(); })
        .filter(Boolean);
      send("poll:create", {
        question: $("poll-question").value, kind: kind, options: options,
        results: $("poll-results").value, open: $("poll-open").checked
      }, function () { pollForm.reset(); });
    });
  }

  // ------------------------------------------------------------------ the wall scrolls
  // Every few seconds each column that holds more than the screen moves on by most of its
  // height, and starts over at the top after the last post: older posts are seen too.
  var WALL_STEP_MS = 7000;
  function wallScroll() {
    var smooth = !(window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches);
    document.querySelectorAll(".wall-scroll").forEach(function (box) {
      var room = box.scrollHeight - box.clientHeight;
      if (room <= 4) { return; }
      var next = box.scrollTop >= room - 4 ? 0 : Math.min(room, box.scrollTop + box.clientHeight * 0.85);
      if (box.scrollTo) { box.scrollTo({ top: next, behavior: smooth ? "smooth" : "auto" }); }
      else { box.scrollTop = next; }
    });
  }
  if (isWall) { setInterval(wallScroll, WALL_STEP_MS); }

  // ------------------------------------------------------------------ rendering
  var renderPending = false;
  function scheduleRender() {
    if (renderPending) { return; }
    renderPending = true;
    window.requestAnimationFrame(function () { renderPending = false; render(); });
  }

  function sortPosts(list) {
    return list.sort(function (a, b) {
      if (a.pinned !== b.pinned) { return a.pinned ? -1 : 1; }
      if (sortOrder === "likes" && a.likes !== b.likes) { return b.likes - a.likes; }
      return b.id - a.id;
    });
  }

  function renderPost(post) {
    var mine = state.participant && post.author_key === state.participant.key;
    var locked = state.board.locked;
    var card = el("article", "post post-" + post.status + (post.pinned ? " post-pinned" : ""));
    card.setAttribute("data-id", post.id);
    var head = el("header", "post-head");
    head.appendChild(el("span", "post-author", post.author || T.anonymous));
    if (mine) { head.appendChild(el("span", "tag tag-mine", T.mine)); }
    if (post.pinned) { head.appendChild(el("span", "tag tag-pinned", T.pinned)); }
    if (post.status === "pending") { head.appendChild(el("span", "tag tag-pending", T.pending)); }
    if (post.status === "hidden") { head.appendChild(el("span", "tag tag-hidden", T.hidden)); }
    card.appendChild(head);
    var body = el("p", "post-text");
    linkify(body, post.text);
    if (post.edited) { body.appendChild(el("span", "post-edited", " (" + T.edited + ")")); }
    card.appendChild(body);

    var actions = el("div", "post-actions");
    if (state.board.likes) {
      var liked = state.likes.has(post.id);
      // icon + text label + count; the accessible name is the visible text (no aria-label)
      var likeButton = el("button", "like" + (liked ? " liked" : ""));
      likeButton.appendChild(el("span", "like-icon", "♥")).setAttribute("aria-hidden", "true");
      likeButton.appendChild(el("span", "like-label", T.like));
      likeButton.appendChild(document.createTextNode(" "));
      likeButton.appendChild(el("span", "like-count", String(post.likes)));
      likeButton.type = "button";
      likeButton.setAttribute("aria-pressed", liked ? "true" : "false");
      if (liked) { likeButton.title = T.unlike; }
      likeButton.disabled = isWall || locked || post.status !== "visible" || !state.participant;
      likeButton.addEventListener("click", function () {
        send("post:like", { post_id: post.id, like: !state.likes.has(post.id) });
      });
      actions.appendChild(likeButton);
    }
    if (!isWall && (mine || state.moderator) && (!locked || state.moderator)) {
      actions.appendChild(button(T.edit, "", function () { editPost(card, post); }));
      actions.appendChild(button(T.delete, "danger", function () {
        if (window.confirm(T.confirm_delete)) { send("post:delete", { post_id: post.id }); }
      }));
    }
    card.appendChild(actions);
    if (!isWall && state.moderator) { card.appendChild(moderatorTools(post)); }
    if (state.board.comments && (post.comments.length || !isWall)) {
      card.appendChild(renderComments(post, locked));
    }
    return card;
  }

  // The host's tools: «Одобрить» at hand on a pending post, the rest folded in a menu (the
  // menu stays open across redraws, like the comments).
  function moderatorTools(post) {
    var tools = el("div", "mod-tools");
    var act = function (action, extra) {
      var payload = { post_id: post.id, action: action };
      if (extra) { payload.column = extra; }
      send("post:moderate", payload);
    };
    if (post.status === "pending") { tools.appendChild(button(T.approve, "primary", function () { act("approve"); })); }
    var menu = el("details", "mod-menu");
    menu.appendChild(el("summary", null, T.host_menu));
    if (openMenus.has(post.id)) { menu.open = true; }
    menu.addEventListener("toggle", function () {
      if (menu.open) { openMenus.add(post.id); } else { openMenus.delete(post.id); }
    });
    var box = el("div", "mod-menu-items");
    menu.appendChild(box);
    tools.appendChild(menu);
    if (post.status !== "hidden") { box.appendChild(button(T.hide, "", function () { act("hide"); })); }
    else { box.appendChild(button(T.show, "", function () { act("show"); })); }
    if (post.status === "visible") {
      box.appendChild(button(post.pinned ? T.unpin : T.pin, "", function () { act(post.pinned ? "unpin" : "pin"); }));
    }
    if (state.board.columns.length > 1) {
      var select = el("select", "mod-move");
      select.setAttribute("aria-label", T.move);
      var first = el("option", null, T.move + "…");
      first.value = "";
      select.appendChild(first);
      state.board.columns.forEach(function (column) {
        if (column.id === post.column) { return; }
        var option = el("option", null, column.title);
        option.value = column.id;
        select.appendChild(option);
      });
      select.addEventListener("change", function () { if (select.value) { act("move", Number(select.value)); } });
      box.appendChild(select);
    }
    if (post.author_key) {
      box.appendChild(button(T.remove_author, "danger", function () {
        if (window.confirm(T.confirm_remove_author)) {
          send("participant:remove-posts", { participant: post.author_key });
        }
      }));
    }
    return tools;
  }

  function editPost(card, post) {
    var form = el("form", "edit-form");
    var area = el("textarea");
    area.value = post.text;
    area.maxLength = cfg.text_max;
    area.rows = 3;
    form.appendChild(area);
    var save = el("button", "button small primary", T.save);
    save.type = "submit";
    form.appendChild(save);
    form.appendChild(button(T.cancel, "", function () { scheduleRender(); }));
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      send("post:edit", { post_id: post.id, text: area.value });
    });
    card.replaceChild(form, card.querySelector(".post-text"));
    area.focus();
  }

  function renderComments(post, locked) {
    var box = el("details", "comments");
    if (openComments.has(post.id) || isWall) { box.open = true; }
    box.addEventListener("toggle", function () {
      if (box.open) { openComments.add(post.id); } else { openComments.delete(post.id); }
    });
    box.appendChild(el("summary", null, T.comments + " (" + post.comments.length + ")"));
    var list = el("ul", "comment-list");
    post.comments.forEach(function (comment) {
      var item = el("li");
      item.appendChild(el("strong", null, (comment.author || T.anonymous) + ": "));
      linkify(item, comment.text);
      var own = state.participant && comment.author_key === state.participant.key;
      if (!isWall && (own || state.moderator)) {
        item.appendChild(button("×", "link-del", function () {
          send("comment:delete", { comment_id: comment.id });
        }));
      }
      list.appendChild(item);
    });
    box.appendChild(list);
    if (!isWall && !locked && state.participant && post.status === "visible") {
      var form = el("form", "comment-form");
      var input = el("input");
      input.maxLength = cfg.comment_max;
      input.placeholder = T.comment;
      input.setAttribute("aria-label", T.comment);
      form.appendChild(input);
      var submit = el("button", "button small", T.send);
      submit.type = "submit";
      form.appendChild(submit);
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        if (!input.value.trim()) { return; }
        send("post:comment", { post_id: post.id, text: input.value }, function () { input.value = ""; });
      });
      box.appendChild(form);
    }
    return box;
  }
  var openComments = new Set();
  var openMenus = new Set();

  function renderPoll(poll) {
    var box = el("section", "poll poll-" + poll.status);
    box.appendChild(el("h2", "poll-question", poll.question));
    var meta = T.voters + ": " + poll.voters;
    if (poll.status === "closed") { meta += " · " + T.poll_closed; }
    if (poll.status === "draft") { meta += " · " + T.poll_draft; }
    box.appendChild(el("p", "meta", meta));
    var myVote = state.votes[String(poll.id)];
    var canVote = !isWall && poll.status === "open" && !myVote && state.participant &&
      !state.board.locked;
    if (canVote) { box.appendChild(voteForm(poll)); }
    else if (myVote) { box.appendChild(el("p", "poll-voted", T.voted)); }
    // When the results show (docs/realtime.md): moderators always; «revealed» once the host
    // shows them (not sent before); «after_vote» once answered, on the wall, or when closed.
    var moderatorView = state.moderator && !isWall;
    var shown = moderatorView || poll.results === "always" ||
      (poll.results === "revealed" ? poll.revealed :
        (isWall || !!myVote || poll.status === "closed"));
    if (!shown) {
      box.appendChild(el("p", "poll-hidden", poll.results === "revealed" ? T.results_later : T.results_after_vote));
    } else if (poll.kind === "words") { box.appendChild(wordCloud(poll)); }
    else { box.appendChild(bars(poll, myVote)); }
    if (moderatorView) {
      box.appendChild(el("p", "meta", T.results_label + ": " + T["results_" + poll.results + "_label"] +
        (poll.results === "revealed" && poll.revealed ? " · " + T.results_shown : "")));
      var tools = el("div", "mod-tools");
      if (poll.status !== "open") { tools.appendChild(button(T.poll_open, "primary", function () { send("poll:open", { poll_id: poll.id }); })); }
      if (poll.status === "open") { tools.appendChild(button(T.poll_close, "", function () { send("poll:close", { poll_id: poll.id }); })); }
      if (poll.results === "revealed") {
        tools.appendChild(button(poll.revealed ? T.results_conceal : T.results_reveal, poll.revealed ? "" : "primary",
          function () { send("poll:reveal", { poll_id: poll.id, revealed: !poll.revealed }); }));
      }
      tools.appendChild(button(T.poll_delete, "danger", function () { send("poll:delete", { poll_id: poll.id }); }));
      box.appendChild(tools);
    }
    return box;
  }

  function voteForm(poll) {
    var form = el("form", "vote-form");
    if (poll.kind === "words") {
      var input = el("input");
      input.placeholder = T.words_placeholder;
      input.setAttribute("aria-label", T.words_placeholder);
      input.maxLength = 130;
      form.appendChild(input);
    } else {
      poll.options.forEach(function (option) {
        var label = el("label", "check");
        var choice = el("input");
        choice.type = poll.kind === "single" ? "radio" : "checkbox";
        choice.name = "poll-" + poll.id;
        choice.value = option.id;
        label.appendChild(choice);
        label.appendChild(document.createTextNode(" " + option.text));
        form.appendChild(label);
      });
    }
    var submit = el("button", "button small primary", T.vote);
    submit.type = "submit";
    form.appendChild(submit);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var payload = { poll_id: poll.id };
      if (poll.kind === "words") {
        payload.words = form.querySelector("input").value.split(/[,;]/)
          .map(function (s) { return s.trim(); }).filter(Boolean);
      } else {
        payload.choices = Array.prototype.map.call(form.querySelectorAll("input:checked"),
          function (i) { return Number(i.value); });
      }
      send("poll:vote", payload, function (ack) {
        state.votes[String(poll.id)] = payload.choices || payload.words;
        form.reset(); // answered: the form no longer holds back the re-render
        upsertPoll(ack.poll);
      });
    });
    return form;
  }

  function bars(poll, myVote) {
    var list = el("ul", "poll-bars");
    var max = 0;
    poll.options.forEach(function (o) { max = Math.max(max, o.votes); });
    poll.options.forEach(function (option) {
      var item = el("li", "poll-bar");
      var share = poll.voters ? Math.round(100 * option.votes / poll.voters) : 0;
      var label = el("span", "poll-label", option.text);
      if (Array.isArray(myVote) && myVote.indexOf(option.id) >= 0) { item.classList.add("mine"); }
      item.appendChild(label);
      var track = el("span", "poll-track");
      var fill = el("span", "poll-fill");
      fill.style.width = (max ? (100 * option.votes / max) : 0) + "%";
      track.appendChild(fill);
      item.appendChild(track);
      item.appendChild(el("span", "poll-count", option.votes + " · " + share + "%"));
      list.appendChild(item);
    });
    return list;
  }

  function wordCloud(poll) {
    var cloud = el("p", "word-cloud");
    var top = poll.options.slice(0, 60);
    var max = top.length ? top[0].votes : 1;
    top.slice().sort(function (a, b) { return a.text.localeCompare(b.text); }).forEach(function (word) {
      var span = el("span", "word", word.text);
      span.style.fontSize = (0.9 + 2.4 * (word.votes / max)).toFixed(2) + "em";
      span.title = String(word.votes);
      cloud.appendChild(span);
      cloud.appendChild(document.createTextNode(" "));
    });
    return cloud;
  }

  function holdsInput(form) {
    if (!form) { return false; }
    if (form.classList.contains("edit-form")) { return true; }
    return Array.prototype.some.call(form.querySelectorAll("input, textarea"), function (i) {
      return (i.type === "radio" || i.type === "checkbox") ? i.checked : i.value.trim() !== "";
    });
  }

  function render() {
    if (!state.board) { return; }
    var board = state.board;
    var online = $("board-online");
    if (online) { online.textContent = String(state.online || 0); }
    var lockedNote = $("board-locked");
    if (lockedNote) { lockedNote.hidden = !board.locked; }
    if (lockButton) { lockButton.textContent = board.locked ? T.unlock : T.lock; }
    var description = $("board-description");
    if (description) { description.textContent = board.description; }
    var pf = $("post-form");
    if (pf) { pf.hidden = !state.joined || board.locked || !state.participant; }
    var columnSelect = $("post-column");
    if (columnSelect && columnSelect.options.length !== board.columns.length) {
      columnSelect.textContent = "";
      board.columns.forEach(function (column) {
        var option = el("option", null, column.title);
        option.value = column.id;
        columnSelect.appendChild(option);
      });
      columnSelect.hidden = board.columns.length < 2;
    }
    var editing = document.activeElement && document.activeElement.closest &&
      document.activeElement.closest(".edit-form, .comment-form, .vote-form");
    // do not wipe what is being typed or chosen (an empty, focused box does not hold updates)
    if (holdsInput(editing)) { setTimeout(scheduleRender, 1500); return; }

    var container = $("columns");
    var groups = {};
    board.columns.forEach(function (c) { groups[c.id] = []; });
    state.posts.forEach(function (post) {
      if (isWall && post.status !== "visible") { return; }
      (groups[post.column] || groups[board.columns[0].id]).push(post);
    });
    var fragment = document.createDocumentFragment();
    // The wall: pinned posts stay at the top of their column, the others scroll through by
    // themselves (wallScroll); a redraw keeps each column where it was.
    var scrolled = {};
    if (isWall) {
      container.querySelectorAll(".wall-scroll").forEach(function (box) {
        scrolled[box.getAttribute("data-column")] = box.scrollTop;
      });
    }
    board.columns.forEach(function (column) {
      var section = el("section", "board-column");
      section.appendChild(el("h2", "column-title", column.title + " (" + groups[column.id].length + ")"));
      var posts = sortPosts(groups[column.id]);
      if (!posts.length) { section.appendChild(el("p", "empty", T.empty_column)); }
      if (isWall) {
        var pinned = el("div", "wall-pinned");
        var list = el("div", "wall-scroll");
        list.setAttribute("data-column", column.id);
        posts.forEach(function (post) { (post.pinned ? pinned : list).appendChild(renderPost(post)); });
        if (pinned.childNodes.length) { section.appendChild(pinned); }
        section.appendChild(list);
      } else {
        posts.forEach(function (post) { section.appendChild(renderPost(post)); });
      }
      fragment.appendChild(section);
    });
    container.textContent = "";
    container.appendChild(fragment);
    container.classList.toggle("single-column", board.columns.length === 1);
    if (isWall) {
      container.querySelectorAll(".wall-scroll").forEach(function (box) {
        box.scrollTop = scrolled[box.getAttribute("data-column")] || 0;
      });
    }

    var pollsBox = $("polls");
    var polls = [];
    state.polls.forEach(function (poll) { if (poll.status !== "deleted") { polls.push(poll); } });
    polls.sort(function (a, b) { return b.id - a.id; });
    if (isWall) {
      var open = polls.filter(function (p) { return p.status === "open"; });
      polls = open.length ? open : polls.slice(0, 1);
    }
    pollsBox.textContent = "";
    polls.forEach(function (poll) { pollsBox.appendChild(renderPoll(poll)); });
  }
})();
