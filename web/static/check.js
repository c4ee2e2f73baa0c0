/* The Check page: ask /api/check twice a second, counting from when this page's check began. */
(function () {
  "use strict";
  var state = JSON.parse(document.getElementById("check-state").textContent);
  var since = state.check ? state.check.now_ns : null;
  var summary = document.getElementById("check-summary");
  var WORDS = { clear: "clear", broken: "broken", stuck: "STUCK — check the beam", unknown: "no signal yet" };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function render(s) {
    var c = s.check, problems = [];
    var body = document.querySelector("#beams tbody"), walk = document.getElementById("walk");
    body.textContent = ""; walk.textContent = "";
    if (c) {
      document.getElementById("beams").classList.toggle("single", c.gates.every(function (g) { return g.beams.length === 1; }));
      c.gates.forEach(function (g) {
        g.beams.forEach(function (b, i) {
          var tr = el("tr", "beam " + b.state + (b.flickering ? " flicker" : ""));
          tr.appendChild(el("th", "", i === 0 ? g.gate : ""));
          tr.appendChild(el("td", "", b.beam === g.gate ? "—" : b.beam));
          var now = el("td", "state"); now.appendChild(el("span", "light")); now.appendChild(document.createTextNode(" " + WORDS[b.state]));
          tr.appendChild(now);
          tr.appendChild(el("td", "num", String(b.breaks)));
          tr.appendChild(el("td", "", b.flickering ? "FLICKERS" : "steady"));
          body.appendChild(tr);
          if (b.state === "stuck") problems.push(b.beam + " is stuck");
          else if (b.state === "unknown") problems.push(b.beam + " has sent nothing");
          if (b.flickering) problems.push(b.beam + " flickers");
        });
        var li = el("li", g.ticked ? "done" : g.gate === c.walk.next ? "next" : "");
        li.dataset.gate = g.gate;
        li.appendChild(el("span", "tick", g.ticked ? "✓" : g.gate === c.walk.next ? "→" : "·"));
        li.appendChild(el("span", "name", g.gate));
        li.appendChild(el("span", "what", g.ticked ? "saw the hand" : g.gate === c.walk.next ? "pass a hand through it now" : "waiting"));
        walk.appendChild(li);
      });
    }
    var faulty = renderNodes(s.nodes, problems), nodes = document.getElementById("nodes");
    nodes.textContent = s.nodes_message || (faulty ? "⚠ " + faulty + " of " : "✓ ") + s.nodes.length + " gate node(s) " + (faulty ? "to fix" : "connected and in sync") + ", above.";
    nodes.className = faulty ? "bad" : "";
    var disk = document.getElementById("disk");
    disk.textContent = (s.disk.ok ? "✓ " : "⚠ ") + (s.disk.reason || s.disk.free_gb.toFixed(1) + " GB free on the SD card.");
    disk.className = s.disk.ok ? "ok" : "bad";
    var clock = document.getElementById("clock");
    clock.textContent = "";
    clock.className = s.clock.ok ? "ok" : "bad";
    clock.appendChild(document.createTextNode((s.clock.ok ? "✓ The Pi's date: " : "⚠ ") + (s.clock.ok ? new Date(s.clock.now).toLocaleString() + (s.clock.fixed ? " (set from a phone)" : "") + "." : s.clock.reason + " ")));
    if (!s.clock.ok) { var a = el("a", "", "Set the Pi's date from this phone (on Control, as the coach)"); a.href = s.clock.fix_url; clock.appendChild(a); problems.push("the date is wrong"); }
    if (!s.disk.ok) problems.push("the SD card is nearly full");
    if (!s.connected) summary.textContent = s.message;
    else if (problems.length) { summary.textContent = "To fix: " + problems.join("; ") + "."; summary.className = "message bad"; }
    else if (c && !c.walk.done) { summary.textContent = "Every beam is clear. Next: pass a hand through " + c.walk.next + "."; summary.className = "message"; }
    else { summary.textContent = "All set: every gate saw a hand and every beam is clear."; summary.className = "message ok"; }
  }

  function fixed(x, digits) { return x === null ? "—" : x.toFixed(digits); }

  var LINK_WORDS = { ok: "connected", syncing: "connected, syncing…", reconnecting: "LOST — reconnecting…", absent: "NOT CONNECTED", silent: "LOST — silent", refused: "REFUSED" };
  function renderNodes(nodes, problems) {
    var body = document.querySelector("#nodes-table tbody");
    var heads = Array.prototype.map.call(document.querySelectorAll("#nodes-table thead th"), function (th) { return th.textContent; });
    document.getElementById("nodes-card").hidden = !nodes.length;
    body.textContent = "";
    nodes.forEach(function (n) {
      var tr = el("tr", "node " + (n.problem ? "bad" : "ok"));
      tr.appendChild(el("th", "", n.beams.join("/")));
      var where = el("td", "where", n.node || n.port);
      if (n.error) where.title = n.error;
      tr.appendChild(where);
      var link = el("td", "state"); link.appendChild(el("span", "light"));
      link.appendChild(document.createTextNode(" " + (LINK_WORDS[n.state] || n.state) + (n.state === "silent" ? " " + Math.round(n.heard_s_ago) + " s" : "")));
      tr.appendChild(link);
      tr.appendChild(el("td", "num", fixed(n.sync_uncertainty_us, 0)));
      tr.appendChild(el("td", "num", fixed(n.drift_ppm, 1)));
      tr.appendChild(el("td", "num", fixed(n.round_trip_ms, 2)));
      tr.appendChild(el("td", "num", n.buffer === null ? "—" : n.buffer + (n.capacity ? " / " + n.capacity : "")));
      tr.appendChild(el("td", "num", String(n.lines)));
      tr.appendChild(el("td", "num", String(n.bad_lines)));
      Array.prototype.forEach.call(tr.children, function (cell, i) { cell.setAttribute("data-label", heads[i]); });  // a phone shows a node as a card
      body.appendChild(tr);
      if (n.problem) problems.push(n.problem);
    });
    return nodes.filter(function (n) { return n.problem; }).length;
  }

  function poll() {
    if (!state.connected) return;
    fetch("/api/check" + (since !== null ? "?since=" + since : ""), { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (s) { if (since === null && s.check) since = s.check.since_ns; render(s); })
      .catch(function () { summary.textContent = "Lost the Pi: retrying…"; summary.className = "message bad"; })
      .then(function () { setTimeout(poll, 500); });
  }

  document.getElementById("check-again").addEventListener("click", function () { since = null; poll(); });
  render(state);
  setTimeout(poll, 500);
})();
