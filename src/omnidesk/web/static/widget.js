// omnidesk chat widget: <script src="https://HOST/widget.js" data-inbox="INBOX_ID" async></script>
// Optional: data-app-user="<id>.<signature>" for a signed-in app user, data-name, data-lang.
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-inbox]");
  if (!script) return;
  var base = new URL(script.src, location.href);
  var inbox = script.dataset.inbox;
  var lang = script.dataset.lang || (navigator.language || "zh-CN");
  var T = {
    "zh-CN": {title: "在线客服", placeholder: "请输入您的问题…", send: "发送", offline: "连接中断，正在重连…", attach: "附件", open: "联系客服", close: "关闭"},
    "zh-TW": {title: "線上客服", placeholder: "請輸入您的問題…", send: "傳送", offline: "連線中斷，正在重新連線…", attach: "附件", open: "聯絡客服", close: "關閉"},
    "en": {title: "Chat with us", placeholder: "Type your question…", send: "Send", offline: "Connection lost — reconnecting…", attach: "Attach", open: "Chat", close: "Close"}
  };
  var key = /^zh[-_](tw|hk|mo|hant)/i.test(lang) ? "zh-TW" : (/^zh/i.test(lang) ? "zh-CN" : "en");
  var t = T[key];
  var store = window.localStorage;
  var visitor = store.getItem("omnidesk.visitor");
  if (!visitor) { visitor = "v-" + Date.now().toString(36) + Math.random().toString(36).slice(2, 10); store.setItem("omnidesk.visitor", visitor); }
  var seqKey = "omnidesk.seq." + inbox;
  var pendingKey = "omnidesk.pending." + inbox;
  var lastSeq = parseInt(store.getItem(seqKey) || "0", 10);
  var pending = JSON.parse(store.getItem(pendingKey) || "[]");
  var seen = {};
  var socket = null, delay = 500, typingTimer = null;

  var css = document.createElement("style");
  css.textContent = [
    ".odw-btn{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:none;border-radius:28px;padding:14px 20px;background:#2563eb;color:#fff;font:15px system-ui,sans-serif;box-shadow:0 4px 14px rgba(0,0,0,.2);cursor:pointer}",
    ".odw-panel{position:fixed;right:20px;bottom:84px;z-index:2147483000;width:360px;height:520px;max-height:calc(100vh - 110px);display:none;flex-direction:column;background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.25);font:14px system-ui,'PingFang SC','Microsoft YaHei',sans-serif;color:#1d2330;overflow:hidden}",
    ".odw-panel.open{display:flex}.odw-head{background:#2563eb;color:#fff;padding:12px 14px;display:flex;justify-content:space-between;align-items:center}",
    ".odw-head button{background:none;border:none;color:#fff;font-size:18px;cursor:pointer}",
    ".odw-log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f6f7f9}",
    ".odw-msg{max-width:80%;padding:8px 10px;border-radius:10px;white-space:pre-wrap;word-wrap:break-word;background:#fff;border:1px solid #e5e7eb}",
    ".odw-msg.me{align-self:flex-end;background:#dbeafe;border-color:#bfdbfe}.odw-msg.sending{opacity:.6}",
    ".odw-status{font-size:12px;color:#b91c1c;padding:4px 12px;display:none}.odw-status.on{display:block}",
    ".odw-typing{font-size:12px;color:#6b7280;padding:0 12px;height:16px}",
    ".odw-form{display:flex;gap:6px;padding:8px;border-top:1px solid #e5e7eb}.odw-form textarea{flex:1;resize:none;height:40px;font:inherit;padding:6px;border:1px solid #e5e7eb;border-radius:8px}",
    ".odw-form button{border:none;border-radius:8px;background:#2563eb;color:#fff;padding:0 12px;cursor:pointer}",
    ".odw-form label{cursor:pointer;align-self:center;font-size:18px}",
    ".odw-options{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}.odw-option{border:1px solid #2563eb;background:#fff;color:#2563eb;border-radius:14px;padding:4px 10px;cursor:pointer;font:inherit;text-align:left}",
    "@media (max-width:480px){.odw-panel{right:0;bottom:0;width:100vw;height:100vh;max-height:100vh;border-radius:0}}"
  ].join("");
  document.head.appendChild(css);

  var btn = el("button", "odw-btn", t.open);
  btn.type = "button"; btn.setAttribute("aria-expanded", "false");
  var panel = el("div", "odw-panel"); panel.setAttribute("role", "dialog"); panel.setAttribute("aria-label", t.title);
  var head = el("div", "odw-head"); head.appendChild(el("strong", "", t.title));
  var close = el("button", "", "×"); close.type = "button"; close.setAttribute("aria-label", t.close);
  head.appendChild(close);
  var log = el("div", "odw-log"); log.setAttribute("aria-live", "polite");
  var status = el("div", "odw-status", t.offline);
  var typing = el("div", "odw-typing", "");
  var form = el("form", "odw-form");
  var input = document.createElement("textarea"); input.placeholder = t.placeholder; input.setAttribute("aria-label", t.placeholder);
  var file = document.createElement("input"); file.type = "file"; file.hidden = true; file.id = "odw-file";
  var clip = el("label", "", "📎"); clip.htmlFor = "odw-file"; clip.title = t.attach;
  var send = el("button", "", t.send); send.type = "submit";
  form.appendChild(clip); form.appendChild(file); form.appendChild(input); form.appendChild(send);
  panel.appendChild(head); panel.appendChild(status); panel.appendChild(log); panel.appendChild(typing); panel.appendChild(form);
  document.body.appendChild(btn); document.body.appendChild(panel);

  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text) e.textContent = text; return e; }
  function toggle(open) { panel.classList.toggle("open", open); btn.setAttribute("aria-expanded", String(open)); if (open) input.focus(); }
  btn.onclick = function () { toggle(!panel.classList.contains("open")); };
  close.onclick = function () { toggle(false); btn.focus(); };
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") { toggle(false); btn.focus(); } });

  function show(m, mine, clientId) {
    if (m && m.id && seen[m.id]) return;
    if (m && m.id) seen[m.id] = true;
    var existing = clientId && log.querySelector('[data-client="' + clientId + '"]');
    var div = existing || el("div", "odw-msg" + (mine ? " me" : ""));
    var greeting = !mine && m.data && m.data.bot && m.data.bot.kind === "greeting";
    div.textContent = greeting ? m.body.split("\n")[0] : m.body;  // text only, never HTML
    if (m.attachments) m.attachments.forEach(function (a) { var l = el("a", "", " 📎 " + a.filename); div.appendChild(l); });
    if (!mine && m.data && Array.isArray(m.data.options) && m.data.options.length) {
      var bar = el("div", "odw-options");
      m.data.options.forEach(function (o) {
        var b = el("button", "odw-option", String(o)); b.type = "button";
        b.onclick = function () { input.value = String(o); form.requestSubmit(); };
        bar.appendChild(b);
      });
      div.appendChild(bar);
    }
    if (clientId) div.dataset.client = clientId;
    div.classList.toggle("sending", !m.id);
    if (!existing) log.appendChild(div);
    log.scrollTop = log.scrollHeight;
    if (m.seq && m.seq > lastSeq) { lastSeq = m.seq; store.setItem(seqKey, String(lastSeq)); }
  }
  function savePending() { store.setItem(pendingKey, JSON.stringify(pending)); }
  function transmit(p) {
    if (socket && socket.readyState === 1) socket.send(JSON.stringify({type: "message", body: p.body, client_id: p.client_id, attachment_ids: p.attachment_ids || []}));
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var body = input.value.trim();
    if (!body) return;
    var p = {body: body, client_id: "c-" + Date.now().toString(36) + Math.random().toString(36).slice(2, 8)};
    pending.push(p); savePending();
    show({body: body}, true, p.client_id);
    transmit(p);
    input.value = "";
  });
  input.addEventListener("keydown", function (e) { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); } });
  input.addEventListener("input", function () {
    if (typingTimer || !socket || socket.readyState !== 1) return;
    socket.send(JSON.stringify({type: "typing"}));
    typingTimer = setTimeout(function () { typingTimer = null; }, 2000);
  });
  file.addEventListener("change", function () {
    if (!file.files.length) return;
    var data = new FormData(); data.append("file", file.files[0]);
    var url = new URL("/widget/attachments", base);
    url.searchParams.set("inbox_id", inbox); url.searchParams.set("visitor_id", visitor);
    fetch(url, {method: "POST", body: data}).then(function (r) { return r.json(); }).then(function (a) {
      if (!a.id) { show({body: a.detail || "upload failed"}, false); return; }
      var p = {body: "", attachment_ids: [a.id], client_id: "f-" + a.id};
      pending.push(p); savePending();
      show({body: "📎 " + a.filename}, true, p.client_id);
      transmit(p);
    });
    file.value = "";
  });

  function connect() {
    var url = new URL("/ws/chat", base);
    url.protocol = base.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("inbox_id", inbox);
    if (script.dataset.appUser) url.searchParams.set("app_user", script.dataset.appUser);
    else url.searchParams.set("visitor_id", visitor);
    if (script.dataset.name) url.searchParams.set("name", script.dataset.name);
    url.searchParams.set("last_seq", String(lastSeq));
    socket = new WebSocket(url);
    socket.onopen = function () { delay = 500; status.classList.remove("on"); pending.forEach(transmit); };
    socket.onmessage = function (e) {
      var f = JSON.parse(e.data);
      if (f.type === "message") { show(f.message, f.message.sender_type === "contact"); typing.textContent = ""; }
      else if (f.type === "ack") {
        pending = pending.filter(function (p) { return p.client_id !== f.client_id; }); savePending();
        show(f.message, true, f.client_id);
      } else if (f.type === "typing") { typing.textContent = "…"; setTimeout(function () { typing.textContent = ""; }, 3000); }
      else if (f.type === "error") { show({body: f.detail}, false); }
    };
    socket.onclose = function (e) {
      if (e.code >= 4400 && e.code < 4500) { status.textContent = e.reason; status.classList.add("on"); return; }
      status.classList.add("on");
      setTimeout(connect, delay); delay = Math.min(delay * 2, 10000);
    };
  }
  window.omnidesk = {open: function () { toggle(true); }, visitor: visitor};
  connect();
})();
