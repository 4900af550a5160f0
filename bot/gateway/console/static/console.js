/* 职引工作台: live queue over SSE (snapshot on every (re)connect), conversation actions. No CDN. */
(function () {
  "use strict";
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var CSRF = csrfMeta ? csrfMeta.content : "";
  var page = document.body.dataset.page;
  var me = document.body.dataset.user;
  var items = {};          // id -> summary
  var seen = {};           // ids already known (to notify only on new ones)
  var firstSnapshot = true;
  var liveEl = document.getElementById("live-state");

  function setLive(on, text) {
    if (!liveEl) return;
    liveEl.textContent = text;
    liveEl.className = "live " + (on ? "on" : "off");
    liveEl.dataset.state = on ? "live" : "reconnecting";
  }

  function flash(msg, bad) {
    var el = document.getElementById("flash");
    if (!el) return;
    el.textContent = msg;
    el.className = "flash " + (bad ? "bad" : "good");
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": CSRF },
      body: JSON.stringify(body || {})
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        data._status = r.status;
        if (r.status === 401) { window.location = "/console/login?next=" + encodeURIComponent(location.pathname); }
        return data;
      });
    });
  }

  // Every time the console shows is Beijing time, whatever the browser's own time zone.
  function fmtBeijing(ts, withDate) {
    var opts = { hour12: false, timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit", second: "2-digit" };
    if (withDate) { opts.month = "2-digit"; opts.day = "2-digit"; }
    return new Date(ts * 1000).toLocaleString("zh-CN", opts);
  }

  function fmtWait(s) {
    s = Math.max(0, Math.floor(s));
    var m = Math.floor(s / 60), sec = s % 60;
    return m >= 60 ? Math.floor(m / 60) + " 小时 " + (m % 60) + " 分" : m + " 分 " + (sec < 10 ? "0" : "") + sec + " 秒";
  }

  // -- notifications: a short beep (WebAudio) + a desktop notification + a title badge ------
  var audioCtx = null;
  function beep() {
    try {
      audioCtx = audioCtx || new (window.AudioContext || window.webkitAudioContext)();
      var o = audioCtx.createOscillator(), g = audioCtx.createGain();
      o.frequency.value = 880; g.gain.value = 0.08;
      o.connect(g); g.connect(audioCtx.destination);
      o.start(); o.stop(audioCtx.currentTime + 0.25);
    } catch (e) { /* autoplay may be blocked until the user clicks once */ }
  }
  function notifyNew(item) {
    beep();
    document.title = "【新】" + document.title.replace(/^【新】/, "");
    if (window.Notification && Notification.permission === "granted") {
      try { new Notification("新的转人工请求", { body: (item.priority_label || "") + "优先级：" + (item.first_message || "") }); } catch (e) {}
    }
  }
  window.addEventListener("focus", function () { document.title = document.title.replace(/^【新】/, ""); });
  var notifyBtn = document.getElementById("enable-notify");
  if (notifyBtn) {
    notifyBtn.addEventListener("click", function () {
      beep();
      if (window.Notification) Notification.requestPermission();
      notifyBtn.hidden = true;
    });
  }

  // -- queue table ----------------------------------------------------------------------------
  function sortedItems() {
    return Object.keys(items).map(function (k) { return items[k]; }).sort(function (a, b) {
      var sa = a.status === "queued" ? 0 : 1, sb = b.status === "queued" ? 0 : 1;
      if (sa !== sb) return sa - sb;
      if (a.priority !== b.priority) return b.priority - a.priority;
      return a.created_at - b.created_at;
    });
  }

  function cell(tr, text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  function renderQueue() {
    var body = document.getElementById("queue-body");
    if (!body) return;
    var list = sortedItems();
    var queued = list.filter(function (i) { return i.status === "queued"; });
    document.getElementById("queue-count").textContent = queued.length;
    body.innerHTML = "";
    if (!list.length) {
      var tr0 = document.createElement("tr"); tr0.className = "empty";
      var td0 = cell(tr0, "暂无排队的用户"); td0.colSpan = 9; body.appendChild(tr0);
    }
    var now = Date.now() / 1000, overdue = 0;
    list.forEach(function (it) {
      var tr = document.createElement("tr");
      tr.dataset.id = it.id;
      tr.className = "item s-" + it.status + (it.overdue ? " overdue" : "");
      if (it.overdue) overdue++;
      cell(tr, it.priority_label, "prio p" + it.priority);
      var left = it.kind !== "callback" ? "" : it.phone ? "（回电 " + it.phone + "）" : "（留言）";
      cell(tr, it.openid.slice(0, 10) + "…" + left);
      cell(tr, it.city ? (it.city + (it.district || "") + (it.pool === "province" ? " · 已转省级" : "")) : "省级", "area");
      cell(tr, it.first_message || "（无）", "first");
      cell(tr, it.reason_label);
      cell(tr, fmtBeijing(it.created_at, true), "created");
      var w = cell(tr, "", "wait");
      w.dataset.since = it.created_at;
      w.dataset.fixed = it.status === "queued" ? "" : it.wait_s;
      w.textContent = it.status === "queued" ? fmtWait(now - it.created_at) : fmtWait(it.wait_s);
      cell(tr, it.status === "queued" ? "排队中 · 第 " + (queued.indexOf(it) + 1) + " 位" : "处理中 · " + it.holder);
      var td = document.createElement("td");
      var open = document.createElement("a"); open.href = "/console/conversations/" + it.id; open.textContent = "查看";
      td.appendChild(open);
      if (it.status === "queued") {
        var b = document.createElement("button"); b.type = "button"; b.textContent = "接入"; b.className = "claim";
        b.addEventListener("click", function () { claim(it.id); });
        td.appendChild(b);
      }
      tr.appendChild(td);
      body.appendChild(tr);
    });
    var banner = document.getElementById("overdue-banner");
    if (banner) { banner.hidden = overdue === 0; banner.textContent = overdue + " 个会话等待超时，请尽快安排接入"; }
  }

  function claim(id) {
    post("/console/api/items/" + id + "/claim").then(function (r) {
      if (r._status === 200) { window.location = r.url; }
      else if (r._status === 409) { flash("已被他人接入：" + (r.holder || "") + "（" + r.error + "）", true); }
      else { flash(r.error || "接入失败", true); }
    });
  }

  setInterval(function () {
    var now = Date.now() / 1000;
    document.querySelectorAll("td.wait").forEach(function (td) {
      if (!td.dataset.fixed) td.textContent = fmtWait(now - parseFloat(td.dataset.since));
    });
  }, 1000);

  // -- conversation page ---------------------------------------------------------------------
  var conv = document.querySelector(".conv");
  var convId = conv ? conv.dataset.item : null;
  var KIND_LABEL = { user: "用户", system: "系统", bot: "职引" };

  function appendEntry(e) {
    var ol = document.getElementById("transcript");
    if (!ol) return;
    var li = document.createElement("li"); li.className = "t-" + e.kind;
    var meta = document.createElement("span"); meta.className = "t-meta";
    var who = e.kind === "counsellor" ? e.author : e.kind === "note" ? "内部备注 · " + e.author : (KIND_LABEL[e.kind] || e.kind);
    meta.textContent = fmtBeijing(e.at, false) + " " + who;
    var t = document.createElement("span"); t.className = "t-text"; t.textContent = e.text;
    li.appendChild(meta); li.appendChild(t); ol.appendChild(li);
    li.scrollIntoView({ block: "nearest" });
  }

  function updateConvStatus(it) {
    if (!conv || !it) return;
    conv.dataset.status = it.status; conv.dataset.holder = it.holder;
    var labels = { queued: "排队中", claimed: "处理中", closed: "已结束" };
    document.getElementById("conv-status").textContent = labels[it.status] || it.status;
    document.getElementById("conv-holder").textContent = it.holder || "";
  }

  function updateWindow(w) {
    if (!w || !w.known) return;
    var l = document.getElementById("window-label"), r = document.getElementById("window-remaining");
    if (l) l.textContent = w.label;
    if (r) r.textContent = w.remaining;
    var box = document.getElementById("window"); if (box) box.classList.toggle("closed", !w.allowed);
    var t = document.getElementById("btn-template"); if (t) t.hidden = !!w.allowed;
  }

  if (conv) {
    document.querySelectorAll("[data-act]").forEach(function (btn) {
      btn.addEventListener("click", function () {
        var act = btn.dataset.act, body = {};
        if (act === "transfer") { body.to = document.getElementById("transfer-to").value; if (!body.to) { flash("请选择同事", true); return; } }
        if (act === "close") { body.outcome = document.getElementById("outcome").value; }
        if ((act === "close" || act === "handback") && !window.confirm(act === "close" ? "确定结束本次人工会话？" : "确定把会话交回机器人？")) return;
        post("/console/api/items/" + convId + "/" + act, body).then(function (r) {
          if (r._status === 200) {
            var msg = { claim: "已接入", release: "已放回队列", transfer: "已转接", close: "已结束", handback: "已交回机器人", template: "服务通知已发送" }[act];
            flash(msg + (r.warning ? "（" + r.warning + "）" : ""), !!r.warning);
          } else { flash((r.error || "操作失败") + (r.holder ? "（负责人：" + r.holder + "）" : ""), true); }
        });
      });
    });
    var canned = document.getElementById("canned");
    canned.addEventListener("change", function () { if (canned.value) { document.getElementById("reply-text").value = canned.value; canned.value = ""; } });
    document.getElementById("reply-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var ta = document.getElementById("reply-text"), text = ta.value.trim();
      if (!text) return;
      post("/console/api/items/" + convId + "/reply", { text: text }).then(function (r) {
        if (r._status === 200) { ta.value = ""; flash("已发送"); updateWindow(r.window); }
        else { flash(r.error || "发送失败", true); updateWindow(r.window); }
      });
    });
    document.getElementById("note-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var ta = document.getElementById("note-text"), text = ta.value.trim();
      if (!text) return;
      post("/console/api/items/" + convId + "/note", { text: text }).then(function (r) {
        if (r._status === 200) { ta.value = ""; flash("备注已保存"); } else { flash(r.error || "保存失败", true); }
      });
    });
  }

  // -- live stream ---------------------------------------------------------------------------
  function onSnapshot(data) {
    items = {};
    data.items.forEach(function (it) {
      items[it.id] = it;
      if (!firstSnapshot && !seen[it.id] && it.status === "queued") notifyNew(it);
      seen[it.id] = true;
    });
    firstSnapshot = false;
    var av = document.getElementById("availability");
    if (av && data.availability) av.textContent = data.availability.available ? "当前在线 " + data.availability.online + " 人。" : (data.availability.reason === "off_hours" ? "当前为非工作时间。" : "当前无人在线。");
    renderQueue();
    if (conv && items[convId]) updateConvStatus(items[convId]);
  }

  function onItem(ev) {
    var it = ev.item;
    if (!it) return;
    if (!seen[it.id] && it.status === "queued") { notifyNew(it); }
    seen[it.id] = true;
    if (it.status === "closed") delete items[it.id]; else items[it.id] = it;
    renderQueue();
    if (conv && it.id === convId) {
      updateConvStatus(it);
      if (ev.type === "message" && ev.entry) appendEntry(ev.entry);
      if (ev.type === "message" && ev.entry && ev.entry.kind === "user") {
        fetch("/console/api/items/" + convId, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (d) { updateWindow(d.window); });
      }
    }
  }

  if (window.EventSource && ["queue", "conversation", "dashboard", "campaigns", "cohorts", "audit"].indexOf(page) >= 0) {
    var es = new EventSource("/console/api/stream");
    es.addEventListener("open", function () { setLive(true, "实时"); });
    es.addEventListener("error", function () { setLive(false, "重连中…"); });
    es.addEventListener("snapshot", function (m) { setLive(true, "实时"); onSnapshot(JSON.parse(m.data)); });
    es.addEventListener("item", function (m) { onItem(JSON.parse(m.data)); });
  }
})();
