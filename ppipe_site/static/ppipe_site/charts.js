// Draws the site's charts (foundation/charts.py): each element with a data-chart
// attribute holds a plotly figure as JSON. Runs once the page is parsed and again
// after htmx swaps content in, so a chart inside a polled fragment is drawn anew.
(function () {
  "use strict";
  if (window.ppipeCharts) { return; }  // included twice: one set of listeners

  var CONFIG = { responsive: true, displaylogo: false, displayModeBar: false };

  function draw(root) {
    if (!window.Plotly) { return; }
    (root || document).querySelectorAll("[data-chart]").forEach(function (element) {
      if (element.dataset.drawn === "yes") { return; }
      var figure = JSON.parse(element.dataset.chart);
      element.dataset.drawn = "yes";
      window.Plotly.newPlot(element, figure.data, figure.layout, CONFIG);
    });
  }

  // Charts about to be swapped out release plotly's resize listener.
  function release(root) {
    if (!window.Plotly || !root || !root.querySelectorAll) { return; }
    root.querySelectorAll(".js-plotly-plot").forEach(function (element) {
      window.Plotly.purge(element);
    });
  }

  window.ppipeCharts = { draw: draw };
  document.addEventListener("htmx:beforeSwap", function (event) { release(event.detail.target); });
  document.addEventListener("htmx:afterSettle", function () { draw(document); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { draw(document); });
  } else {
    draw(document);
  }
})();
