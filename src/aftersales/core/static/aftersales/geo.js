/* Arrival: ask the browser for its position (high accuracy, with a timeout); if refused or unavailable,
   show the other proofs (photo, customer's confirmation) instead of failing. */
(function () {
  document.addEventListener("submit", function (event) {
    var form = event.target.closest ? event.target.closest("form[data-geo-form]") : null;
    if (!form || form.dataset.geoDone) { return; }
    var fallback = form.querySelector(".geo-fallback");
    if (!fallback.classList.contains("d-none")) { return; }  /* the photo / customer path: submit as it is */
    event.preventDefault();
    var status = form.querySelector(".geo-status");
    var showFallback = function (message) { status.textContent = message; fallback.classList.remove("d-none"); };
    if (!navigator.geolocation) { showFallback(form.dataset.msgUnavailable); return; }
    status.textContent = form.dataset.msgLocating;
    navigator.geolocation.getCurrentPosition(function (position) {
      form.querySelector("[name=latitude]").value = position.coords.latitude;
      form.querySelector("[name=longitude]").value = position.coords.longitude;
      form.querySelector("[name=accuracy]").value = Math.round(position.coords.accuracy);
      form.dataset.geoDone = "1";
      form.submit();
    }, function (error) {
      showFallback(error.code === 1 ? form.dataset.msgDenied : form.dataset.msgUnavailable);
    }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 0});
  }, true);
})();
