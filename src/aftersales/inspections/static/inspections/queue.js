// What an engineer's phone keeps until the server has it (issue 23 §4): one IndexedDB store of entries, each an
// answer or a round's completion, in the order they were made (an auto-increment key). Entries are plain objects,
// a photo among them as a Blob; nothing here talks to the server (offline-round.js sends them).
// window.AftersalesQueue: add(entry) -> key, put(entry), remove(key), list(filter) -> entries in order, count(filter).
(function () {
  "use strict";
  var NAME = "aftersales-offline", VERSION = 1, STORE = "queue";
  var opening = null;

  function promised(request) {
    return new Promise(function (resolve, reject) {
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function open() {
    if (!opening) {
      opening = new Promise(function (resolve, reject) {
        var request = window.indexedDB.open(NAME, VERSION);
        request.onupgradeneeded = function () {
          var store = request.result.createObjectStore(STORE, { keyPath: "key", autoIncrement: true });
          store.createIndex("round", "round", { unique: false });
        };
        request.onsuccess = function () {
          var db = request.result;
          db.onversionchange = function () { db.close(); opening = null; };  // a newer page upgrades the store
          resolve(db);
        };
        request.onerror = function () { opening = null; reject(request.error); };
        request.onblocked = function () { opening = null; reject(new Error("indexedDB blocked")); };
      });
    }
    return opening;
  }

  // One transaction per call: `work(store)` returns a request whose result is the answer.
  function run(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode), result;
        promised(work(tx.objectStore(STORE))).then(function (value) { result = value; }, reject);
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  function list(filter) {
    return run("readonly", function (store) { return store.getAll(); }).then(function (entries) {
      return (entries || []).filter(filter || function () { return true; })
        .sort(function (a, b) { return a.key - b.key; });
    });
  }

  window.AftersalesQueue = {
    available: function () {
      return typeof window.indexedDB !== "undefined" && typeof window.Promise !== "undefined";
    },
    add: function (entry) { return run("readwrite", function (store) { return store.add(entry); }); },
    put: function (entry) { return run("readwrite", function (store) { return store.put(entry); }); },
    remove: function (key) { return run("readwrite", function (store) { return store.delete(key); }); },
    list: list,
    count: function (filter) { return list(filter).then(function (entries) { return entries.length; }); }
  };
})();
