/* Shared by the pages: the light/dark switch (kept per device), and a refused form brought into view. */
(function () {
  "use strict";
  // A form that came back refused: its sentence in the middle of the screen, the field to fix focused.
  var refusal = document.querySelector(".field-error[role=alert]");
  if (refusal) {
    refusal.scrollIntoView({ block: "center" });
    var field = document.querySelector("[aria-invalid=true]");
    if (field) field.focus({ preventScroll: true });
  }
  var button = document.getElementById("theme");
  if (!button) return;
  button.addEventListener("click", function () {
    var root = document.documentElement;
    var dark = root.dataset.theme ? root.dataset.theme === "dark" : window.matchMedia("(prefers-color-scheme: dark)").matches;
    root.dataset.theme = dark ? "light" : "dark";
    try { localStorage.setItem("gatectl.theme", root.dataset.theme); } catch (e) {}
  });
})();
