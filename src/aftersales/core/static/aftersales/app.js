/* Behaviour every page shares, as listeners (the Content-Security-Policy allows no inline handlers):
   - select[data-autosubmit]: submits its form when changed (the language switch);
   - form[data-confirm]: asks before it is submitted;
   - [data-print]: prints the page;
   - inputs with data-enter-noop: Enter does not submit the form (it would send a half-filled form);
   - SLA countdowns: kept current every 30 s when the page has #countdown-config (service/_countdown_script.html). */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var select = event.target.closest && event.target.closest("select[data-autosubmit]");
    if (select && select.form) { select.form.submit(); }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target.closest && event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) { event.preventDefault(); event.stopImmediatePropagation(); }
  }, true);
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) { window.print(); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.closest && event.target.closest("[data-enter-noop]")) { event.preventDefault(); }
  });

  function countdowns() {
    var config = document.getElementById("countdown-config");
    if (!config) { return; }
    var data = config.dataset;
    var offset = Number(data.serverNow) - Date.now();
    var fmt = {left: data.left, overdue: data.overdue, d: data.d, h: data.h, min: data.min};
    var colours = ["text-bg-success", "text-bg-warning", "text-bg-danger"];
    function duration(ms) {
      var minutes = Math.floor(Math.abs(ms) / 60000);
      var units = [[Math.floor(minutes / 1440), fmt.d], [Math.floor(minutes % 1440 / 60), fmt.h], [minutes % 60, fmt.min]];
      while (units.length > 1 && units[0][0] === 0) { units.shift(); }
      units = units.slice(0, 2);
      if (units.length === 2 && units[1][0] === 0) { units.pop(); }
      return units.map(function (u) { return u[0] + " " + u[1]; }).join(" ");
    }
    function tick() {
      var now = Date.now() + offset;
      document.querySelectorAll(".countdown[data-due]").forEach(function (badge) {
        var left = Number(badge.dataset.due) - now;
        var warn = badge.dataset.warn ? Number(badge.dataset.warn) : null;
        var colour = left < 0 ? "text-bg-danger" : (warn !== null && now >= warn ? "text-bg-warning" : "text-bg-success");
        badge.querySelector(".countdown-text").textContent = (left >= 0 ? fmt.left : fmt.overdue).replace("%(time)s", duration(left));
        colours.forEach(function (c) { badge.classList.toggle(c, c === colour); });
      });
    }
    setInterval(tick, 30000);
    document.body.addEventListener("htmx:afterSwap", tick);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", countdowns); } else { countdowns(); }
})();
