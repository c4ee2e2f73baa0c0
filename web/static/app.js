/* Shared by the pages: how a duration is written (window.gatectl.duration), the
   light/dark switch (kept per device), and "Go back" links. */
var gatectl = window.gatectl = {};

(function () {
  "use strict";
  function two(n) { return (n < 10 ? "0" : "") + n; }
  // A duration given in seconds, written exactly as gatectl.coaching.paces.format_duration_ns
  // writes it: rounded half up to `decimals` places (on whole nanoseconds, as the server does),
  // minutes from a minute on; `minutes` true: always (a rest, 0:07), false: never (75.30).
  gatectl.duration = function (s, decimals, minutes) {
    if (s == null) return "—";
    var unit = Math.pow(10, 9 - decimals), scale = Math.pow(10, decimals);
    var ticks = Math.floor((Math.round(Math.abs(s) * 1e9) + Math.floor(unit / 2)) / unit);
    var whole = Math.floor(ticks / scale), tail = decimals ? "." + String(ticks % scale).padStart(decimals, "0") : "";
    var sign = s < 0 ? "-" : "", h = Math.floor(whole / 3600), m = Math.floor(whole / 60) % 60, sec = whole % 60;
    if (minutes === false) return sign + whole + tail;
    if (h) return sign + h + ":" + two(m) + ":" + two(sec) + tail;
    if (m || minutes) return sign + m + ":" + two(sec) + tail;
    return sign + sec + tail;
  };
})();

(function () {
  "use strict";
  document.querySelectorAll("a[data-back]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (window.history.length > 1) { event.preventDefault(); window.history.back(); }
    });
  });
})();
(function () {
  "use strict";
  var button = document.getElementById("theme");
  if (!button) return;
  button.addEventListener("click", function () {
    var root = document.documentElement;
    var dark = root.dataset.theme ? root.dataset.theme === "dark" : window.matchMedia("(prefers-color-scheme: dark)").matches;
    root.dataset.theme = dark ? "light" : "dark";
    try { localStorage.setItem("gatectl.theme", root.dataset.theme); } catch (e) {}
  });
})();
