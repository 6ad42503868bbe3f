// Inspection forms on a phone: each answer carries the phone's own time and, when the browser may read it, its
// position. The position is asked for once when the page opens and kept; a form is never held back waiting for it.
(function () {
  "use strict";
  var forms = document.querySelectorAll("form[data-phone-form]");
  if (!forms.length) { return; }
  var position = null;
  if (navigator.geolocation && document.querySelector("[data-geo]")) {
    navigator.geolocation.getCurrentPosition(function (found) { position = found.coords; }, function () {},
      { enableHighAccuracy: true, maximumAge: 120000, timeout: 20000 });
  }
  forms.forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("[data-phone-time]").forEach(function (input) { input.value = new Date().toISOString(); });
      if (position) {
        form.querySelectorAll("[data-geo]").forEach(function (input) {
          var key = input.getAttribute("data-geo");
          var value = key === "accuracy" ? position.accuracy : position[key];
          if (value !== undefined && value !== null) { input.value = Number(value).toFixed(key === "accuracy" ? 0 : 6); }
        });
      }
    });
  });
})();
