/* Monthly figures: ECharts (vendored) drawn from the page's own data (data-figures), no extra request. */
(function () {
  "use strict";
  var box = document.getElementById("monthly-charts");
  if (!box || !window.echarts) { return; }
  var d = JSON.parse(box.getAttribute("data-figures") || "{}");
  // Tooltips as DOM nodes: ECharts' HTML tooltip writes style="" attributes the console's CSP blocks.
  function tipContent(params) {
    var el = document.createElement("div");
    (Array.isArray(params) ? params : [params]).forEach(function (p, i) {
      if (i === 0 && p.name) { var h = document.createElement("div"); h.className = "tt-head"; h.textContent = p.name; el.appendChild(h); }
      var row = document.createElement("div"); row.className = "tt-row";
      row.textContent = (p.seriesName && p.seriesName.indexOf("series") !== 0 ? p.seriesName + " " : "") + String(p.value === null ? "—" : p.value);
      el.appendChild(row);
    });
    return el;
  }
  function title(text) { return { text: text, textStyle: { fontSize: 14 } }; }
  // No animation: a month's figures do not change while read, and the page is drawn at once.
  function draw(id, option) { option.animation = false; echarts.init(document.getElementById(id)).setOption(option); }
  draw("chart-users", { title: title("各市服务用户数与会话数"), tooltip: { trigger: "axis", formatter: tipContent }, legend: { top: 24 },
    xAxis: { type: "category", data: d.cities, axisLabel: { interval: 0 } }, yAxis: { type: "value", minInterval: 1 },
    series: [{ name: "服务用户数", type: "bar", data: d.users }, { name: "会话数", type: "bar", data: d.conversations }] });
  var needs = (d.needs || []).slice().reverse();
  draw("chart-needs", { title: title("热门需求"), tooltip: { formatter: tipContent }, grid: { left: 110, right: 20 },
    xAxis: { type: "value", minInterval: 1 }, yAxis: { type: "category", data: needs.map(function (x) { return x[0]; }) },
    series: [{ name: "次数", type: "bar", data: needs.map(function (x) { return x[1]; }) }] });
  draw("chart-rating", { title: title("满意度（平均分与评价数）"), tooltip: { trigger: "axis", formatter: tipContent }, legend: { top: 24 },
    xAxis: { type: "category", data: d.cities, axisLabel: { interval: 0 } },
    yAxis: [{ type: "value", min: 0, max: 5, name: "平均分" }, { type: "value", minInterval: 1, name: "条" }],
    series: [{ name: "平均满意度", type: "bar", data: d.rating_mean }, { name: "评价数", type: "line", yAxisIndex: 1, data: d.ratings },
      { name: "低分评价", type: "line", yAxisIndex: 1, data: d.rating_low }] });
}());
