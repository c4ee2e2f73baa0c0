"""Builders for hand-made beam edges (times written in ms, kept as integer ns) and strategies for random ones."""

from __future__ import annotations

from hypothesis import strategies as st

from gatectl.timing.model import NS_PER_MS, NS_PER_S, DetectionSettings, Edge, Layout

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
