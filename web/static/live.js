/* The live page: state from the page, then Server-Sent Events from /api/stream.
   No library, no network but this server. */
(function () {
  "use strict";
  var S = JSON.parse(document.getElementById("state").textContent);
  var $ = function (id) { return document.getElementById(id); };
  var last = S.since;          // id of the last event applied: resume point
  var replayUpTo = S.since;    // events up to here are catch-up: no sound
  var heartbeat = 15, es = null, watchdog = null, retry = null;
  var shownId = null;
  var prefs = { beep: false, speak: false };
  try { prefs.beep = localStorage.getItem("gatectl.beep") === "1"; prefs.speak = localStorage.getItem("gatectl.speak") === "1"; } catch (e) {}

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function f2(x) { return x == null ? "—" : x.toFixed(2); }
  function f1(x) { return x == null ? "—" : x.toFixed(1); }
  function shown(run) { return run.status === "complete" || run.status === "incomplete"; }

  /* Rendering ------------------------------------------------------------------------- */

  function render() {
    renderHeader(); renderResult(); renderStrip(); renderGates(); renderNext();
  }

  function renderHeader() {
    var s = S.session, l = S.layout, txt = "";
    if (s) txt = "Session " + s.id + (s.place ? " · " + s.place : "") + (s.date ? " · " + s.date : "");
    if (l) txt += " · fly " + l.fly_m + " m · " + l.method;
    $("session").textContent = txt;
    $("disarmed").hidden = S.armed !== false;
    if (!S.connected) setConn("idle", "history only");
  }

  function latestComplete() {
    for (var i = S.runs.length - 1; i >= 0; i--) if (S.runs[i].status === "complete" && S.runs[i].fly) return S.runs[i];
    return null;
  }

  function paceBadge(run) {
    var box = $("pace"), p = run.vs_pace && run.vs_pace["400m"];
    box.textContent = "";
    if (!p) {
      box.className = "pace none";
      box.textContent = run.athlete ? "No 400 m time for " + run.athlete + ": add one under Athletes" : "No athlete: no pace comparison";
      return;
    }
    box.className = "pace " + (p.faster ? "faster" : "slower");
    box.appendChild(document.createTextNode((p.faster ? "▲ " : "▼ ") + p.percent.toFixed(1) + " % "));
    box.appendChild(el("small", null, "of 400 m pace · " + (p.faster ? "FASTER" : "SLOWER")));
    var p8 = run.vs_pace["800m"];
    box.title = p8 ? "800 m pace: " + p8.percent.toFixed(1) + " %" : "";
  }

  function renderResult() {
    var run = latestComplete(), newest = S.runs[S.runs.length - 1];
    var notice = $("notice");
    if (newest && newest.status === "incomplete" && (!run || newest.id !== run.id)) {
      notice.hidden = false;
      notice.textContent = "Run " + newest.number + (newest.athlete ? " (" + newest.athlete + ")" : "") + " incomplete";
      notice.appendChild(el("span", null, newest.reason || "a gate was missed"));
    } else notice.hidden = true;
    if (!run) {
      $("result").hidden = true; $("empty").hidden = false;
      $("empty-title").textContent = S.connected ? "Waiting for the first run" : (S.message || "History only — no gates connected").replace(/\.$/, "");
      var l = S.layout, text = $("empty-text");
      text.textContent = S.connected && l
        ? "Gates " + l.gates.map(function (g) { return g.gate + " " + g.position_m + " m"; }).join(" → ") + ". The fly time appears here as soon as an athlete passes the last gate."
        : "";
      if (!S.connected) {
        var a = el("a", null, "History");
        a.href = "/history";
        text.append("Past sessions and runs are in ", a, ".");
      }
      shownId = null;
      return;
    }
    $("empty").hidden = true; $("result").hidden = false;
    var fly = run.fly;
    $("name").textContent = run.athlete || "Unassigned";
    var sr = [];
    if (run.set != null) sr.push("Set " + run.set);
    if (run.rep != null) sr.push("Rep " + run.rep);
    if (!sr.length) sr.push("Run " + run.number);
    $("setrep").textContent = sr.join(" · ");
    $("fly").textContent = f2(fly.time_s);
    $("fly").dataset.timeS = fly.time_s;
    $("void").hidden = !run.voided;
    $("void").title = run.void_reason || "";
    var segs = run.segments || [];
    var last = segs[segs.length - 1];
    $("flylabel").textContent = "fly " + fly.distance_m + " m" + (last ? " · " + last.from + "→" + last.to : "");
    $("mps").textContent = f2(fly.velocity_mps);
    $("kmh").textContent = f1(fly.kmh);
    paceBadge(run);
    $("accel").textContent = segs.slice(0, -1).map(function (s) { return s.from + "→" + s.to + " " + f2(s.time_s) + " s"; }).join("   ");
    shownId = run.id;
  }

  function renderStrip() {
    var strip = $("strip"), prev = {};
    strip.textContent = "";
    S.runs.forEach(function (run) {
      var li = el("li", "rep " + run.status + (run.voided ? " voided" : "") + (run.id === shownId ? " current" : ""));
      li.appendChild(el("div", "n", "#" + run.number + " " + (run.athlete || "—")));
      if (run.fly) {
        li.appendChild(el("div", "t", f2(run.fly.time_s)));
        var v = el("div", "v", f2(run.fly.velocity_mps) + " m/s");
        var before = prev[run.athlete_id];
        if (before && !run.voided) {
          var d = run.fly.velocity_mps - before;
          v.appendChild(el("span", d >= 0 ? "up" : "down", d >= 0 ? " ▲" : " ▼"));
        }
        if (!run.voided) prev[run.athlete_id] = run.fly.velocity_mps;
        li.appendChild(v);
        var p = run.vs_pace && run.vs_pace["400m"];
        if (p) li.appendChild(el("div", "v " + (p.faster ? "up" : "down"), (p.faster ? "▲ " : "▼ ") + p.percent.toFixed(0) + " % 400"));
      } else li.appendChild(el("div", "t", "—"));
      if (run.voided) li.appendChild(el("div", "v", "void"));
      else if (run.status === "incomplete") li.appendChild(el("div", "v", "incomplete"));
      strip.appendChild(li);
    });
    strip.scrollLeft = strip.scrollWidth;
  }

  function renderGates() {
    var ul = $("gates");
    ul.textContent = "";
    if (!S.connected) return;
    var byName = {};
    (S.gates || []).forEach(function (g) { byName[g.gate] = g; });
    (S.layout ? S.layout.gates : []).forEach(function (g) {
      var st = (byName[g.gate] && byName[g.gate].state) || "clear";
      var li = el("li", "gate " + st);
      li.appendChild(el("span", "light"));
      li.appendChild(el("span", null, g.gate));
      li.appendChild(el("span", "state", st === "stuck" ? "STUCK — check the beam" : st));
      ul.appendChild(li);
    });
  }

  function renderNext() {
    var box = $("next");
    if (!S.queue || !S.queue.length) { box.hidden = true; return; }
    box.hidden = false;
    box.textContent = "";
    box.appendChild(el("small", null, "Next up"));
    box.appendChild(document.createTextNode(S.queue.map(function (a) { return a.name; }).join(", ")));
  }

  /* Events -------------------------------------------------------------------------------- */

  function onRun(run, fresh) {
    if (S.session && run.session !== S.session.id) { if (run.session > S.session.id) refetch(); return; }
    if (!shown(run)) return;
    var i, found = false;
    for (i = 0; i < S.runs.length; i++) if (S.runs[i].id === run.id) { S.runs[i] = run; found = true; }
    if (!found) S.runs.push(run);
    if (S.runs.length > 60) S.runs.shift();
    render();
    document.dispatchEvent(new CustomEvent("gatectl:run", { detail: { id: run.id } })); // for tests and the benchmark
    if (fresh && !found && run.status === "complete" && run.fly && !run.voided) say(run);
  }

  function refetch() {
    fetch("/api/live", { cache: "no-store" }).then(function (r) { return r.json(); }).then(function (state) {
      var since = last; S = state; last = Math.max(since, state.since); render();
    }).catch(function () {});
  }

  function handlers(source) {
    function on(kind, fn) {
      source.addEventListener(kind, function (e) {
        if (source !== es) return;
        var id = parseInt(e.lastEventId, 10);
        var fresh = !(id <= replayUpTo);
        if (id > last || kind === "hello" || kind === "reset") { if (id > last) last = id; fn(JSON.parse(e.data), fresh); }
        kick();
      });
    }
    on("hello", function (d) {
      if (d.boot !== S.boot) { location.reload(); return; }
      heartbeat = d.heartbeat_s || 15; replayUpTo = d.latest; setConn("on", "live");
    });
    on("reset", function () { refetch(); });
    on("ping", function () {});
    on("run", onRun);
    on("session", function () { refetch(); });
    on("armed", function (d) { S.armed = d.armed; renderHeader(); });
    on("queue", function (d) {
      var names = S.athletes || {}, unknown = false;
      S.queue = d.athletes.map(function (id) { if (!(id in names)) unknown = true; return { id: id, name: names[id] || "#" + id }; });
      if (unknown) refetch(); else renderNext();
    });
    on("gate", function (g) {
      var i, found = false;
      for (i = 0; i < S.gates.length; i++) if (S.gates[i].gate === g.gate) { S.gates[i] = g; found = true; }
      if (!found) S.gates.push(g);
      renderGates();
    });
    on("crossing", function (c, fresh) { if (fresh) beep(S.layout && S.layout.gates.length && c.gate === S.layout.gates[S.layout.gates.length - 1].gate); });
  }

  function setConn(cls, text) { var c = $("conn"); c.className = "conn " + cls; c.textContent = text; }

  function kick() {
    clearTimeout(watchdog);
    // No event or ping for 2.5 heartbeats: the connection is dead even if the socket is not.
    watchdog = setTimeout(function () { connect(); }, heartbeat * 2500 + 2000);
  }

  function connect() {
    if (!S.connected || !window.EventSource) return;
    if (es) es.close();
    clearTimeout(retry);
    var source = new EventSource("/api/stream?since=" + last);
    es = source;
    handlers(source);
    source.onerror = function () {
      if (source !== es) return;
      setConn("off", "reconnecting…");
      if (source.readyState === 2) retry = setTimeout(connect, 3000); // refused (busy): try again
    };
    kick();
  }

  /* Sound: per device, off by default; both work offline. -------------------------------- */

  var audio = null;
  function beep(high) {
    if (!prefs.beep) return;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var o = audio.createOscillator(), g = audio.createGain(), t = audio.currentTime;
      o.frequency.value = high ? 1320 : 880;
      g.gain.setValueAtTime(0.3, t); g.gain.exponentialRampToValueAtTime(0.001, t + 0.12);
      o.connect(g); g.connect(audio.destination); o.start(t); o.stop(t + 0.13);
    } catch (e) {}
  }
  function say(run) {
    if (!prefs.speak || !window.speechSynthesis) return;
    var text = run.fly.time_s.toFixed(2) + ", " + run.fly.velocity_mps.toFixed(1) + " metres per second";
    if (run.athlete) text = run.athlete + ", " + text;
    var u = new SpeechSynthesisUtterance(text);
    u.lang = "en-GB";
    window.speechSynthesis.cancel();
    window.speechSynthesis.speak(u);
  }
  function toggle(name, button) {
    prefs[name] = !prefs[name];
    try { localStorage.setItem("gatectl." + name, prefs[name] ? "1" : "0"); } catch (e) {}
    button.setAttribute("aria-pressed", String(prefs[name]));
    if (name === "beep" && prefs.beep) beep(false);
    if (name === "speak" && prefs.speak && window.speechSynthesis) window.speechSynthesis.speak(new SpeechSynthesisUtterance("Speaking results"));
  }
  ["beep", "speak"].forEach(function (name) {
    var b = $(name);
    b.setAttribute("aria-pressed", String(prefs[name]));
    b.addEventListener("click", function () { toggle(name, b); });
  });
  if (!window.speechSynthesis) $("speak").hidden = true;

  $("theme").addEventListener("click", function () {
    var root = document.documentElement;
    var dark = root.dataset.theme ? root.dataset.theme === "dark" : window.matchMedia("(prefers-color-scheme: dark)").matches;
    root.dataset.theme = dark ? "light" : "dark";
    try { localStorage.setItem("gatectl.theme", root.dataset.theme); } catch (e) {}
  });
  $("full").addEventListener("click", function () {
    var d = document;
    if (d.fullscreenElement) d.exitFullscreen(); else if (d.documentElement.requestFullscreen) d.documentElement.requestFullscreen().catch(function () {});
  });
  if (!document.documentElement.requestFullscreen) $("full").hidden = true;

  render();
  connect();
})();
