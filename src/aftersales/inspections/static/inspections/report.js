/* INS-5: the report's print button (no inline script: the page's CSP allows none). */
(function () {
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
