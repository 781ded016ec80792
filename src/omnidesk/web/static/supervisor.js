// The supervisor's charts: one JSON report (/api/v1/reports/overview), drawn with Chart.js.
// Labels come from the page (localised on the server); numbers are never inserted as HTML.
(function () {
  "use strict";
  var box = document.getElementById("charts");
  var t = document.getElementById("chart-i18n");
  if (!box || !t || !window.Chart) return;
  var L = t.dataset;
  var COLORS = ["#2563eb", "#0f766e", "#b45309", "#7c3aed", "#be123c", "#4d7c0f", "#0369a1",
                "#a16207", "#475569"];

  function color(i) { return COLORS[i % COLORS.length]; }

  function scaled(values, divisor) {
    return values.map(function (v) { return v === null ? null : Math.round(v / divisor * 10) / 10; });
  }

  function draw(id, type, labels, datasets, options) {
    var canvas = document.getElementById(id);
    if (!canvas) return;
    var base = {
      responsive: true, maintainAspectRatio: false, animation: false,
      interaction: {mode: "index", intersect: false},
      plugins: {legend: {position: "bottom"}},
      spanGaps: true
    };
    new window.Chart(canvas, {type: type, data: {labels: labels, datasets: datasets},
                              options: Object.assign(base, options || {})});
  }

  function kpi(name, text) {
    var el = document.querySelector('[data-kpi="' + name + '"]');
    if (el) el.textContent = text;
  }

  function human(seconds, unit, divisor) {
    if (seconds === null || seconds === undefined) return L.none;
    return (Math.round(seconds / divisor * 10) / 10) + " " + unit;
  }

  function render(r) {
    var days = r.days.map(function (d) { return d.slice(5); });
    var channels = Object.keys(r.volume.channels);
    draw("chart-volume", "bar", days, channels.map(function (ch, i) {
      return {label: ch, data: r.volume.channels[ch], backgroundColor: color(i), stack: "v"};
    }), {scales: {x: {stacked: true}, y: {stacked: true, beginAtZero: true, ticks: {precision: 0}}}});
    draw("chart-first-response", "line", days, [
      {label: L.median, data: scaled(r.first_response.median_seconds, 60), borderColor: color(0)},
      {label: L.average, data: scaled(r.first_response.avg_seconds, 60), borderColor: color(2)}
    ], {scales: {y: {beginAtZero: true}}});
    draw("chart-resolution", "line", days, [
      {label: L.median, data: scaled(r.resolution.median_seconds, 3600), borderColor: color(1)},
      {label: L.average, data: scaled(r.resolution.avg_seconds, 3600), borderColor: color(2)}
    ], {scales: {y: {beginAtZero: true}}});
    draw("chart-deflection", "bar", days, [
      {label: L.selfService, data: r.deflection.self_service, backgroundColor: color(1), stack: "d"},
      {label: L.handedOff, data: r.deflection.handed_off, backgroundColor: color(0), stack: "d"}
    ], {scales: {x: {stacked: true}, y: {stacked: true, beginAtZero: true, ticks: {precision: 0}}}});
    draw("chart-satisfaction", "line", days, [
      {label: L.satisfaction, data: r.satisfaction.average, borderColor: color(3)}
    ], {scales: {y: {min: 1, max: 5}}});
    kpi("volume", String(r.volume.total));
    kpi("first_response", human(r.first_response.overall.median, L.minutes, 60));
    kpi("resolution", human(r.resolution.overall.median, L.hours, 3600));
    var rate = r.deflection.totals.rate;
    kpi("deflection", rate === null ? L.none : Math.round(rate * 1000) / 10 + "%");
    kpi("satisfaction", r.satisfaction.overall === null ? L.none : String(r.satisfaction.overall));
    box.dataset.state = "ready";
  }

  fetch(box.dataset.src, {credentials: "same-origin", headers: {Accept: "application/json"}})
    .then(function (res) { if (!res.ok) throw new Error(res.status); return res.json(); })
    .then(render)
    .catch(function () {
      var p = document.createElement("p");
      p.className = "error"; p.setAttribute("role", "alert"); p.textContent = L.failed;
      box.parentNode.insertBefore(p, box);
      box.dataset.state = "failed";
    });
})();
