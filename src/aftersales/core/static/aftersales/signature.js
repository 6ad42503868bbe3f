/* On-screen signature (SRQ-7): the pad's PNG goes into the form as a data URL. */
(function () {
  document.querySelectorAll("form[data-signature-form]").forEach(function (form) {
    var canvas = form.querySelector("canvas.signature-pad");
    var input = form.querySelector("input[name$='signature']");
    var pad = new SignaturePad(canvas, {backgroundColor: "rgb(255, 255, 255)"});
    function resize() {
      var ratio = Math.max(window.devicePixelRatio || 1, 1);
      var strokes = pad.toData();
      canvas.width = canvas.offsetWidth * ratio;
      canvas.height = canvas.offsetHeight * ratio;
      canvas.getContext("2d").scale(ratio, ratio);
      pad.clear();
      pad.fromData(strokes);
    }
    window.addEventListener("resize", resize);
    resize();
    form.querySelector("[data-clear]").addEventListener("click", function () { pad.clear(); });
    form.addEventListener("submit", function (event) {
      if (pad.isEmpty()) {
        event.preventDefault();
        form.querySelector(".signature-error").classList.add("d-block");
        return;
      }
      input.value = pad.toDataURL("image/png");
    });
  });
})();
