// The overview's two charts, drawn with the vendored uPlot (uplot-1.6.32.iife.min.js, MIT) from the JSON
// the page carries in #chart-data: the share of each milestone done by month, and overdue by district.
"use strict";
(() => {
  const source = document.getElementById("chart-data");
  if (!source || typeof uPlot === "undefined") return;
  const data = JSON.parse(source.textContent);
  const colours = ["#15803d", "#1d4ed8", "#b45309", "#7c3aed", "#be123c", "#0f766e", "#4b5563", "#a16207"];
  const width = (el) => Math.max(280, Math.min(640, el.parentElement.clientWidth || 640));

  const trendEl = document.getElementById("trend-chart");
  if (trendEl && data.x.length) {
    const month = (t) => { const d = new Date(t * 1000); return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}`; };
    const monthLabels = (ticks) => {  // a label per month at most, none closer than a sixth of the span
      const gap = Math.max(20 * 86400, (ticks[ticks.length - 1] - ticks[0]) / 6);
      let last = -Infinity;
      return ticks.map((t) => (t - last >= gap ? ((last = t), month(t)) : ""));
    };
    const series = [{ label: data.labels.month, value: (u, t) => t == null ? "—" : month(t) }].concat(data.series.map((s, i) => ({
      label: s.label, stroke: colours[i % colours.length], width: 2, value: (u, v) => v == null ? "—" : v + "%",
    })));
    new uPlot({
      width: width(trendEl), height: 260, series,
      scales: { y: { range: [0, 100] } },
      // one tick per month of the data (at most about six labelled), written 2026-03 rather than uPlot's "3/1"
      axes: [{ splits: () => data.x, values: (u, ticks) => monthLabels(ticks) },
        { values: (u, ticks) => ticks.map((t) => t + "%") }],
    }, [data.x].concat(data.series.map((s) => s.values)), trendEl);
  }

  const overdueEl = document.getElementById("overdue-chart");
  if (overdueEl && data.districts.length) {
    const xs = data.districts.map((_, i) => i);
    new uPlot({
      width: width(overdueEl), height: 260,
      scales: { x: { time: false, range: [-0.6, xs.length - 0.4] }, y: { range: (u, min, max) => [0, Math.max(1, max)] } },
      series: [{ label: data.labels.district, value: (u, i) => i == null ? "—" : data.districts[i] ?? "" },
        { label: data.labels.overdue, fill: "#b91c1c", stroke: "#b91c1c", points: { show: false },
          paths: uPlot.paths.bars({ size: [0.6, 60] }) }],
      axes: [{ splits: () => xs, values: (u, ticks) => ticks.map((t) => data.districts[t] ?? "") },
        { values: (u, ticks) => ticks.map((t) => Number.isInteger(t) ? String(t) : "") }],
      legend: { show: true },
    }, [xs, data.overdue], overdueEl);
  }
})();
