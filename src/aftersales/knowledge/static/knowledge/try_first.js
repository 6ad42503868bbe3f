// SRQ-9: "先试试这些" next to the portal's report form. As the customer types the title or the description, ask the
// knowledge base (knowledge:suggest, JSON) for the customer-visible articles matching the words, at most once per
// 400 ms pause, and show them instead of the articles for the customer's common models. No inline script (CSP).
(function () {
  "use strict";
  var box = document.getElementById("try-first");
  if (!box) { return; }
  var list = box.querySelector(".try-first-list");
  var url = box.getAttribute("data-suggest-url");
  var fields = ["id_title", "id_description"].map(function (id) { return document.getElementById(id); })
    .filter(Boolean);
  var timer = null, last = "", initial = list.innerHTML;

  function item(article) {
    var li = document.createElement("li");
    li.className = "list-group-item small";
    var a = document.createElement("a");
    a.href = article.url; a.target = "_blank"; a.rel = "noopener"; a.className = "fw-semibold";
    a.textContent = article.title;
    var div = document.createElement("div");
    div.className = "text-muted"; div.textContent = article.symptom;
    li.appendChild(a); li.appendChild(div);
    return li;
  }

  function ask() {
    var text = fields.map(function (f) { return f.value; }).join(" ").trim().slice(0, 100);
    if (text === last) { return; }
    last = text;
    if (!text) { list.innerHTML = initial; return; }
    fetch(url + "?q=" + encodeURIComponent(text), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : {articles: []}; })
      .then(function (data) {
        if (text !== last) { return; }  // an older answer arriving late
        if (!data.articles.length) { list.innerHTML = initial; return; }
        list.replaceChildren.apply(list, data.articles.map(item));
      })
      .catch(function () { /* offline: keep what is shown */ });
  }

  fields.forEach(function (field) {
    field.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, 400);
    });
  });
})();
