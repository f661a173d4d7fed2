// Draws the report's charts from the JSON in #report-data with Chart.js.
// Each canvas gets data-rendered="1" once its chart is drawn; a chart
// without data says so in its place.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var palette = ["#0969da", "#cf222e", "#1a7f37", "#8250df", "#bf8700", "#1b7c83", "#e16f24", "#6e7781", "#bc4c00"];
  Chart.defaults.animation = false;
  Chart.defaults.font.size = 12;
  Chart.defaults.maintainAspectRatio = false;

  function title(text) { return { display: true, text: text, font: { size: 14, weight: "bold" } }; }
  function logAxis(text) { return { type: "logarithmic", title: { display: true, text: text } }; }

  var build = {
    handshakes: function (d) {
      if (!d.handshakes || !d.handshakes.length) return null;
      var h = d.handshakes;
      return {
        type: "bar",
        data: {
          labels: h.map(function (p) { return p.label; }),
          datasets: [
            { label: "board time (ms)", data: h.map(function (p) { return p.board_ms || null; }),
              backgroundColor: h.map(function (p) { return p.ok ? "#1a7f37" : "#cf222e"; }) },
            { label: "wall time through the relay (ms)", data: h.map(function (p) { return p.wall_ms || null; }), backgroundColor: "#8c959f" },
            { label: "limit (ms)", data: h.map(function (p) { return p.limit_ms || null; }), backgroundColor: "rgba(191,135,0,0.35)", borderColor: "#bf8700", borderWidth: 1 }
          ]
        },
        options: { indexAxis: "y", plugins: { title: title("Handshake time per board and profile, against the board's limit") },
          scales: { x: logAxis("milliseconds (log)") } }
      };
    },
    chips: function (d) {
      if (!d.chips) return null;
      return {
        type: "bar",
        data: {
          labels: d.chips.ops,
          datasets: d.chips.series.map(function (s, i) {
            return { label: s.label, data: s.values,
              backgroundColor: s.anchor ? "rgba(110,119,129,0.25)" : palette[i % palette.length],
              borderColor: s.anchor ? "#6e7781" : palette[i % palette.length], borderWidth: 1,
              borderDash: s.anchor ? [4, 3] : [] };
          })
        },
        options: { plugins: { title: title("Cycles (instructions under QEMU) per chip, beside the published anchors") },
          scales: { y: logAxis("count per operation (log)") } }
      };
    },
    latency: function (d) {
      if (!d.latency) return null;
      return {
        type: "line",
        data: {
          labels: d.latency.quantiles,
          datasets: d.latency.series.map(function (s, i) {
            return { label: s.stage, data: s.ms, borderColor: palette[i % palette.length], backgroundColor: palette[i % palette.length],
              pointRadius: 2, tension: 0.2 };
          })
        },
        options: { plugins: { title: title("Latency by percentile, per stage (HDR histograms)") },
          scales: { y: logAxis("milliseconds (log)"), x: { title: { display: true, text: "percentile" } } } }
      };
    },
    timeline: function (d) {
      if (!d.timeline) return null;
      var t = d.timeline;
      function xy(ys) { return ys.map(function (y, i) { return { x: t.seconds[i], y: y }; }); }
      return {
        type: "line",
        data: {
          datasets: [
            { label: "connects/s", data: xy(t.connects_per_s), borderColor: palette[0], backgroundColor: palette[0], pointRadius: 0, yAxisID: "y" },
            { label: "publishes acked/s", data: xy(t.acked_per_s), borderColor: palette[2], backgroundColor: palette[2], pointRadius: 0, yAxisID: "y" },
            { label: "received/s", data: xy(t.received_per_s), borderColor: palette[3], backgroundColor: palette[3], pointRadius: 0, borderDash: [5, 3], yAxisID: "y" },
            { label: "devices connected", data: xy(t.connected), borderColor: palette[4], backgroundColor: "rgba(191,135,0,0.12)", fill: true, pointRadius: 0, yAxisID: "y2" }
          ]
        },
        options: { plugins: { title: title("Throughput over time") },
          scales: { x: { type: "linear", title: { display: true, text: "seconds since start" } },
            y: { beginAtZero: true, title: { display: true, text: "per second" } },
            y2: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false }, title: { display: true, text: "devices connected" } } } }
      };
    }
  };

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var cfg = build[canvas.dataset.chart](data);
    if (!cfg) {
      var p = document.createElement("p");
      p.className = "empty-note";
      p.textContent = "No data for this chart in this run.";
      canvas.replaceWith(p);
      return;
    }
    new Chart(canvas, cfg);
    canvas.dataset.rendered = "1";
  });
})();
