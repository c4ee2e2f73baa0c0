/* The live page: state from the page, then Server-Sent Events from /api/stream.
   A workout adds its panel: who runs next, the target, the recovery countdown
   (counted on this device's clock from what the server said was left), the
   group, quality warnings, the coach's taps, and the summary at the end.
   No library, no network but this server. */
(function () {
  "use strict";
  var S = JSON.parse(document.getElementById("state").textContent);
  var $ = function (id) { return document.getElementById(id); };
  var last = S.since;          // id of the last event applied: resume point
  var replayUpTo = S.since;    // events up to here are catch-up: no sound
  var heartbeat = 15, stream = null, watchdog = null;
  var shownId = null;
  var prefs = { beep: false, speak: false };
  try { prefs.beep = localStorage.getItem("gatectl.beep") === "1"; prefs.speak = localStorage.getItem("gatectl.speak") === "1"; } catch (e) {}

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  var duration = gatectl.duration;  // app.js: every duration on the page is written by it
  function f2(x) { return x == null ? "—" : x.toFixed(2); }
  function f1(x) { return x == null ? "—" : x.toFixed(1); }
  function shown(run) { return run.status === "complete" || run.status === "incomplete"; }
  function timed(run) { return run.fly || (run.lap && run.lap.time_s != null ? run.lap : null); }
  function secs(s) { return duration(s, 2, false); }  // a fly or a short rep: 3.42
  function raceTime(s) { return duration(s, s < 60 ? 2 : 1); }  // a track rep: 58.42, 1:19.4
  function rest(s) { return duration(Math.floor(s), 0, true); }  // whole seconds: 1:05, 0:07
  function diff(s) { return (s < 0 ? "−" : "+") + secs(Math.abs(s)) + " s"; }
  function withUnit(s) { return raceTime(s) + (s < 60 ? " s" : ""); }

  /* Rendering ------------------------------------------------------------------------- */

  function render() {
    renderHeader(); renderResult(); renderStrip(); renderGates(); renderNodes(); renderNext(); renderWorkout();
  }

  function renderHeader() {
    var s = S.session, l = S.layout, txt = "";
    if (s) txt = "Session " + s.id + (s.place ? " · " + s.place : "") + (s.date ? " · " + s.date : "");
    if (l) txt += l.track ? " · track: " + l.track.gate + " on the line, " + l.track.lap_m + " m lap" : " · fly " + l.fly_m + " m · " + l.method;
    $("session").textContent = txt;
    $("disarmed").hidden = S.armed !== false;
    if (!S.connected) setConn("idle", "history only");
    renderFaults();
  }

  function renderFaults() {
    var f = S.faults || [], box = $("faults");
    box.hidden = !f.length;
    box.textContent = f.map(function (x) { return "⚠ " + x.message; }).join(" · ");
  }

  function latestComplete() {
    for (var i = S.runs.length - 1; i >= 0; i--) if (S.runs[i].status === "complete" && timed(S.runs[i])) return S.runs[i];
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

  // A voided run does not count: no verdict beside it, the reason instead.
  function voidNote(run) {
    var box = $("pace");
    box.className = "pace none";
    box.textContent = "Voided" + (run.void_reason ? ": " + run.void_reason : "") + " · does not count";
  }

  // A track rep against its target time: the difference in seconds, coloured by the verdict.
  function targetBadge(run) {
    var box = $("pace"), c = run.lap.check;
    box.textContent = "";
    if (!c) { box.className = "pace none"; box.textContent = "No target time for this rep"; return; }
    box.className = "pace verdict-" + c.verdict;
    box.appendChild(document.createTextNode(diff(c.diff_s) + " "));
    box.appendChild(el("small", null, "vs " + withUnit(run.lap.target_s) + " · " + c.verdict.replace("-", " ").toUpperCase()));
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
      $("empty-title").textContent = S.connected ? "Waiting for the first " + (S.workout ? "rep" : "run") : (S.message || "History only — no gates connected").replace(/\.$/, "");
      var l = S.layout, text = $("empty-text");
      text.textContent = S.workout ? S.workout.text : S.connected && l
        ? "Gates " + l.gates.map(function (g) { return g.gate + " " + g.position_m + " m"; }).join(" → ") + ". The " + (l.track ? "rep's time" : "fly time") + " appears here as soon as " + (l.track ? "it ends at the line." : "an athlete passes the last gate.")
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
    var fly = timed(run);
    $("name").textContent = run.athlete || "Unassigned";
    var sr = [];
    if (run.set != null) sr.push("Set " + run.set);
    if (run.rep != null) sr.push("Rep " + run.rep);
    if (!sr.length) sr.push("Run " + run.number);
    $("setrep").textContent = sr.join(" · ");
    $("fly").textContent = run.lap ? raceTime(fly.time_s) : secs(fly.time_s);
    var digits = $("fly").textContent.length;  // 3.42 fits; 29.00 and a lap time, 1:19.4, need smaller digits
    $("fly").classList.toggle("long", digits === 5);
    $("fly").classList.toggle("longer", digits > 5);
    document.querySelector("#result .unit").hidden = $("fly").textContent.indexOf(":") >= 0;
    $("fly").dataset.timeS = fly.time_s;
    $("void").hidden = !run.voided;
    $("void").title = run.void_reason || "";
    $("mps").textContent = f2(fly.velocity_mps);
    $("kmh").textContent = f1(fly.kmh);
    if (run.lap) {
      $("flylabel").textContent = run.lap.distance_m + " m · " + run.lap.start + " start";
      if (run.voided) voidNote(run); else targetBadge(run);
      $("accel").textContent = run.lap.splits_s.length > 1 ? "splits " + run.lap.splits_s.map(raceTime).join(" · ") : "";
    } else {
      var segs = run.segments || [];
      var last = segs[segs.length - 1];
      $("flylabel").textContent = "fly " + fly.distance_m + " m" + (last ? " · " + last.from + "→" + last.to : "");
      if (run.voided) voidNote(run); else paceBadge(run);
      $("accel").textContent = segs.slice(0, -1).map(function (s) { return s.from + "→" + s.to + " " + secs(s.time_s) + " s"; }).join("   ");
    }
    var flagged = run.sync && run.sync.flagged;  // the gate nodes' clocks may have moved its times too far
    $("syncflag").hidden = !flagged;
    $("syncflag").textContent = flagged ? "⚠ " + run.sync.why : "";
    shownId = run.id;
  }

  function renderStrip() {
    var strip = $("strip"), prev = {};
    strip.textContent = "";
    S.runs.forEach(function (run) {
      var li = el("li", "rep " + run.status + (run.voided ? " voided" : "") + (run.id === shownId ? " current" : ""));
      li.appendChild(el("div", "n", "#" + run.number + " " + (run.athlete || "—") + (run.ambiguous ? " ?" : "")));  // ?: whose, in doubt
      if (run.lap && run.lap.time_s != null) {
        li.appendChild(el("div", "t", raceTime(run.lap.time_s)));
        var c = run.lap.check;
        li.appendChild(el("div", "v " + (c && (c.verdict === "slow") ? "down" : "up"), c ? diff(c.diff_s) : run.lap.distance_m + " m"));
      } else if (run.fly) {
        li.appendChild(el("div", "t", secs(run.fly.time_s)));
        var v = el("div", "v", f2(run.fly.velocity_mps) + " m/s");
        var before = prev[run.athlete_id];
        if (before && !run.voided) {
          var d = run.fly.velocity_mps - before;
          var trend = v.appendChild(el("span", d >= 0 ? "up" : "down", d >= 0 ? " ▲" : " ▼"));
          trend.title = (d >= 0 ? "faster" : "slower") + " than " + (run.athlete || "this athlete") + "'s run before";
        }
        if (!run.voided) prev[run.athlete_id] = run.fly.velocity_mps;
        li.appendChild(v);
        var p = !run.voided && run.vs_pace && run.vs_pace["400m"];
        if (p) li.appendChild(el("div", "v " + (p.faster ? "up" : "down"), (p.faster ? "▲ " : "▼ ") + p.percent.toFixed(0) + " % 400")).title = p.percent.toFixed(1) + " % of 400 m pace";
      } else li.appendChild(el("div", "t", "—"));
      if (run.voided) li.appendChild(el("div", "v", "void"));
      else if (run.status === "incomplete") li.appendChild(el("div", "v", "incomplete"));
      else if (run.sync && run.sync.flagged) { li.classList.add("syncflag"); li.appendChild(el("div", "v", "⚠ sync")).title = run.sync.why; }
      strip.appendChild(li);
    });
    strip.scrollLeft = strip.scrollWidth;
    $("legend").hidden = !S.runs.some(function (run) { return run.fly; });  // the arrows are a flying sprint's
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
      if ((S.nodes || []).length) {  // with gate nodes, each gate's clock sync: a node's bound, or the Pi's own clock
        var n = nodeOf(g), sync = li.appendChild(el("span", "sync"));
        sync.textContent = !n ? "Pi clock" : n.state === "syncing" ? "syncing…" : n.state !== "ok" ? "no sync" : "±" + Math.round(n.sync_uncertainty_us) + " µs";
        sync.title = n ? "clock sync of its node: its stamps are mapped onto the Pi's clock within this" : "stamped by the Pi itself: no clock sync";
      }
      ul.appendChild(li);
    });
  }

  // The node whose beams a gate has (a gate on the Pi's GPIO has none).
  function nodeOf(g) {
    var beams = g.beams || [g.gate];
    return (S.nodes || []).filter(function (n) { return n.beams.some(function (b) { return beams.indexOf(b) >= 0; }); })[0] || null;
  }

  var NODE_WORDS = { ok: "in sync", syncing: "syncing…", reconnecting: "LOST — reconnecting…", absent: "NOT CONNECTED", silent: "LOST — silent", refused: "REFUSED" };
  function renderNodes() {
    var ul = $("nodes"), nodes = S.connected ? S.nodes || [] : [];
    ul.hidden = !nodes.length;
    ul.textContent = "";
    nodes.forEach(function (n) {
      var li = el("li", "node " + n.state);
      li.title = n.problem || "node " + (n.node || n.port);
      li.appendChild(el("span", "light"));
      li.appendChild(el("span", "nname", n.beams.join("/")));
      var word = NODE_WORDS[n.state] || n.state;
      if (n.state === "silent" && n.heard_s_ago != null) word += " " + Math.round(n.heard_s_ago) + " s";
      if (n.state === "ok" && n.sync_uncertainty_us != null) word += " ±" + Math.round(n.sync_uncertainty_us) + " µs";
      li.appendChild(el("span", "nstate", word));
      var facts = [];
      if (n.drift_ppm != null) facts.push((n.drift_ppm >= 0 ? "+" : "−") + Math.abs(n.drift_ppm).toFixed(1) + " ppm");
      if (n.round_trip_ms != null) facts.push("rtt " + n.round_trip_ms.toFixed(n.round_trip_ms < 10 ? 2 : 0) + " ms");
      if (n.buffer != null) facts.push("buffer " + n.buffer + (n.capacity ? "/" + n.capacity : ""));
      facts.push(n.lines + " lines" + (n.bad_lines ? ", " + n.bad_lines + " bad" : ""));
      li.appendChild(el("span", "nfacts", facts.join(" · ")));
      ul.appendChild(li);
    });
  }

  function renderNext() {
    var box = $("next");
    if (!S.queue || !S.queue.length || S.workout) { box.hidden = true; return; }  // a workout shows its group
    box.hidden = false;
    box.textContent = "";
    box.appendChild(el("small", null, "Next up"));
    box.appendChild(document.createTextNode(S.queue.map(function (a) { return a.name; }).join(", ")));
  }

  /* The workout ---------------------------------------------------------------------------- */

  var wAt = performance.now();   // when S.workout's "left" and "elapsed" times were true
  var goLap = null, goBeeped = null;

  function heldNs() { return (performance.now() - wAt) * 1e6; }  // ns since S.workout came, on this device's clock
  function member(id) { return (S.workout.athletes || []).filter(function (a) { return a.id === id; })[0] || null; }

  function renderWorkout() {
    var W = S.workout, box = $("workout");
    box.hidden = !W;
    document.querySelector(".stage").classList.toggle("with-workout", !!W);
    renderSummary();
    if (!W) return;
    var head = W.next, runner = W.running != null ? member(W.running) : null, label = "", name = "", setrep = "";
    var out = groupOut(W);
    if (W.finished) label = "Workout over";
    else if (out) label = groupClock(W) < 0 ? "Go in" : "On the track";
    else if (W.lap) label = W.lap.elapsed_ns + heldNs() < 0 ? "Go in" : "On the track";
    else if (runner) label = "Running";
    else if (head) label = { resting: "Recovery · next", recovering: "Recovery · next", ready: W.needs_go ? "Ready for the go" : "Your turn" }[head.status] || head.status;
    if (out) name = W.group.athletes.map(function (a) { return a.name; }).join(" · ");
    else if (W.wave_s != null && head && !W.finished) name = W.athletes.filter(function (a) { return a.next; }).map(function (a) { return a.name; }).join(" · ");  // a group goes as one
    else if (runner) name = runner.name;
    else if (head && !W.finished) name = head.name;
    var who = runner || head;
    if (who && who.next && !W.finished) setrep = "Set " + who.next.set + "/" + who.next.sets + " · Rep " + who.next.rep + "/" + who.next.reps_in_set;
    $("wk-label").textContent = label;
    $("wk-setrep").textContent = setrep;
    $("wk-name").textContent = name;
    var t = $("wk-target");
    t.textContent = "";
    if (who && who.next && !W.finished) {
      var rep = who.next;
      t.appendChild(el("span", "wk-aim", rep.distance_m + " m" + (rep.target.style === "on-pace" ? " at " : " · ") + rep.target.text));
      if (rep.target.paces.length && W.wave_s == null) t.appendChild(el("small", null, rep.target.paces.map(function (p) { return p.race + " pace " + withUnit(p.time_s); }).join(" · ")));  // a group: race paces differ by athlete
      var b = who.bests;  // 400 m pace is an easy bar for a flying sprint: their own bests are the real one
      if (W.kind === "max-velocity" && b) t.appendChild(el("small", "wk-bests", "Best today " + withUnit(b.session_s) + (b.set_s != null ? " · this set " + withUnit(b.set_s) : "")));
      if (W.armed) t.appendChild(el("small", "wk-armed", "The line is armed: the rep starts as they cross it"));
    }
    box.dataset.status = W.finished ? "finished" : W.lap || runner ? "running" : head ? head.status : "";
    renderWarning(W); renderGroup(W); renderDoubts(W); renderTaps(W);
    tickWorkout();
  }

  // The clocks: the next athlete's recovery (down to the call), a jog's time (up), a track rep's time.
  function tickWorkout() {
    var W = S.workout;
    if (!W) return;
    var c = $("wk-clock"), head = W.next, ns = heldNs(), text = "", cls = "wk-clock";
    if (W.finished) text = "";
    else if (groupOut(W)) {
      var g = groupClock(W) / 1e9;
      text = g < 0 ? String(Math.ceil(-g)) : raceTime(g);
      cls += g < 0 ? " soon" : "";
      $("wk-label").textContent = g < 0 ? "Go in" : "On the track";
      goCountdown(W.group.number, g);
    } else if (W.lap) {
      var e = (W.lap.elapsed_ns + ns) / 1e9;
      text = e < 0 ? String(Math.ceil(-e)) : raceTime(e);
      cls += e < 0 ? " soon" : "";
      $("wk-label").textContent = e < 0 ? "Go in" : "On the track";
      goCountdown(W.lap.number, e);
    } else if (W.running == null && head && head.status === "resting") {
      var left = Math.max(0, Math.ceil((head.rest_left_ns - ns) / 1e9));
      text = rest(left);
      if (left <= 10) cls += " soon";
    } else if (W.running == null && head && head.status === "recovering") {
      text = rest((head.rest_elapsed_ns + ns) / 1e9);
      cls += " up";
    }
    c.textContent = text;
    c.className = cls;
    c.hidden = !text;
    Array.prototype.forEach.call($("wk-group").querySelectorAll("[data-left]"), function (span) {
      span.textContent = rest(Math.max(0, Math.ceil((parseFloat(span.dataset.left) - ns) / 1e9)));
    });
    Array.prototype.forEach.call($("wk-group").querySelectorAll("[data-elapsed]"), function (span) {  // a group rep: each one's own clock
      var e = (parseFloat(span.dataset.elapsed) + ns) / 1e9;
      span.textContent = e < 0 ? "in " + Math.ceil(-e) : raceTime(e);
    });
  }

  // A go: short beeps at 3, 2, 1, a long one at the start.
  function goCountdown(lap, e) {
    if (lap !== goLap) { goLap = lap; goBeeped = null; }
    var s = Math.ceil(-e);
    if (e < 0 && s <= 3 && s !== goBeeped) { goBeeped = s; beep(false); }
    else if (e >= 0 && e < 1 && goBeeped !== 0 && goBeeped !== null) { goBeeped = 0; beep(true, true); }
  }

  function renderWarning(W) {
    var box = $("wk-warn");
    box.textContent = "";
    W.athletes.forEach(function (a) {
      var l = a.last;
      if (!l || !l.drop_off || !(a.suggest_end_set || (W.last && W.last.run === l.run))) return;
      var p = el("p", null, a.name + " · set " + l.set + " rep " + l.rep + ": " + l.drop_off.percent_slower + " % slower than the " +
        (l.drop_off.against === "best" ? "best of the set" : "rep before") + (a.suggest_end_set ? ". End the set?" : "."));
      if (a.suggest_end_set && S.coach && !W.finished) p.appendChild(tapButton("end-set", "End set", a.id, "danger"));
      box.appendChild(p);
    });
    box.hidden = !box.childNodes.length;
  }

  // A group's track rep under way (its athletes still out, or waiting for their wave).
  function groupOut(W) { return !!(W.group && !W.group.done); }
  function groupClock(W) { return Math.max.apply(null, W.group.athletes.map(function (a) { return a.elapsed_ns; })) + heldNs(); }

  function renderGroup(W) {
    var ol = $("wk-group"), out = groupOut(W), laps = {};
    if (W.group) W.group.athletes.forEach(function (a) { laps[a.id] = a; });
    ol.textContent = "";
    W.athletes.forEach(function (a) {
      var li = el("li", "g-" + a.status + (W.next && a.id === W.next.id ? " g-next" : ""));
      li.appendChild(el("span", "g-name", a.name));
      var state = el("span", "g-state", { ready: "ready", running: "running", finished: "done", "not-started": "" }[a.status] || "");
      if (a.status === "resting") {
        state.textContent = "rest ";
        var left = el("span", null, "");
        left.dataset.left = a.rest_left_ns;
        state.appendChild(left);
      } else if (a.status === "recovering") state.textContent = a.jog_m ? a.jog_m + " m jog" : "recovering";
      li.appendChild(state);
      var r = out ? laps[a.id] : null;
      if (r) {  // on the track with the group: their laps so far and their own clock
        state.textContent = r.status === "running" ? "lap " + Math.min(r.laps + 1, r.of) + "/" + r.of : r.status === "complete" ? "in" : "incomplete";
        var clock = el("span", "g-last g-clock" + (r.ambiguous ? " g-doubt" : ""));
        if (r.status === "running") clock.dataset.elapsed = r.elapsed_ns;
        else clock.textContent = r.time_s != null ? raceTime(r.time_s) : "—";
        if (r.ambiguous) clock.title = "The gate could not tell who crossed: see below";
        li.appendChild(clock);
        li.appendChild(el("span", "g-done", a.done + "/" + a.planned));
        ol.appendChild(li);
        return;
      }
      var l = a.last;
      if (l && l.time_s != null) {
        var shown = l.distance_m > 100 ? raceTime(l.time_s) : secs(l.time_s);
        var judged = l.check && l.outcome === "done";  // a voided or repeated rep has no verdict
        var doubt = laps[a.id] && laps[a.id].ambiguous ? " ?" : "";  // the gate could not tell: the coach marks it below
        li.appendChild(el("span", "g-last" + (judged ? " verdict-" + l.check.verdict : "") + (doubt ? " g-doubt" : ""), shown + (judged ? " " + diff(l.check.diff_s) : " " + l.outcome) + doubt));
      } else if (l) li.appendChild(el("span", "g-last", l.outcome));
      li.appendChild(el("span", "g-done", a.done + "/" + a.planned));
      ol.appendChild(li);
    });
  }

  // Crossings the gate could not give for sure: who it was taken to be, and a tap for each who it may have been.
  function renderDoubts(W) {
    var box = $("wk-doubts"), doubts = (W.group && W.group.doubts) || [];
    box.textContent = "";
    box.hidden = !doubts.length;
    var names = {};
    W.athletes.forEach(function (a) { names[a.id] = a.name; });
    doubts.forEach(function (d) {
      var p = el("p", "doubt");
      var others = d.could_be.filter(function (i) { return i !== d.athlete; }).map(function (i) { return names[i]; });
      var rep = W.group.doubts.some(function (x) { return x.rep !== d.rep; }) ? "Rep " + d.rep + ", " : "";
      p.appendChild(el("span", null, (rep ? rep + "crossing" : "Crossing") + " at " + raceTime(d.at_s) + ": " + (names[d.athlete] || "nobody") + " or " + others.join(" or ") + "?"));
      if (S.coach && !W.finished) {
        var taps = el("span", "doubt-taps");
        d.could_be.forEach(function (i) {
          var b = el("button", null, names[i]);
          b.type = "button";
          b.title = "This was " + names[i];
          b.addEventListener("click", function () { mark(d.crossing, i, b); });
          taps.appendChild(b);
        });
        p.appendChild(taps);
      }
      box.appendChild(p);
    });
  }

  function mark(crossing, athlete, button) {
    send("/api/workout/mark", { crossing: crossing, athlete: athlete }, button);
  }

  function renderTaps(W) {
    var box = $("wk-taps");
    box.textContent = "";
    box.hidden = !S.coach || W.finished;
    if (box.hidden) return;
    var head = W.next;
    if (head && (head.status === "resting" || head.status === "recovering")) box.appendChild(tapButton("ready", "Ready", head.id, "primary"));
    if (W.mode === "track" && head && !W.lap && !groupOut(W)) box.appendChild(tapButton("go", "Go", null, "primary"));
    if (head) box.appendChild(tapButton("skip", "Skip", head.id));
    if (W.last) box.appendChild(tapButton("repeat", "Repeat " + W.last.name, W.last.athlete));
    box.appendChild(tapButton("end", "End", null, "danger"));
  }

  function tapButton(action, label, athlete, cls) {
    var b = el("button", cls || null, label);
    b.type = "button";
    b.dataset.action = action;
    b.addEventListener("click", function () { tap(action, athlete, b); });
    return b;
  }

  function tap(action, athlete, button) {
    if (action === "end" && !window.confirm("End the workout for everyone?")) return;
    send("/api/workout/" + action, athlete != null ? { athlete: athlete } : {}, button);
  }

  function send(url, body, button) {
    button.disabled = true;
    var error = $("wk-error");
    fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": S.csrf },
      body: JSON.stringify(body),
    }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(body.error || "The dashboard said no (" + r.status + ").");
        error.hidden = true;
        S.workout = body.workout; wAt = performance.now(); renderWorkout();
      });
    }).catch(function (e) { error.hidden = false; error.textContent = e.message; })
      .then(function () { button.disabled = false; });
  }

  function renderSummary() {
    var W = S.workout, box = $("summary"), show = !!(W && W.finished && W.summary);
    box.hidden = !show;
    if (!show) return;
    $("result").hidden = true; $("empty").hidden = true;
    box.textContent = "";
    box.appendChild(el("h2", null, "Workout over"));
    box.appendChild(el("p", "sum-text", W.text));
    var table = el("table"), head = el("tr");
    ["", "Reps", "Best", "Mean", "On target", "Drop-offs"].forEach(function (h) { head.appendChild(el("th", null, h)); });
    table.appendChild(head);
    W.summary.forEach(function (s) {
      var tr = el("tr"), best = s.distances.map(function (d) { return (d.distance_m > 100 ? raceTime(d.best_s) : secs(d.best_s)) + (s.distances.length > 1 ? " (" + d.distance_m + " m)" : ""); });
      var mean = s.distances.map(function (d) { return d.distance_m > 100 ? raceTime(d.mean_s) : secs(d.mean_s); });
      [s.name, s.done + "/" + s.planned, best.join(" · ") || "—", mean.join(" · ") || "—", s.checked ? s.on_target + "/" + s.checked : "—",
       s.drop_offs.map(function (d) { return "S" + d.set + " R" + d.rep + " +" + d.percent_slower + "%"; }).join(" ") || "none"].forEach(function (v, i) {
        tr.appendChild(el(i ? "td" : "th", null, v));
      });
      table.appendChild(tr);
      if (s.top_speed) { var hint = el("tr", "hint"), td = el("td", null, s.name + ": " + s.top_speed); td.colSpan = 6; hint.appendChild(td); table.appendChild(hint); }
    });
    box.appendChild(table);
  }

  function onWorkout(d, fresh) {
    if (!fresh) { refetchSoon(); return; }  // caught up after a reconnect: its clocks are stale
    S.workout = d; wAt = performance.now();
    if (S.session && d.session !== S.session.id) refetch();  // a workout's new session
    renderWorkout();
    d.effects.forEach(function (e) {
      if (e.cue === "rest-warning" || e.cue === "drop-off") beep(false);
      else if (e.cue === "rest-over") beep(true, true);
      else if (e.cue === "call") say(e.message, false);
    });
    document.dispatchEvent(new CustomEvent("gatectl:workout", { detail: { status: d.status } })); // for tests
  }

  var refetchTimer = null;
  function refetchSoon() { clearTimeout(refetchTimer); refetchTimer = setTimeout(refetch, 300); }
  setInterval(tickWorkout, 100);

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
    if (fresh && !found && run.status === "complete" && timed(run) && !run.voided) sayRun(run);
  }

  function refetch() {
    fetch("/api/live", { cache: "no-store" }).then(function (r) { return r.json(); }).then(function (state) {
      var since = last; S = state; wAt = performance.now(); last = Math.max(since, state.since); render();
    }).catch(function () {});
  }

  // Events come from this browser's one stream (stream.js): our own, or relayed by the tab that holds it.
  var handlers = {};
  function on(kind, fn) { handlers[kind] = fn; }
  function dispatch(kind, id, data, relayed) {
    var fresh = !(id <= replayUpTo);
    if (relayed && id > last + 1 && kind !== "hello" && kind !== "reset") refetchSoon();  // joined late: catch up first
    if (id > last || kind === "hello" || kind === "reset") { if (id > last) last = id; if (handlers[kind]) handlers[kind](JSON.parse(data), fresh); }
    kick();
  }
  (function () {
    on("hello", function (d) {
      if (d.boot !== S.boot) { location.reload(); return; }
      heartbeat = d.heartbeat_s || 15; replayUpTo = d.latest; setConn("on", "live");
    });
    on("reset", function () { refetch(); });
    on("ping", function () {});
    on("run", onRun);
    on("corrected", function () { refetch(); });  // a run corrected away: the session's runs again
    on("workout", onWorkout);
    on("session", function () { refetch(); });
    on("armed", function (d) { S.armed = d.armed; renderHeader(); });
    on("fault", function (d) { S.faults = d.faults; renderFaults(); });
    on("nodes", function (d) { S.nodes = d.nodes; renderGates(); renderNodes(); });
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
  })();

  function setConn(cls, text) {
    var c = $("conn");
    c.className = "conn " + cls; c.textContent = text;
    stale(cls === "off");
  }

  // Not live: a banner no one can miss, and the results dimmed, until the stream is back.
  var lostAt = null;
  function stale(lost) {
    if (lost && lostAt === null) lostAt = new Date();
    if (!lost) lostAt = null;
    document.body.classList.toggle("stale", lost);
    $("offline").hidden = !lost;
    if (lost) $("offline-text").textContent = "No connection to the gates since " + lostAt.toLocaleTimeString() + ": reconnecting… Times shown may be old.";
  }

  function kick() {
    clearTimeout(watchdog);
    // No event or ping for 2.5 heartbeats: the connection is dead even if the socket is not.
    watchdog = setTimeout(function () { setConn("off", "reconnecting…"); if (stream) stream.reconnect(); }, heartbeat * 2500 + 2000);
  }
  window.addEventListener("offline", function () { if (S.connected) setConn("off", "offline"); });

  function connect() {
    if (!S.connected || !window.EventSource) return;
    stream = window.GatectlStream({
      since: function () { return last; },
      on: dispatch,
      status: function (live) { if (live) setConn("on", "live"); else setConn("off", "reconnecting…"); },
    });
    kick();
  }

  /* Sound: per device, off by default; both work offline. -------------------------------- */

  var audio = null;
  function beep(high, long) {
    if (!prefs.beep) return;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var o = audio.createOscillator(), g = audio.createGain(), t = audio.currentTime, d = long ? 0.6 : 0.12;
      o.frequency.value = high ? 1320 : 880;
      g.gain.setValueAtTime(0.3, t); g.gain.exponentialRampToValueAtTime(0.001, t + d);
      o.connect(g); g.connect(audio.destination); o.start(t); o.stop(t + d + 0.01);
    } catch (e) {}
  }
  function say(text, interrupt) {
    if (!prefs.speak || !window.speechSynthesis) return;
    var u = new SpeechSynthesisUtterance(text);
    u.lang = "en-GB";
    if (interrupt) window.speechSynthesis.cancel();
    window.speechSynthesis.speak(u);
  }
  function sayRun(run) {
    var t = timed(run), text = run.lap
      ? raceTime(t.time_s).replace(":", " ") + (run.lap.check ? ", " + run.lap.check.verdict.replace("-", " ") : "")
      : secs(t.time_s) + ", " + t.velocity_mps.toFixed(1) + " metres per second";
    say((run.athlete ? run.athlete + ", " : "") + text, true);
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

  $("full").addEventListener("click", function () {
    var d = document;
    if (d.fullscreenElement) d.exitFullscreen(); else if (d.documentElement.requestFullscreen) d.documentElement.requestFullscreen().catch(function () {});
  });
  if (!document.documentElement.requestFullscreen) $("full").hidden = true;
  $("more").addEventListener("click", function () {  // a phone folds the tools away: the result needs the room
    var open = document.querySelector(".bar").classList.toggle("open");
    $("more").setAttribute("aria-expanded", String(open));
  });

  render();
  connect();
})();
