// Issue 25 §7: the canned reply chooser of a request's reply and comment forms. The replies come pre-expanded for
// the request in data-text (replies/templatetags/replies_tags.py); "Insert" puts the chosen text at the cursor of the
// form's textarea (appended on a new line when it has text already) and tells the server it was used. Delegated on
// the document, so it works after htmx swaps a form, and loaded once however many choosers the page has.
(function () {
  if (window.cannedRepliesReady) { return; }
  window.cannedRepliesReady = true;

  function csrfToken(form) {
    var input = form && form.querySelector('input[name="csrfmiddlewaretoken"]');
    return input ? input.value : "";
  }

  function insert(textarea, text) {
    var start = textarea.selectionStart, end = textarea.selectionEnd, value = textarea.value;
    if (typeof start !== "number" || document.activeElement !== textarea && value) {
      textarea.value = value ? value.replace(/\s*$/, "") + "\n" + text : text;
    } else {
      textarea.value = value.slice(0, start) + text + value.slice(end);
    }
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
    textarea.focus();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest(".canned-insert");
    if (!button) { return; }
    var chooser = button.closest(".canned-reply-chooser");
    var form = chooser.closest("form");
    var select = chooser.querySelector("select");
    var option = select.options[select.selectedIndex];
    if (!option || !option.value) { select.focus(); return; }
    var textarea = form && form.querySelector('textarea[name="' + chooser.dataset.cannedTarget + '"]');
    if (!textarea) { return; }
    insert(textarea, option.dataset.text || "");
    select.selectedIndex = 0;
    if (option.dataset.usedUrl && window.fetch) {
      fetch(option.dataset.usedUrl, { method: "POST", credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(form) } }).catch(function () {});
    }
  });
})();
