/* Issue 24 §1: the homes' charts. Each <div class="home-chart" data-chart="ID"> is drawn from the JSON of the
   <script type="application/json" id="ID"> block next to it (Django's json_script): {kind: "bar" | "hbar" | "line" |
   "pie", categories, series: [{name, data: [{value, url}]}], unit, min, max}. A click on a bar, point or slice opens
   its `url`: the rows behind the number. No inline code, so the page's Content-Security-Policy holds. */
(function () {
  "use strict";
  if (typeof echarts === "undefined") { return; }
  var RISK_COLOURS = {overdue: "#dc3545", soon: "#ffc107", ok: "#198754", paused: "#6c757d"};

  function option(spec) {
    var unit = spec.unit || "";
    var series = (spec.series || []).map(function (one) {
      var s = {name: one.name, data: one.data, type: spec.kind === "hbar" ? "bar" : spec.kind, cursor: "pointer"};
      if (spec.kind === "pie") {
        s.radius = ["35%", "65%"];
        s.label = {formatter: "{b}: {c}"};
        s.data = one.data.map(function (d) {
          var item = Object.assign({}, d, RISK_COLOURS[d.key] ? {itemStyle: {color: RISK_COLOURS[d.key]}} : {});
          if (!d.value) { item.label = {show: false}; item.labelLine = {show: false}; }  // an empty slice: legend only
          return item;
        });
      }
      if (spec.kind === "line") { s.connectNulls = true; s.symbolSize = 8; }
      if (spec.kind === "bar" || spec.kind === "hbar") { s.barMaxWidth = 28; }
      return s;
    });
    var base = {
      grid: {left: 8, right: 16, top: 36, bottom: 8, containLabel: true},
      legend: {top: 0, type: "scroll"},
      tooltip: {trigger: spec.kind === "pie" ? "item" : "axis", valueFormatter: function (v) {
        return v === null || v === undefined ? "–" : v + (unit ? " " + unit : "");
      }},
      series: series
    };
    if (spec.kind === "pie") { return base; }
    var categoryAxis = {type: "category", data: spec.categories || [],
                        axisLabel: {interval: 0, hideOverlap: true, width: 110, overflow: "truncate"}};
    var valueAxis = {type: "value", min: spec.min, max: spec.max,
                     axisLabel: {formatter: unit ? "{value} " + unit : "{value}"}};
    if (spec.kind === "hbar") {
      categoryAxis.inverse = true;
      base.xAxis = valueAxis; base.yAxis = categoryAxis;
    } else {
      if ((spec.categories || []).length > 4) { categoryAxis.axisLabel.rotate = 30; }
      base.xAxis = categoryAxis; base.yAxis = valueAxis;
    }
    return base;
  }

  function draw(element) {
    var source = document.getElementById(element.getAttribute("data-chart"));
    if (!source) { return null; }
    var spec = JSON.parse(source.textContent);
    if (spec.kind === "hbar") {  // a row per category: as tall as its bars need, on a phone as on a desk
      var bars = (spec.categories || []).length * (spec.series || []).length;
      element.style.height = Math.max(180, 70 + bars * 14 + (spec.categories || []).length * 8) + "px";
    }
    var chart = echarts.init(element, null, {renderer: "canvas"});
    chart.setOption(option(spec));
    chart.on("click", function (params) {
      if (params.data && params.data.url) { window.location.assign(params.data.url); }
    });
    return chart;
  }

  var charts = Array.prototype.map.call(document.querySelectorAll(".home-chart[data-chart]"), draw)
    .filter(function (chart) { return chart !== null; });
  window.addEventListener("resize", function () { charts.forEach(function (chart) { chart.resize(); }); });
  window.addEventListener("beforeprint", function () { charts.forEach(function (chart) { chart.resize(); }); });
})();
