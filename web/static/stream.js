/* One event stream per browser, shared by its tabs.

   A browser opens at most 6 connections to a server, and every open page holds
   its stream (/api/stream) for as long as it is open: a 7th tab would never
   load. So one tab, the leader, holds the stream and relays each event to the
   others over a BroadcastChannel; the others follow. The leader says it is
   there every second; when it closes (or its beats stop) another tab takes
   over, opening the stream from where it had got to.

   GatectlStream({since: fn, on: fn(kind, id, data, relayed), status: fn(live)})
   since() is the id to resume from (null: from now); on() gets each event with
   its id and JSON text; status(true/false) says whether events are coming. */
(function () {
  "use strict";
  var KINDS = ["hello", "reset", "ping", "run", "corrected", "workout", "session", "armed", "queue", "gate", "crossing", "anomaly", "fault", "nodes"];
  // A hidden leader's timers may be slowed to once a minute, but the events it relays (a ping every
  // 15 s at least) are not: a leader is lost after 20 s without either, or at once when its tab closes.
  var BEAT_MS = 1000, LOST_MS = 20000, ASK_MS = 400;

  window.GatectlStream = function (options) {
    var me = Date.now() + Math.random(), channel = window.BroadcastChannel ? new BroadcastChannel("gatectl-stream") : null;
    var es = null, live = false, heard = 0, leaderLive = false, beats = null, retry = null, candidates = null;

    function tell(message) { if (channel) channel.postMessage(message); }
    function setLive(now) {
      if (now === live) return;
      live = now;
      options.status(now);
      if (es) tell({ type: "beat", from: me, live: live });  // the followers hear it at once
    }

    function lead() {
      if (es) return;
      var since = options.since(), source = new EventSource("/api/stream" + (since != null ? "?since=" + since : ""));
      es = source;
      KINDS.forEach(function (kind) {
        source.addEventListener(kind, function (e) {
          if (source !== es) return;
          var id = parseInt(e.lastEventId, 10);
          if (kind === "hello") setLive(true);
          tell({ type: "event", kind: kind, id: id, data: e.data });
          options.on(kind, id, e.data, false);
        });
      });
      source.onerror = function () {
        if (source !== es) return;
        setLive(false);
        if (source.readyState === 2) { es = null; clearTimeout(retry); retry = setTimeout(lead, 3000); }  // refused (busy): again
      };
      clearInterval(beats);
      beats = setInterval(function () { tell({ type: "beat", from: me, live: live }); }, BEAT_MS);
      tell({ type: "beat", from: me, live: live });
    }

    function follow() {  // another tab leads: close ours
      if (es) { es.close(); es = null; }
      clearInterval(beats);
      clearTimeout(retry);
    }

    if (!channel) { lead(); return { reconnect: reconnect }; }  // no BroadcastChannel: every tab on its own
    channel.onmessage = function (m) {
      var d = m.data;
      if (d.type === "beat") {
        if (es && d.from < me) follow();  // two leaders: the older tab keeps the stream
        if (!es) { heard = Date.now(); leaderLive = d.live; setLive(d.live); }
      } else if (d.type === "event" && !es) { heard = Date.now(); options.on(d.kind, d.id, d.data, true); }
      else if (d.type === "ask" && es) tell({ type: "beat", from: me, live: live });
      else if (d.type === "bye" && !es) stand();
      else if (d.type === "candidate" && !es) { stand(); candidates.push(d.from); }
    };
    // The leader's tab closed: every follower stands, the oldest takes the stream.
    function stand() {
      if (candidates) return;
      candidates = [me];
      tell({ type: "candidate", from: me });
      setTimeout(function () {
        var oldest = Math.min.apply(null, candidates);
        candidates = null;
        if (oldest === me) lead(); else heard = Date.now();  // the winner's beat comes next
      }, ASK_MS);
    }
    window.addEventListener("pagehide", function () { if (es) tell({ type: "bye", from: me }); });
    setInterval(function () {
      if (!es && !candidates && Date.now() - heard > LOST_MS) { setLive(false); lead(); }  // the leader went silent: take over
    }, BEAT_MS);
    tell({ type: "ask" });
    setTimeout(function () { if (!es && !heard) lead(); }, ASK_MS);  // nobody answered: this tab leads

    // A stream gone silent: open it again (the leader), or wait for the leader's next beat.
    function reconnect() {
      setLive(false);
      if (es || !channel) { follow(); lead(); }
      else if (!leaderLive) heard = 0;
    }
    return { reconnect: reconnect };
  };
})();
