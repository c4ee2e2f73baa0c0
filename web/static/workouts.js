/* The Workouts page: a library session fills the notation box, the group
   keeps the order the athletes were ticked in, track fields show for track
   reps, and rests count down. The form works without this script. */
(function () {
  "use strict";
  var form = document.getElementById("start-form");
  if (form) {
    var slug = document.getElementById("slug"), text = document.getElementById("text");
    slug.addEventListener("change", function () {
      var chosen = slug.options[slug.selectedIndex];
      if (chosen.dataset.text) text.value = chosen.dataset.text;
    });
    // Running order = ticking order: shown by each name, posted in that order.
    var order = [], boxes = Array.prototype.slice.call(form.querySelectorAll("input[name=athletes]"));
    boxes.forEach(function (box) { if (box.checked) order.push(box); });
    function show() {
      boxes.forEach(function (box) {
        var i = order.indexOf(box);
        box.parentNode.querySelector(".order").textContent = i < 0 ? "" : " " + (i + 1);
      });
    }
    boxes.forEach(function (box) {
      box.addEventListener("change", function () {
        order = order.filter(function (b) { return b !== box; });
        if (box.checked) order.push(box);
        show();
      });
    });
    show();
    form.addEventListener("submit", function () {
      order.forEach(function (box) {
        var hidden = document.createElement("input");
        hidden.type = "hidden"; hidden.name = "athletes"; hidden.value = box.value;
        form.appendChild(hidden);
      });
      boxes.forEach(function (box) { box.name = ""; });
    });
    var trackOnly = form.querySelector(".track-only");
    function timing() { trackOnly.hidden = !form.querySelector("input[name=timing][value=track]").checked; }
    Array.prototype.forEach.call(form.querySelectorAll("input[name=timing]"), function (r) { r.addEventListener("change", timing); });
    timing();
  }
  // Rests count down on this device's clock from what was left when the page was made.
  var loaded = performance.now(), counters = document.querySelectorAll("[data-count-ms]");
  function tick() {
    Array.prototype.forEach.call(counters, function (c) {
      var left = Math.ceil(Math.max(0, parseInt(c.dataset.countMs, 10) - (performance.now() - loaded)) / 1000);
      c.textContent = gatectl.duration(left, 0, true);
    });
  }
  if (counters.length) { tick(); setInterval(tick, 250); }
})();
