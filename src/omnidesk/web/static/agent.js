// The agent console's live side: one websocket, new messages and assignments without a
// reload, a visible connection state, reconnect with resume, and drafts that survive.
(function () {
  "use strict";
  var i18n = document.getElementById("i18n");
  var live = document.getElementById("live");
  var conv = document.querySelector(".conversation");
  var list = document.getElementById("list");
  var lastId = null, socket = null, delay = 500;

  function setState(state) {
    if (!live) return;
    live.dataset.state = state;
    live.textContent = i18n ? i18n.dataset[state === "live" ? "connected" : state] : state;
  }

  function bubble(m) {
    var thread = document.getElementById("thread");
    if (!thread || thread.querySelector('[data-id="' + m.id + '"]')) return;
    var el = document.createElement("article");
    el.className = "msg from-" + m.sender_type + (m.is_note ? " note" : "");
    el.dataset.id = m.id; el.dataset.seq = m.seq;
    var head = document.createElement("header");
    var who = document.createElement("b");
    who.textContent = m.author_name || m.sender_type;
    var when = document.createElement("time");
    when.dateTime = m.created_at;
    when.textContent = new Date(m.created_at).toLocaleString();
    head.appendChild(who); head.appendChild(when);
    var body = document.createElement("div");
    body.className = "body";
    body.textContent = m.body;  // text, never HTML
    el.appendChild(head); el.appendChild(body);
    thread.appendChild(el);
    thread.scrollTop = thread.scrollHeight;
  }

  function refreshList() {
    if (!list || !window.htmx) return;
    var form = document.getElementById("filters");
    var qs = form ? new URLSearchParams(new FormData(form)).toString() : "";
    window.htmx.ajax("GET", list.dataset.refresh + "?" + qs, {target: "#list", swap: "innerHTML"});
  }

  function toast(text) {
    var t = document.createElement("div");
    t.className = "toast"; t.setAttribute("role", "alert"); t.textContent = text;
    document.body.appendChild(t);
    setTimeout(function () { t.remove(); }, 8000);
  }

  function onFrame(frame) {
    if (frame.type === "message") {
      lastId = frame.message.id;
      if (conv && frame.message.conversation_id === conv.dataset.conversation) bubble(frame.message);
      else if (list) refreshList();
    } else if (frame.type === "conversation.assigned") {
      var ctx = frame.context && frame.context.contact;
      toast((ctx && ctx.name ? ctx.name + " · " : "") + frame.conversation.channel);
      if (list) refreshList();
    } else if (frame.type === "conversation.updated") {
      if (list) refreshList();
    } else if (frame.type === "call.ringing" || frame.type === "escalation" || frame.type === "reminder") {
      toast(frame.type);
    }
  }

  function connect() {
    setState(socket ? "lost" : "connecting");
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/agent";
    if (lastId) url += "?since=" + encodeURIComponent(lastId);
    socket = new WebSocket(url);
    socket.onopen = function () { delay = 500; setState("live"); };
    socket.onmessage = function (e) { onFrame(JSON.parse(e.data)); };
    socket.onclose = function () {
      setState("lost");
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 10000);
    };
  }

  // Drafts: kept in the browser per conversation; a lost connection never loses them.
  var box = document.querySelector("textarea[data-draft-key]");
  if (box) {
    var key = box.dataset.draftKey;
    var saved = localStorage.getItem(key);
    if (saved && !box.value) box.value = saved;
    box.addEventListener("input", function () { localStorage.setItem(key, box.value); });
    box.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); box.form.requestSubmit(); }
    });
    box.form.addEventListener("htmx:configRequest", function (e) {
      e.detail.parameters.client_id = e.detail.parameters.client_id || (Date.now() + "-" + Math.random().toString(36).slice(2));
    });
    box.form.addEventListener("htmx:afterRequest", function (e) {
      if (e.detail.successful) { box.value = ""; localStorage.removeItem(key); box.form.reset(); }
    });
    var thread = document.getElementById("thread");
    if (thread) thread.scrollTop = thread.scrollHeight;
  }
  var lastMsg = document.querySelector("#thread .msg:last-child");
  if (lastMsg) lastId = lastMsg.dataset.id;
  connect();
})();
document.body.addEventListener("htmx:responseError", function (e) {
  var t = document.createElement("div");
  t.className = "toast"; t.setAttribute("role", "alert");
  var tmp = document.createElement("div");
  tmp.innerHTML = e.detail.xhr.responseText;  // our own escaped error partial
  t.textContent = tmp.textContent.trim() || ("HTTP " + e.detail.xhr.status);
  document.body.appendChild(t);
  setTimeout(function () { t.remove(); }, 8000);
});
