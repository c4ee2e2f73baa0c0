"""Helpers shared by the tests (fixtures are in conftest.py, test doubles in fakes.py).

Beam edges made by hand (times written in ms, kept as integer ns) and Hypothesis
strategies for random ones; a daemon on a ``FakeSource`` and the check that live
timing equals a recompute; requests to the dashboard as the coach.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import time
from dataclasses import replace

from fakes import FakeGates, FakeSource
from hypothesis import strategies as st
from werkzeug.security import generate_password_hash

from gatectl.coaching.laps import Track
from gatectl.daemon.daemon import Daemon
from gatectl.daemon.events import EventBus
from gatectl.jsonable import jsonable
from gatectl.sim.sprinters import SimOptions, lap_edges, simulate
from gatectl.store import Store
from gatectl.timing.assemble import AssemblySettings
from gatectl.timing.model import NS_PER_MS, NS_PER_S, DetectionSettings, Edge, Layout
from gatectl.web.auth import PASSWORD_SETTING

MS = NS_PER_MS
S = NS_PER_S
# The thresholds written out, so hand-made cases do not move when the defaults are tuned.
SETTINGS = DetectionSettings(rearm_ns=300 * MS, window_ns=300 * MS, glitch_ns=1 * MS, bridge_ns=4 * MS)


def ns(ms: float) -> int:
    return round(ms * MS)


def layout(text: str = "A=0,B=10", method: str = "longest") -> Layout:
    return Layout.parse(text, method, SETTINGS)


def breaks(beam: str, *spans: tuple[float, float | None], at: float = 0) -> list[Edge]:
    """``beam`` broken over each ``(start_ms, end_ms)`` span, ``at`` ms later; end None: broken to the end."""
    edges = []
    for start, end in spans:
        edges.append(Edge(beam, ns(at + start), True))
        if end is not None:
            edges.append(Edge(beam, ns(at + end), False))
    return edges


def passage(beams: tuple[str, ...], torso_ms: float) -> list[Edge]:
    """A body through a gate whose torso arrives at ``torso_ms``: knee 50 ms ahead,
    torso 80 ms with a 2 ms clothing flicker, trailing arm. On a dual gate the knee
    breaks only the lower beam and the arm only the upper one; both are broken from
    ``torso_ms``."""
    if len(beams) == 1:
        return breaks(beams[0], (-50, -35), (0, 40), (42, 80), (100, 110), at=torso_ms)
    low, high = beams
    return breaks(low, (-50, -35), (-3, 80), at=torso_ms) + breaks(high, (0, 40), (42, 75), (100, 110), at=torso_ms)


def sprint(layout: Layout, start_ms: float, velocity_mps: float) -> list[Edge]:
    """One athlete's passages along ``layout`` at a steady velocity, torso at M1 at ``start_ms``."""
    return [
        edge
        for gate in layout.gates
        for edge in passage(gate.beams, start_ms + 1000 * gate.position_m / velocity_mps)
    ]


# Hypothesis: durations on and around every threshold, and ordinary ones.
_THRESHOLDS = (SETTINGS.glitch_ns, SETTINGS.bridge_ns, SETTINGS.window_ns, SETTINGS.rearm_ns)
NEAR = sorted({max(1, t + d) for t in _THRESHOLDS for d in (-1, 0, 1)} | {10 * MS, 40 * MS, 150 * MS})
DURATION = st.one_of(st.sampled_from(NEAR), st.integers(1, 2 * SETTINGS.rearm_ns))


@st.composite
def beam_edges(draw, beams, max_edges=10):
    """Valid edges: strictly alternating per beam, starting broken, times around the thresholds."""
    edges = []
    for beam in beams:
        t = draw(st.one_of(st.sampled_from([0, MS, 100 * MS]), st.integers(0, 2 * S)))
        broken = True
        for _ in range(draw(st.integers(0, max_edges))):
            edges.append(Edge(beam, t, broken))
            t += draw(DURATION)
            broken = not broken
    return edges


def stream(machine, edges, data):
    """Feed edges to a LayoutDetector or Timing in time order, with ``advance`` calls no later
    than the next edge (often just as a threshold runs out), then ``flush``: all it emitted."""
    events = []
    ordered = sorted(edges, key=lambda e: e.t_ns)
    previous = ordered[0].t_ns - S if ordered else 0
    for i, edge in enumerate(ordered):
        moment = st.integers(previous, edge.t_ns)
        recent = ordered[max(0, i - 6) : i]
        due = sorted({e.t_ns + d for e in recent for d in NEAR if previous <= e.t_ns + d <= edge.t_ns})
        if due:
            moment = st.one_of(moment, st.sampled_from(due))
        for now in sorted(data.draw(st.lists(moment, max_size=3))):
            events += machine.advance(now)
        events += machine.feed(edge)
        previous = edge.t_ns
    return events + machine.flush()


# The daemon ------------------------------------------------------------------------------------

FLY30 = Layout.flying(30, 30)
START = 1000 * S  # the fake source's clock when the daemon starts
LIMBS = SimOptions(limbs=True)
TRACK = Track("M1", 400)
LINE_GATE = FLY30.gate("M1")


