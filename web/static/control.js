/* The coach's pages: send this device's clock with the date form, and reload
   when what the page shows changes (the event kinds in its data-reload-on),
   unless the coach is typing. */
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

  var watched = document.querySelector("[data-reload-on]");
  if (!window.EventSource || !watched) return;
  var dirty = false, pending = null;
  document.addEventListener("input", function () { dirty = true; });
  function busy() { var a = document.activeElement; return dirty || (a && /^(INPUT|SELECT|TEXTAREA)$/.test(a.tagName)); }
  function reload() {
    clearTimeout(pending);
    pending = setTimeout(function again() { if (busy()) pending = setTimeout(again, 2000); else location.reload(); }, 400);
  }
  var es = new EventSource("/api/stream"), first = true;
  watched.dataset.reloadOn.split(" ").forEach(function (kind) { es.addEventListener(kind, reload); });
  es.addEventListener("gate", function (e) {
    var g = JSON.parse(e.data), li = document.querySelector('.gates-inline [data-gate="' + g.gate + '"]');
    if (li) { li.className = "gate " + g.state; li.querySelector(".st").textContent = g.state; }
  });
  es.addEventListener("hello", function () { if (!first) reload(); first = false; });
})();
