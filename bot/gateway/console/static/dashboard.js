/* Supervisor dashboard: ECharts (vendored) fed by /console/api/dashboard, refreshed every minute. */
(function () {
  "use strict";
  var charts = {};
  // Tooltip content built as DOM nodes (textContent + CSSOM): ECharts' default HTML tooltip writes
  // style="" attributes, which the console's CSP (style-src 'self', no 'unsafe-inline') blocks.
  function tipContent(params) {
    var box = document.createElement("div");
    (Array.isArray(params) ? params : [params]).forEach(function (p, i) {
      if (i === 0 && p.name) { var h = document.createElement("div"); h.className = "tt-head"; h.textContent = p.name; box.appendChild(h); }
      var row = document.createElement("div"), dot = document.createElement("span"), label = document.createElement("span"), val = document.createElement("b");
      row.className = "tt-row"; dot.className = "tt-dot"; dot.style.backgroundColor = p.color;
      label.textContent = p.seriesName && p.seriesName.indexOf("series") !== 0 ? p.seriesName : "";
      var v = Array.isArray(p.value) ? p.value[p.value.length - 1] : p.value; val.textContent = String(v);
      row.appendChild(dot); row.appendChild(label); row.appendChild(val); box.appendChild(row);
    });
    return box;
  }
  function tip(extra) { var t = { formatter: tipContent }; Object.keys(extra || {}).forEach(function (k) { t[k] = extra[k]; }); return t; }
  function chart(id) { return charts[id] || (charts[id] = echarts.init(document.getElementById(id))); }
  function bar(id, title, names, values, horizontal) {
    var cat = { type: "category", data: names, axisLabel: { interval: 0 } }, val = { type: "value", minInterval: 1 };
    chart(id).setOption({ title: { text: title, textStyle: { fontSize: 14 } }, tooltip: tip(), grid: { left: horizontal ? 140 : 40, right: 20 },
      xAxis: horizontal ? val : cat, yAxis: horizontal ? cat : val, series: [{ type: "bar", data: values }] }, true);
  }
  function kpi(label, value) {
    var d = document.createElement("div"); d.className = "kpi";
    var b = document.createElement("b"); b.textContent = value;
    var s = document.createElement("span"); s.textContent = label;
    d.appendChild(b); d.appendChild(s); return d;
  }
  function load() {
    fetch("/console/api/dashboard", { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (d) {
      var k = document.getElementById("kpis"); k.innerHTML = "";
      k.appendChild(kpi("当前排队", d.queue_now));
      k.appendChild(kpi("等待中位数（秒）", d.wait.median_s));
      k.appendChild(kpi("等待 P90（秒）", d.wait.p90_s));
      k.appendChild(kpi("近 7 天接入", d.wait.count));
      k.appendChild(kpi("在线人数", d.online.length));
      var ol = document.getElementById("overdue-list"); ol.innerHTML = "";
      if (!d.overdue.length) { var li0 = document.createElement("li"); li0.textContent = "无"; ol.appendChild(li0); }
      d.overdue.forEach(function (it) {
        var li = document.createElement("li"), a = document.createElement("a");
        a.href = "/console/conversations/" + it.id; a.textContent = "#" + it.id + " " + it.reason_label + " · 已等待 " + Math.round(it.wait_s / 60) + " 分钟 · " + (it.first_message || "");
        li.appendChild(a); ol.appendChild(li);
      });
      var series = Object.keys(d.queue_length).map(function (day) {
        return { name: day, type: "line", step: "end", data: d.queue_length[day].map(function (p) { return [p[0], p[1]]; }) };
      });
      chart("chart-qlen").setOption({ title: { text: "排队人数变化（今天/昨天）", textStyle: { fontSize: 14 } }, tooltip: tip({ trigger: "axis" }), legend: { top: 24 },
        xAxis: { type: "category" }, yAxis: { type: "value", minInterval: 1 }, series: series }, true);
      chart("chart-wait").setOption({ title: { text: "每日等待时长（秒）", textStyle: { fontSize: 14 } }, tooltip: tip({ trigger: "axis" }), legend: { top: 24 },
        xAxis: { type: "category", data: d.days.map(function (x) { return x.slice(5); }) }, yAxis: { type: "value" },
        series: [{ name: "中位数", type: "line", data: d.wait.per_day_median_s }, { name: "P90", type: "line", data: d.wait.per_day_p90_s }] }, true);
      bar("chart-handled", "各职业指导师处理量", Object.keys(d.handled_per_counsellor), Object.values(d.handled_per_counsellor));
      bar("chart-intents", "热门意图", d.top_intents.map(function (x) { return x[0]; }), d.top_intents.map(function (x) { return x[1]; }), true);
      bar("chart-fallbacks", "未理解的问题（前 20 字）", d.top_fallbacks.map(function (x) { return x[0]; }), d.top_fallbacks.map(function (x) { return x[1]; }), true);
      bar("chart-bookings", "每日指导课预约", d.days.map(function (x) { return x.slice(5); }), d.bookings.per_day);
    });
  }
  load();
  setInterval(load, 60000);
  window.addEventListener("resize", function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });
})();
