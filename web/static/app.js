/* Shared by the pages: the light/dark switch (kept per device). */
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