class Live:
    """A daemon on a FakeSource writing to a database file, and everything it published."""

    def __init__(self, path, layout=FLY30, latency_ns=0, store_factory=None):
        self.path = path
        self.source = FakeSource(START, latency_ns)
        self.bus = EventBus(history=100_000, subscriber_queue=100_000)
        self.sub = self.bus.subscribe()
        self.daemon = Daemon(self.source, store_factory or (lambda: Store(path)), layout, bus=self.bus, place="Club track", tick_ns=2 * MS)
        self.seen = []

    def settle(self):
        """Return once the daemon has taken every edge emitted and the clock as it is now."""
        self.daemon.call(lambda: None)
        self.daemon.call(lambda: None)  # this one's batch read the clock after it was moved

    def play(self, edges, then_ns=3 * S, seed=0):
        """Deliver ``edges``, then let ``then_ns`` pass on the source's clock."""
        edges = list(edges)
        self.source.play(edges, seed=seed)
        self.source.advance_to(max(e.t_ns for e in edges) + then_ns)
        self.settle()

    def events(self, kind=None):
        self.seen += iter(lambda: self.sub.get(timeout=0), None)
        return [e.data for e in self.seen if kind is None or e.kind == kind]

    def store(self):
        return Store(self.path)

    def runs(self, session_id=None):
        with self.store() as store:
            return sorted(store.runs(session_id=session_id or self.daemon.snapshot().session_id), key=lambda r: r.number)


def reps(count, seed=1, start_ns=START + S, options=LIMBS, **kw):
    """Simulated flying 30s, from a second after the daemon started."""
    return simulate(FLY30, count, seed=seed, options=options, start_ns=start_ns, **kw)


def laps(live, start_s, *lap_s, speed=5.0, seed=1):
    """A sprinter through the lap gate at ``start_s`` from now, then after each lap; the clock runs on."""
    t = live.source.now_ns() + round(start_s * S)
    marks = [t]
    for lap in lap_s:
        marks.append(marks[-1] + round(lap * S))
    live.play(lap_edges(LINE_GATE, marks, speed_mps=speed, seed=seed, options=LIMBS), then_ns=2 * S)
    return marks


def comparable(runs):
    return [replace(run, id=0) for run in runs]


def derived(store, session_id):
    """Everything the core derived for a session, ids left out, in a stable order."""
    def rows(table):
        return sorted(
            ({k: v for k, v in row.items() if k != "id"} for row in store.db[table].rows_where("session_id = ?", [session_id])),
            key=lambda row: tuple(str(row[k]) for k in sorted(row)),
        )
    return {"runs": comparable(sorted(store.runs(session_id=session_id), key=lambda r: r.number)),
            "crossings": rows("crossings"), "anomalies": rows("anomalies")}


def assert_live_equals_recompute(path, session_id):
    with Store(path) as store:
        before = derived(store, session_id)
        store.recompute(session_id)
        assert derived(store, session_id) == before
    return before


# The dashboard ---------------------------------------------------------------------------------


def app_config(**extra):
    """The dashboard's config in tests: fast heartbeats, a fixed cookie key."""
    return {"TESTING": True, "SSE_HEARTBEAT_S": 0.05, "SECRET_KEY": "test", **extra}

PIN = "2468"


def run_once(gates: FakeGates, daemon: Daemon, times_s=(0.0, 3.5, 6.6), *, gap_s: float = 30.0, timeout: float = 5.0, extra=()) -> dict:
    """One athlete through M1, M2, M3 at ``times_s`` after the clock (and ``extra`` crossings: (gate, s));
    returns the published run as live viewers get it (JSON)."""
    sub = daemon.bus.subscribe()
    try:
        start = gates.now_ns() + round(gap_s * NS_PER_S)
        for gate, t in sorted([*zip(("M1", "M2", "M3"), times_s), *extra], key=lambda c: c[1]):
            t_ns = start + round(t * NS_PER_S)
            gates.emit(Edge(gate, t_ns, True))
            gates.emit(Edge(gate, t_ns + 80 * NS_PER_MS, False))
        # Past the window (the crossing is decided) and the assembler's wait (the run is).
        gates.set_now(start + round((times_s[-1] + 2) * NS_PER_S) + AssemblySettings().decision_wait_ns)
        while True:
            event = sub.get(timeout=timeout)
            assert event is not None, "the daemon published no run"
            if event.kind == "run":
                return jsonable(event.data)
    finally:
        sub.close()


def free_port() -> int:
    """A port nothing listens on now, for a dashboard served in a test."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def athlete_id(path, name: str) -> int:
    with Store(path, migrate=False) as store:
        return store.find_athlete(name)["id"]


def set_pin(path, pin: str = PIN) -> None:
    """The coach's PIN, hashed cheaply: the real scrypt hash costs 0.2 s a check (tested on its own)."""
    with Store(path, migrate=False) as store:
        store.set_setting(PASSWORD_SETTING, generate_password_hash(pin, method="pbkdf2:sha256:1000"))


def csrf(client) -> str:
    """The session's CSRF token (what every form of the session carries)."""
    with client.session_transaction() as session:
        return session.setdefault("csrf", "test-csrf-token")


def login(client, password: str = PIN):
    return client.post("/login", data={"csrf_token": csrf(client), "password": password})


def basic(password):
    return {"Authorization": "Basic " + base64.b64encode(f"coach:{password}".encode()).decode()}


def post(c, url, json=None, method="post"):
    return getattr(c, method)(url, json=json if json is not None else {}, headers={"X-CSRF-Token": c.token})


def error(response, status, field=None):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body["error"], str) and body["error"].endswith((".", ")")), body
    assert "Traceback" not in body["error"]
    if field is not None:
        assert body.get("field") == field, body
    return body["error"]


def form(c, url, **fields):
    return c.post(url, data={"csrf_token": c.token, **fields})


def page_error(response, status, words):
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    html = response.get_data(as_text=True)
    assert words in html, html[:2000]
    assert "Traceback" not in html


def state_of(html: str) -> dict:
    match = re.search(r'<script id="state" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(match.group(1))


def wait_for(condition, timeout: float = 15.0):
    """Poll ``condition`` (real time) until it gives something true; that, or fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return value
