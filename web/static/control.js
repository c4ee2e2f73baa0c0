/* The coach's pages: send this device's clock with the date form, and keep
   what the page shows up to date. A section with data-refresh-on="run queue"
   is fetched again and swapped in place on those events, keeping what is under
   the finger where it was; data-reload-on reloads the page (a new session).
   Neither touches a part the coach is typing in. */
(function () {
  "use strict";
  var form = document.getElementById("clock-form");
  var shown = document.getElementById("device-now");
  function tick() { if (shown) shown.textContent = new Date().toLocaleString(undefined, { weekday: "short", day: "2-digit", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" }); }
  tick(); setInterval(tick, 15000);
  if (form) form.addEventListener("submit", function () {
    var now = new Date();
    document.getElementById("epoch_ms").value = String(now.getTime());
    document.getElementById("tz_minutes").value = String(-now.getTimezoneOffset());
  });

  // A correction (drop, attach, split, merge, athlete, undo), on Control or History, is sent without leaving the page: the runs
  // come back in place, the corrected run open, a refusal next to it.
  document.addEventListener("submit", function (e) {
    var f = e.target, runs = document.getElementById("runs");
    if (!runs || !f.closest || !f.closest("details.corrections, #runs .history") || !window.fetch || !window.DOMParser) return;
    e.preventDefault();
    fetch(f.action, { method: "POST", body: new FormData(f), credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html"), theirs = doc.getElementById("runs"), said = doc.querySelector(".flash");
      if (!theirs) { location.reload(); return; }
      runs.innerHTML = theirs.innerHTML;
      var old = document.querySelector("main > .flash");
      if (old) old.remove();
      if (said) runs.parentNode.insertBefore(said, runs.parentNode.querySelector("h1").nextSibling);
      var opened = runs.querySelector("details.corrections[open]");
      if (opened) opened.scrollIntoView({ block: "nearest" });
      document.dispatchEvent(new CustomEvent("gatectl:corrected"));  // for tests
    }).catch(function () { f.submit(); });
  });

  var parts = document.querySelectorAll("[data-refresh-on]"), whole = document.querySelector("[data-reload-on]");
  if (!window.EventSource || (!parts.length && !whole)) return;

  // Typing, a menu open or a field changed: the coach is using that part; it waits for them.
  function busy(section) {
    var a = document.activeElement;
    return section.dataset.dirty === "1" || (section.contains(a) && /^(INPUT|SELECT|TEXTAREA)$/.test(a.tagName));
  }
  document.addEventListener("input", function (e) {
    var section = e.target.closest && e.target.closest("section");
    if (section) section.dataset.dirty = "1";
  });

  // The whole page again (a new session changes everything on it), once the coach is not typing.
  var pending = null;
  function reload() {
    clearTimeout(pending);
    pending = setTimeout(function again() {
      if (Array.prototype.some.call(document.querySelectorAll("section"), busy)) pending = setTimeout(again, 2000); else location.reload();
    }, 400);
  }

  // A part swapped for its new version; a run the coach opened for correction stays open.
  function swap(mine, theirs) {
    var open = Array.prototype.map.call(mine.querySelectorAll("details[open][id]"), function (d) { return d.id; });
    mine.innerHTML = theirs.innerHTML;
    open.forEach(function (id) { var d = document.getElementById(id); if (d) d.open = true; });
  }

  // A part in place: fetched again and swapped, with what is under the finger kept where it was.
  var stale = {}, fetching = false, more = false;
  function anchor() {
    var keyed = Array.prototype.slice.call(document.querySelectorAll("[data-key]")).concat(Array.prototype.slice.call(document.querySelectorAll("section[id]")));
    for (var i = 0; i < keyed.length; i++) {
      var r = keyed[i].getBoundingClientRect();
      if (r.bottom > 0 && r.top < window.innerHeight) return { key: keyed[i].dataset.key || keyed[i].id, top: r.top };
    }
    return null;
  }
  function find(key) { return document.querySelector('[data-key="' + key + '"]') || document.getElementById(key); }
  function refresh() {
    if (fetching) { more = true; return; }
    fetching = true;
    fetch(location.pathname, { cache: "no-store", credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html"), held = anchor();
      Object.keys(stale).forEach(function (id) {
        var mine = document.getElementById(id), theirs = doc.getElementById(id);
        if (!mine || !theirs || busy(mine)) return;  // a busy part is brought up to date when the coach leaves it
        swap(mine, theirs);
        delete stale[id];
      });
      var now = held && find(held.key);
      if (now) window.scrollBy(0, now.getBoundingClientRect().top - held.top);
      document.dispatchEvent(new CustomEvent("gatectl:refreshed"));  // for tests
    }).catch(function () {}).then(function () {
      fetching = false;
      if (more) { more = false; refresh(); }
    });
  }
  function mark(kind) {
    Array.prototype.forEach.call(parts, function (section) {
      if (section.dataset.refreshOn.split(" ").indexOf(kind) >= 0) stale[section.id] = true;
    });
    refresh();
  }
  document.addEventListener("focusout", function () { setTimeout(function () { if (Object.keys(stale).length) refresh(); }, 300); });

  var kinds = {}, first = true;
  Array.prototype.forEach.call(parts, function (section) { section.dataset.refreshOn.split(" ").forEach(function (k) { kinds[k] = "part"; }); });
  if (whole) whole.dataset.reloadOn.split(" ").forEach(function (k) { kinds[k] = "page"; });
  function catchUp() {  // back after a lost connection
    if (whole && !parts.length) reload(); else Object.keys(kinds).forEach(function (k) { if (kinds[k] === "part") mark(k); });
  }
  window.GatectlStream({  // the browser's one stream, shared with its other tabs (stream.js)
    since: function () { return null; },
    status: function (live) { if (live && !first) catchUp(); if (live) first = false; },
    on: function (kind, id, data) {
      if (kinds[kind] === "page") reload();
      else if (kinds[kind] === "part") mark(kind);
      else if (kind === "gate") {
        var g = JSON.parse(data), li = document.querySelector('.gates-inline [data-gate="' + g.gate + '"]');
        if (li) { li.className = "gate " + g.state; li.querySelector(".st").textContent = g.state; }
      }
    },
  });
})();
