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
    } else if (frame.type === "call.ringing") {
      screenPop(frame);
    } else if (frame.type === "call.answered" || frame.type === "call.ended") {
      var pop = document.getElementById("screenpop");
      if (pop && frame.call && pop.dataset.call === String(frame.call.id)) {
        if (frame.type === "call.ended") pop.remove(); else pop.dataset.state = "answered";
      }
    } else if (frame.type === "escalation" || frame.type === "reminder") {
      toast(frame.type);
    }
  }

  // The screen pop: who is calling, pushed with the ringing call (before it is answered),
  // built from the frame alone (no request) and from text nodes only.
  function label(name) { return (i18n && i18n.dataset[name]) || name; }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function section(title, items) {
    var box = el("section");
    box.appendChild(el("h3", null, title));
    var ul = el("ul");
    items.forEach(function (t) { ul.appendChild(el("li", null, t)); });
    box.appendChild(ul);
    return box;
  }
  function screenPop(frame) {
    var started = performance.now();
    var call = frame.call || {}, ctx = frame.context || {}, contact = ctx.contact || {};
    var old = document.getElementById("screenpop");
    if (old) old.remove();
    var pop = el("aside", "screenpop");
    pop.id = "screenpop";
    pop.setAttribute("role", "dialog");
    pop.setAttribute("aria-live", "assertive");
    pop.setAttribute("aria-label", label("incomingCall"));
    pop.dataset.call = String(call.id || call.call_id || "");
    pop.dataset.state = "ringing";
    var head = el("header");
    head.appendChild(el("strong", "ring", label("incomingCall")));
    head.appendChild(el("span", "caller", call.caller || call.from || call.caller_number || ""));
    pop.appendChild(head);
    var who = el("p", "who");
    who.appendChild(el("b", "name", contact.name || label("unknownCaller")));
    var tier = ctx.tier || (ctx.vip_level ? "VIP " + ctx.vip_level : "");
    if (tier) who.appendChild(el("span", "badge tier", tier));
    (ctx.organisations || []).slice(0, 1).forEach(function (o) {
      who.appendChild(el("span", "org", o.name + (o.role ? " · " + o.role : "")));
    });
    pop.appendChild(who);
    var failures = (ctx.recent_failures || []).slice(0, 3).map(function (f) {
      return f.summary + (f.reason ? " — " + f.reason : "");
    });
    if (failures.length) pop.appendChild(section(label("failures"), failures)).className = "failures";
    var cases = (ctx.open_cases || []).slice(0, 3).map(function (c) {
      return (c.number ? "#" + c.number + " " : "") + (c.title || c.subject || "") + (c.stage ? " · " + c.stage : "");
    });
    if (cases.length) pop.appendChild(section(label("openCases"), cases));
    var expiring = (ctx.expiring_products || []).slice(0, 3).map(function (p) {
      return p.name + (p.expires_in_days !== undefined ? " · " + p.expires_in_days + "d" : "");
    });
    if (expiring.length) pop.appendChild(section(label("expiring"), expiring));
    var actions = el("footer");
    if (call.conversation_id) {
      var open = el("a", "button primary", label("openConversation"));
      open.href = "/agent/conversations/" + encodeURIComponent(call.conversation_id);
      actions.appendChild(open);
    }
    var close = el("button", "button", label("dismiss"));
    close.type = "button";
    close.addEventListener("click", function () { pop.remove(); });
    actions.appendChild(close);
    pop.appendChild(actions);
    pop.addEventListener("keydown", function (e) { if (e.key === "Escape") pop.remove(); });
    document.body.appendChild(pop);
    pop.dataset.renderMs = (performance.now() - started).toFixed(1);
  }

  function connect() {
    setState(socket ? "lost" : "connecting");
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host +
      "/ws/agent?batch=1";
    if (lastId) url += "&since=" + encodeURIComponent(lastId);
    socket = new WebSocket(url);
    socket.onopen = function () { delay = 500; setState("live"); };
    socket.onmessage = function (e) {
      var f = JSON.parse(e.data);
      if (f.type === "batch") f.frames.forEach(onFrame); else onFrame(f);
    };
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
