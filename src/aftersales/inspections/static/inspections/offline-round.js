// The engineer's round page survives a lost connection (issue 23 §4). With this script an answer is not posted by
// its form: it is written first to the phone's queue (queue.js, IndexedDB) with its own id (client_id), the phone's
// time and position, and its photo as a Blob; it shows at once as "saved on this phone", and a sender posts the
// queue in order to the API whenever the phone is online (the `online` event, a timer, the page coming back).
//   - 200 or 201: the server has it (the same client_id sent twice is stored once); it leaves the queue.
//   - 4xx: refused; it stays, marked with the server's words, to be corrected (answered again) or removed;
//     a 409 says it conflicts with the round as it is now.
//   - no network, 401, 408, 429, 5xx: it stays and is sent again later.
// Completing the round is queued the same way, with the phone's time of completion, and sent after the answers.
// A service worker (/inspections/sw.js) keeps the page, so a reload offline shows the round and its queue.
// Without IndexedDB (or without JavaScript) the page's forms post as before. Every word comes from the page.
(function () {
  "use strict";
  var root = document.getElementById("offline-round");
  var queue = window.AftersalesQueue;
  if (!root || !queue || !queue.available() || !window.fetch || !window.FormData) { return; }
  var cfg = root.dataset;
  var roundId = Number(cfg.round), userId = Number(cfg.user);
  var status = root.querySelector("[data-offline-status]");
  var completionBox = root.querySelector("[data-offline-completion]");
  var TICK = 5000;  // the timer looks every 5 s; after a failure it waits longer (later())
  var sending = false, again = false, failures = 0, retryAt = 0, signedOut = false, sentNow = 0, done = false;
  var unreachable = false;  // the last try found no network (navigator.onLine may say true in a dead basement)
  var lastFix = null;

  function mine(entry) { return entry.round === roundId && entry.user === userId; }
  // What this user kept on this phone for any round (each entry knows where it goes): sent from any round page.
  function theirs(entry) { return entry.user === userId && !!entry.url; }

  // ---------------------------------------------------------------------------------------------- the phone's facts

  function newId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") { return window.crypto.randomUUID(); }
    var bytes = new Uint8Array(16), i;
    if (window.crypto && window.crypto.getRandomValues) { window.crypto.getRandomValues(bytes); }
    else { for (i = 0; i < 16; i++) { bytes[i] = Math.floor(Math.random() * 256); } }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;  // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80;  // RFC 4122 variant
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  // Each answer carries the position where it was given (not one fix for the whole round): the latest fix, if the
  // browser gives one and it is less than two minutes old. Saving never waits for it.
  if (navigator.geolocation) {
    navigator.geolocation.watchPosition(function (fix) { lastFix = fix; }, function () {},
      { enableHighAccuracy: true, maximumAge: 30000, timeout: 60000 });
  }

  function position() {
    if (!lastFix || Date.now() - lastFix.timestamp > 120000) { return {}; }
    return { latitude: Number(lastFix.coords.latitude.toFixed(6)), longitude: Number(lastFix.coords.longitude.toFixed(6)),
             accuracy_m: Math.round(lastFix.coords.accuracy) };
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);  // current even when the page is an older copy
    return match ? decodeURIComponent(match[1]) : cfg.csrf;
  }

  function phoneTime(iso) {
    var d = new Date(iso);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " + two(d.getHours()) + ":" + two(d.getMinutes());
  }

  // ---------------------------------------------------------------------------------------------- showing the queue

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function itemOf(entry) {
    return document.querySelector('.device-check[data-device="' + entry.device + '"] .checklist-item[data-item="'
                                  + entry.item + '"]');
  }

  function cardOf(entry) {
    if (entry.round !== roundId) { return null; }  // another round's, sent from here but shown on its own page
    var li = entry.kind === "complete" ? null : itemOf(entry);
    var box = entry.kind === "complete" ? completionBox : li && li.querySelector(".pending-answers");
    if (!box) { return null; }
    var card = box.querySelector('[data-client-id="' + entry.client_id + '"]');
    if (!card) {
      card = el("div", "pending-answer alert small py-2 px-2 mt-2 mb-0");
      card.setAttribute("data-client-id", entry.client_id);
      box.appendChild(card);
    }
    return card;
  }

  function summary(entry) {
    var parts = [];
    if (entry.kind === "complete") { return entry.summary || ""; }
    if (entry.passed === true) { parts.push(cfg.msgPass); }
    if (entry.passed === false) { parts.push(cfg.msgFail); }
    if (entry.reading !== null && entry.reading !== "") {
      var unit = (itemOf(entry) || { dataset: {} }).dataset.unit;
      parts.push(entry.reading + (unit ? " " + unit : ""));
    }
    if (entry.text) { parts.push(entry.text); }
    if (entry.photo) { parts.push(cfg.msgPhoto); }
    return parts.join(" · ");
  }

  // state: "pending" | "sending" | "sent" | "error"
  function show(entry, state, finding) {
    var card = cardOf(entry);
    if (!card) { return; }
    var colours = { pending: "alert-warning", sending: "alert-info", sent: "alert-success", error: "alert-danger" };
    card.className = "pending-answer alert small py-2 px-2 mt-2 mb-0 " + colours[state];
    card.setAttribute("data-state", state);
    card.setAttribute("data-conflict", state === "error" && entry.conflict ? "true" : "false");
    card.textContent = "";
    var label = { pending: entry.kind === "complete" ? cfg.msgCompletion : cfg.msgPending, sending: cfg.msgSending,
                  sent: cfg.msgSent,
                  error: entry.conflict ? cfg.msgConflict : cfg.msgNotSent }[state];
    var head = el("div", "fw-semibold");
    head.appendChild(el("i", "bi " + (state === "sent" ? "bi-cloud-check" : state === "error" ? "bi-exclamation-octagon"
                                      : "bi-phone") + " me-1"));
    head.appendChild(document.createTextNode(label));
    card.appendChild(head);
    var what = summary(entry);
    if (what) { card.appendChild(el("div", "text-break", what)); }
    if (finding) { card.appendChild(el("span", "badge text-bg-danger", cfg.msgFinding)); }
    if (entry.note) { card.appendChild(el("div", "text-muted text-break", entry.note)); }
    var when = el("div", "text-muted");
    when.appendChild(el("i", "bi bi-clock me-1"));
    when.appendChild(document.createTextNode(phoneTime(entry.kind === "complete" ? entry.completed_at : entry.answered_at)));
    if (entry.latitude !== undefined && entry.latitude !== null) {
      when.appendChild(document.createTextNode(" · "));
      when.appendChild(el("i", "bi bi-geo-alt"));
      when.appendChild(document.createTextNode(" ±" + entry.accuracy_m + " m"));
    }
    card.appendChild(when);
    if (state === "error") {
      card.appendChild(el("div", "mt-1 error-message", entry.error));
      var buttons = el("div", "d-flex flex-wrap gap-2 mt-2");
      var retry = el("button", "btn btn-sm btn-outline-primary", cfg.msgSendAgain);
      retry.type = "button";
      retry.setAttribute("data-send-again", "");
      retry.addEventListener("click", function () { sendAgain(entry); });
      var remove = el("button", "btn btn-sm btn-outline-danger", cfg.msgRemove);
      remove.type = "button";
      remove.setAttribute("data-remove", "");
      remove.addEventListener("click", function () {
        if (window.confirm(cfg.msgRemoveConfirm)) { queue.remove(entry.key).then(function () { card.remove(); refresh(); }); }
      });
      buttons.appendChild(retry);
      buttons.appendChild(remove);
      card.appendChild(buttons);
    }
  }

  function setStatus(kind, text, link) {
    status.className = "alert small py-2 px-2 mb-2 alert-" + kind;
    status.textContent = text;
    if (link) {
      status.appendChild(document.createTextNode(" "));
      var a = el("a", "alert-link", link.text);
      a.href = link.href;
      status.appendChild(a);
    }
    status.hidden = false;
  }

  // The banner above the round: offline, waiting, refused, all sent; data-pending and data-state for tests.
  function refresh() {
    return queue.list(mine).then(function (entries) {
      var waiting = entries.filter(function (e) { return e.status !== "error"; }).length;
      var refused = entries.length - waiting;
      root.setAttribute("data-pending", String(entries.length));
      var state;
      if (signedOut) {
        state = "signed-out";
        setStatus("danger", cfg.msgSignedOut, { text: cfg.msgSignIn, href: cfg.loginUrl });
      } else if (navigator.onLine === false || unreachable) {
        state = "offline";
        setStatus("warning", cfg.msgOffline + (waiting ? " " + cfg.msgWaiting + " " + waiting : ""));
      } else if (waiting) {
        state = "waiting";
        setStatus("info", cfg.msgWaiting + " " + waiting);
      } else if (refused) {
        state = "refused";
        setStatus("danger", cfg.msgErrors + " " + refused);
      } else if (done || sentNow) {
        state = "sent";
        setStatus("success", done ? cfg.msgDone : cfg.msgAllSent, { text: cfg.msgReload, href: window.location.pathname });
      } else {
        state = "idle";
        status.hidden = true;
      }
      root.setAttribute("data-state", state);
      openCompletionWhenAllAnswered(entries);
    });
  }

  function openCompletionWhenAllAnswered(entries) {
    var panel = document.querySelector('details.action-panel[data-action="complete"]');
    if (panel && done) { panel.open = false; panel.hidden = true; return; }  // completed: nothing more to send here
    if (!panel || panel.open || entries.some(function (e) { return e.kind === "complete"; })) { return; }
    var items = document.querySelectorAll(".checklist-item[data-kind]");
    var all = Array.prototype.every.call(items, function (li) {
      return li.querySelector(".answer") || li.querySelector(".pending-answer");
    });
    if (items.length && all) { panel.open = true; }
  }

  // ---------------------------------------------------------------------------------------------- answering

  // An item answered on the phone folds its form away ("Answer again"), like an item the server has an answer for;
  // an answer refused unfolds it, for the correction.
  function fold(li, folded) {
    var form = li && li.querySelector("form.answer-form");
    if (!form) { return; }
    var details = form.closest("details");
    if (!details && folded) {
      details = el("details", "mt-1");
      details.appendChild(el("summary", "small", cfg.msgAnswerAgain));
      form.parentNode.insertBefore(details, form);
      details.appendChild(form);
    }
    if (details) { details.open = !folded; }
  }

  function field(form, suffix) { return form.querySelector('[name$="-' + suffix + '"]'); }

  function read(form, li) {
    var checked = form.querySelector('input[name$="-passed"]:checked');
    var reading = field(form, "reading"), text = field(form, "text"), note = field(form, "note");
    var photo = field(form, "photo");
    var file = photo && photo.files && photo.files[0] ? photo.files[0] : null;
    var section = li.closest(".device-check");
    var entry = {
      kind: "answer", round: roundId, user: userId, url: cfg.answersUrl, client_id: newId(), status: "pending",
      error: "", conflict: false,
      device: Number(section.dataset.device), item: Number(li.dataset.item), answered_at: new Date().toISOString(),
      passed: checked ? checked.value === "true" : null,
      reading: reading ? reading.value.trim() : null, readingBad: !!(reading && reading.validity && reading.validity.badInput),
      text: text ? text.value.trim() : "", note: note ? note.value.trim() : "",
      photo: file, photo_name: file ? (file.name || "photo.jpg") : ""
    };
    var fix = position();
    Object.keys(fix).forEach(function (key) { entry[key] = fix[key]; });
    return entry;
  }

  // What the server would refuse at once (services._value, services._evidence), said before it is kept.
  function problem(entry, li) {
    var kind = li.dataset.kind, label = li.dataset.label;
    function say(message) { return message.split("{item}").join(label); }
    if (kind === "pass_fail" && entry.passed === null) { return say(cfg.needPassed); }
    if (kind === "reading" && (!entry.reading || entry.readingBad)) { return say(cfg.needReading); }
    if (kind === "text" && !entry.text) { return say(cfg.needText); }
    if (entry.photo) { return null; }
    if (kind === "photo") { return say(cfg.needPhoto); }
    if (kind === "pass_fail" && entry.passed === false) { return say(cfg.needFailedPhoto); }
    if (li.dataset.evidence === "true") { return say(cfg.needEvidence); }
    return null;
  }

  function formMessage(form, text) {
    var box = form.querySelector(".offline-form-error");
    if (!text) { if (box) { box.remove(); } return; }
    if (!box) {
      box = el("div", "offline-form-error alert alert-danger small py-1 px-2 mb-2");
      box.setAttribute("role", "alert");
      form.insertBefore(box, form.firstChild);
    }
    box.textContent = text;
  }

  document.querySelectorAll("form.answer-form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var li = form.closest(".checklist-item");
      if (!li || !li.dataset.kind) { return; }
      event.preventDefault();
      var entry = read(form, li);
      var wrong = problem(entry, li);
      formMessage(form, wrong);
      if (wrong) { return; }
      delete entry.readingBad;
      // An answer of this item refused before is replaced by this one (it was never stored: nothing to keep).
      queue.list(function (e) { return mine(e) && e.kind === "answer" && e.device === entry.device
                                        && e.item === entry.item && e.status === "error"; })
        .then(function (refused) {
          return Promise.all(refused.map(function (old) {
            var card = cardOf(old);
            if (card) { card.remove(); }
            return queue.remove(old.key);
          }));
        })
        .then(function () { return queue.add(entry); })
        .then(function (key) {
          entry.key = key;
          form.reset();
          fold(li, true);
          show(entry, "pending");
          return refresh().then(flush);
        }, function () {
          formMessage(form, cfg.msgNotKept);  // no room or no IndexedDB: send it the old way when possible
          if (navigator.onLine !== false) { HTMLFormElement.prototype.submit.call(form); }
        });
    });
  });

  var completeForm = document.querySelector('form.action-form[data-action="complete"]');
  if (completeForm) {
    completeForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var version = completeForm.querySelector('[name="version"]');
      var text = completeForm.querySelector('[name="summary"]');
      var entry = { kind: "complete", round: roundId, user: userId, url: cfg.completeUrl, round_url: cfg.roundUrl,
                    client_id: newId(), status: "pending", error: "", conflict: false, version: Number(version && version.value), completed_at: new Date().toISOString(),
                    summary: text ? text.value.trim() : "" };
      queue.list(function (e) { return mine(e) && e.kind === "complete"; }).then(function (kept) {
        var waiting = kept.filter(function (e) { return e.status !== "error"; });
        if (waiting.length) { return null; }  // completed once already on this phone: that time stands
        return Promise.all(kept.map(function (old) {
          var card = cardOf(old);
          if (card) { card.remove(); }
          return queue.remove(old.key);
        })).then(function () { return queue.add(entry); });
      }).then(function (key) {
        if (key !== null) { entry.key = key; show(entry, "pending"); }
        var panel = completeForm.closest("details");
        if (panel) { panel.open = false; }
        return refresh().then(flush);
      }, function () {
        if (navigator.onLine !== false) { HTMLFormElement.prototype.submit.call(completeForm); }
      });
    });
  }

  // ---------------------------------------------------------------------------------------------- sending

  function payload(entry) {
    if (entry.kind === "complete") {
      return { version: entry.version, completed_at: entry.completed_at, summary: entry.summary };
    }
    var body = { client_id: entry.client_id, device: entry.device, item: entry.item, answered_at: entry.answered_at,
                 text: entry.text, note: entry.note };
    if (entry.passed !== null) { body.passed = entry.passed; }
    if (entry.reading) { body.reading = entry.reading; }
    ["latitude", "longitude", "accuracy_m"].forEach(function (key) {
      if (entry[key] !== undefined && entry[key] !== null) { body[key] = entry[key]; }
    });
    return body;
  }

  function post(entry) {
    var headers = { "X-CSRFToken": csrfToken(), "Accept": "application/json" };
    var body = payload(entry), sent;
    if (entry.kind === "answer" && entry.photo) {
      sent = new FormData();
      Object.keys(body).forEach(function (key) { sent.append(key, String(body[key])); });
      sent.append("photo", entry.photo, entry.photo_name || "photo.jpg");
    } else {
      headers["Content-Type"] = "application/json";
      sent = JSON.stringify(body);
    }
    return fetch(entry.url, { method: "POST", headers: headers, body: sent, credentials: "same-origin" });
  }

  function messageOf(body) {
    if (!body || typeof body !== "object") { return cfg.msgUnreadable; }
    if (typeof body.detail === "string") { return body.detail; }
    var parts = [];
    Object.keys(body).forEach(function (key) {
      var value = body[key];
      if (key === "code") { return; }
      if (Array.isArray(value)) { parts = parts.concat(value.map(String)); }
      else if (typeof value === "string") { parts.push(value); }
    });
    return parts.join(" ") || cfg.msgUnreadable;
  }

  function json(response) { return response.json().catch(function () { return null; }); }

  function later() {
    failures += 1;
    retryAt = Date.now() + Math.min(60000, 2000 * Math.pow(2, failures));
  }

  // A completion sent before whose answer was lost: the round is done with this phone's time already.
  function completedAlready(entry) {
    return fetch(entry.round_url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (round) {
        return !!(round && round.state === "done" && round.completed_at
                  && Math.abs(new Date(round.completed_at) - new Date(entry.completed_at)) < 1);
      }, function () { return false; });
  }

  function accepted(entry, body) {
    failures = 0;
    if (entry.round === roundId) { sentNow += 1; }
    if (entry.kind === "complete" && entry.round === roundId) { done = true; }
    show(entry, "sent", body && body.finding);
    return queue.remove(entry.key).then(function () { return false; });
  }

  // One entry; resolves true when the pass should stop (no network, signed out, the server busy).
  function sendOne(entry) {
    show(entry, "sending");
    return post(entry).then(function (response) {
      var code = response.status;
      unreachable = false;
      if (code === 200 || code === 201) { return json(response).then(function (body) { return accepted(entry, body); }); }
      if (code === 401) { signedOut = true; show(entry, "pending"); return true; }
      if (code === 408 || code === 429 || code >= 500 || code < 400) { later(); show(entry, "pending"); return true; }
      return json(response).then(function (body) {
        var check = code === 409 && entry.kind === "complete" ? completedAlready(entry) : Promise.resolve(false);
        return check.then(function (already) {
          if (already) { return accepted(entry, null); }
          entry.status = "error";
          entry.conflict = code === 409;
          entry.error = messageOf(body);
          show(entry, "error");
          if (entry.kind === "answer") { fold(itemOf(entry), false); }
          return queue.put(entry).then(function () { return false; });
        });
      });
    }, function () { unreachable = true; later(); show(entry, "pending"); return true; });
  }

  function flush() {
    if (sending) { again = true; return Promise.resolve(); }
    if (navigator.onLine === false || Date.now() < retryAt) { return refresh(); }
    sending = true;
    again = false;
    return queue.list(theirs).then(function (entries) {
      return entries.filter(function (e) { return e.status !== "error"; }).reduce(function (chain, entry) {
        return chain.then(function (stop) { return stop ? true : sendOne(entry); });
      }, Promise.resolve(false));
    }).then(function (stopped) {
      if (!stopped) { signedOut = false; }
    }, function () { later(); }).then(function () {
      sending = false;
      return refresh();
    }).then(function () { if (again) { return flush(); } });
  }

  function sendAgain(entry) {
    entry.status = "pending";
    entry.error = "";
    entry.conflict = false;
    retryAt = 0;
    var fresh = Promise.resolve();
    if (entry.kind === "complete") {  // the round may have moved on: complete the version it is now
      fresh = fetch(entry.round_url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (round) { if (round && round.version) { entry.version = round.version; } }, function () {});
    }
    fresh.then(function () { return queue.put(entry); }).then(function () { show(entry, "pending"); return flush(); });
  }

  // ---------------------------------------------------------------------------------------------- the page kept

  function keepPage(registration) {
    var worker = registration.active || navigator.serviceWorker.controller;
    if (!worker || !window.MessageChannel) { return; }
    var channel = new MessageChannel();
    channel.port1.onmessage = function (event) {
      if (event.data && event.data.kept) { document.documentElement.setAttribute("data-offline-ready", "true"); }
    };
    worker.postMessage({ type: "keep-page", url: window.location.pathname, user: userId,
                         controlled: !!navigator.serviceWorker.controller }, [channel.port2]);
  }

  if ("serviceWorker" in navigator && window.isSecureContext) {
    navigator.serviceWorker.register(cfg.workerUrl, { scope: cfg.workerScope }).catch(function () {});
    navigator.serviceWorker.ready.then(keepPage);
    document.querySelectorAll('form[action="' + cfg.logoutUrl + '"]').forEach(function (form) {
      form.addEventListener("submit", function () {  // the kept pages go with the session; unsent answers stay
        if (navigator.serviceWorker.controller) { navigator.serviceWorker.controller.postMessage({ type: "forget" }); }
      });
    });
  }

  // ---------------------------------------------------------------------------------------------- start

  // A phone says "online" a moment before its connection carries anything: the first try waits a second.
  window.addEventListener("online", function () { retryAt = 0; failures = 0; refresh(); setTimeout(flush, 1000); });
  window.addEventListener("offline", refresh);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { flush(); } });
  setInterval(function () { if (!sending) { flush(); } }, TICK);

  queue.list(mine).then(function (entries) {
    entries.forEach(function (entry) {
      show(entry, entry.status === "error" ? "error" : "pending");
      if (entry.kind === "answer") { fold(itemOf(entry), entry.status !== "error"); }
    });
  }).then(flush, function () {});
})();
