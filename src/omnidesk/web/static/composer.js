// The composer's extras: canned responses (pick one, or type /shortcut and press Tab; the
// server fills the variables and returns escaped text) and attachments (uploaded first to
// /api/v1/attachments, then sent with the reply as attachment_ids).
(function () {
  "use strict";
  var box = document.getElementById("reply-body");
  if (!box) return;
  var form = box.form;
  var picker = document.getElementById("canned-select");
  var filled = document.getElementById("canned-text");
  var files = document.getElementById("reply-files");
  var list = document.getElementById("reply-attachments");
  var send = document.getElementById("send");
  var t = document.getElementById("composer-i18n");
  var L = t ? t.dataset : {};
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.content : "";
  var pending = null;  // [start, end] of a typed "/shortcut" to replace

  function insert(text) {
    var start = box.selectionStart, end = box.selectionEnd;
    if (pending) { start = pending[0]; end = pending[1]; pending = null; }
    box.setRangeText(text, start, end, "end");  // plain text: never parsed as HTML
    box.dispatchEvent(new Event("input", {bubbles: true}));  // keeps the draft
    box.focus();
  }

  function toast(text) {
    var el = document.createElement("div");
    el.className = "toast"; el.setAttribute("role", "alert"); el.textContent = text;
    document.body.appendChild(el);
    setTimeout(function () { el.remove(); }, 8000);
  }

  // The picker sits outside the reply form, so its requests never look like a sent reply.
  document.body.addEventListener("htmx:afterSwap", function (e) {
    if (!filled || e.detail.target !== filled) return;
    insert(filled.textContent);  // the escaped response, decoded as text: never markup
    filled.textContent = "";
    if (picker) picker.value = "";
  });

  if (picker) {
    picker.addEventListener("htmx:beforeRequest", function (e) {
      if (e.detail.elt === picker && !picker.value) e.preventDefault();  // the "Insert…" line
    });
  }

  function shortcuts() {
    var out = {};
    if (!picker) return out;
    Array.prototype.forEach.call(picker.options, function (o) {
      if (o.dataset.shortcut) out[o.dataset.shortcut] = true;
    });
    return out;
  }

  box.addEventListener("keydown", function (e) {
    if (e.key !== "Tab" || e.shiftKey || !picker || !window.htmx) return;
    var upto = box.value.slice(0, box.selectionStart);
    var m = /(^|\s)\/([\w-]{1,64})$/.exec(upto);
    if (!m || !shortcuts()[m[2]]) return;
    e.preventDefault();
    pending = [box.selectionStart - m[2].length - 1, box.selectionStart];
    var url = picker.getAttribute("hx-get") + "?shortcut=" + encodeURIComponent(m[2]);
    window.htmx.ajax("GET", url, {target: "#canned-text", swap: "innerHTML"});
  });

  function chip(att) {
    var li = document.createElement("li");
    var name = document.createElement("span");
    name.textContent = "📎 " + att.filename;
    var input = document.createElement("input");
    input.type = "hidden"; input.name = "attachment_ids"; input.value = att.id;
    var remove = document.createElement("button");
    remove.type = "button"; remove.className = "link";
    remove.textContent = (L.remove || "Remove") + " " + att.filename;
    remove.addEventListener("click", function () { li.remove(); box.focus(); });
    li.appendChild(name); li.appendChild(input); li.appendChild(remove);
    list.appendChild(li);
  }

  function upload(file) {
    var data = new FormData();
    data.append("file", file);
    data.append("conversation_id", files.dataset.conversation);
    return fetch("/api/v1/attachments", {method: "POST", body: data, credentials: "same-origin",
                                         headers: {"X-CSRF-Token": csrf}})
      .then(function (res) {
        return res.json().then(function (body) {
          if (!res.ok) throw new Error(body.detail || res.status);
          chip(body);
        });
      })
      .catch(function (err) { toast((L.failed || "Upload failed") + ": " + file.name + " — " + err.message); });
  }

  if (files && list) {
    files.addEventListener("change", function () {
      var chosen = Array.prototype.slice.call(files.files);
      if (!chosen.length) return;
      send.disabled = true;
      var label = send.textContent;
      send.textContent = L.uploading || "…";
      Promise.all(chosen.map(upload)).then(function () {
        send.disabled = false; send.textContent = label; files.value = "";
      });
    });
    form.addEventListener("htmx:afterRequest", function (e) {
      if (e.detail.successful && e.detail.elt === form) list.textContent = "";
    });
  }
})();
