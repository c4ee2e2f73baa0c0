"""Crossing detection: one gate's beam edges → the moments bodies crossed it.

A body passing a hip-height beam breaks it several times: a hand, a knee, the
torso, a trailing arm. The edges of one body form a *passage*, which ends when
the gate has been clear for the re-arm time. Within a passage:

* breaks separated by gaps shorter than ``bridge_ns`` (clothing flicker) are
  joined into one break;
* a joined break shorter than ``glitch_ns`` is an electrical glitch, ignored
  and reported as an ``Anomaly``;
* ``first`` times the passage at the start of its first break;
* ``longest`` picks the longest break among those starting within
  ``window_ns`` of the first: the torso is the widest thing that crosses a
  beam, hands and knees are narrow. It times it at the first raw break inside
  it that is at least 3/20 as long as its longest raw break: a hand or knee
  passing a few cm ahead of the torso is bridged to it, yet short beside it.
  And a later raw break that is a whole torso by itself (as long as the
  gate's recent torsos, 27 ms at least) makes any shorter one before it a
  limb: the gate's history scales the threshold to the speed of the day.
  A body has one torso: of two torso-sized raw breaks (4/5 of the gate's
  recent torsos) close together, inside a joined break or in breaks less
  than half a torso apart, the earlier is a limb carried ahead of the torso
  (a forearm across the beam), and the crossing is timed at the later;
* ``dual`` does the same on the moments when *both* stacked beams are broken,
  which a knee or a swinging hand rarely achieves; there a raw break shorter
  than a glitch is not joined to the next (a limb's sliver of overlap).

The detector is a state machine driven by edges (``feed``) and by the passing
of time on the source's clock (``advance``); ``flush`` ends the stream. It
decides from edge times only (and from the gate's earlier passages, which a
session's raw log holds), so feeding edges live, with ``advance`` calls in
between, gives exactly the crossings that ``detect`` finds in one batch.
"""

from __future__ import annotations

import operator
from collections import deque
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from gatectl.timing.model import NS_PER_MS, Anomaly, Crossing, DetectionSettings, Edge, Gate, Layout, Method

Event = Crossing | Anomaly


# A raw break inside a joined break counts as the torso's own when it is at least this share
# of the joined break's longest raw break (3/20): a hand or knee that passes a few cm ahead of
# the torso is bridged to it, but is short beside it. Measured in bench/bench_limbs.py.
_TORSO_SHARE = (3, 20)

# A raw break at least this long is a whole torso by itself (a 0.27 m torso at 10 m/s); on a
# gate whose recent torsos were longer (slower runners: a torso split by flicker has pieces
# longer than this), the median of their lengths instead, each from the front the gate timed
# to the end of its longest raw break (a split torso counted whole, so its pieces stay short
# beside the threshold). Off until the gate has timed a torso. Measured in bench/bench_limbs.py.
_WHOLE_TORSO_NS = 27 * NS_PER_MS
_RECENT_TORSOS = 5
# A raw break at least this share of the gate's recent torsos' extents (their median) is torso-sized:
# of two close together, the earlier is a limb ahead of the torso; close is a gap under this share of
# a torso. A torso split by flicker has at most one piece this long. An extent runs from the front to
# the end of the last raw break long beside the longest: a split torso counts whole. (The whole-torso
# rule above keeps its own measure: judged by extents it steps in less often, and laps at 8 m/s lose.)
# Measured in bench/bench_limbs.py.
_TORSO_SIZED = (4, 5)
_CLOSE = (1, 2)
# The gate's recent torsos count as this long at least (a 0.2 m torso at 10 m/s): on a dual gate a
# torso whose upper beam flickered has a short stretch with both beams broken, and a run of those
# would make half a torso torso-sized.
_LEAST_TORSO_NS = 20 * NS_PER_MS
_length_of = operator.itemgetter(1)  # of a (start, length) piece


@dataclass(slots=True)
class _Break:
    """A stretch with the gate broken: raw breaks joined across short gaps."""

    start: int
    end: int | None  # None while still broken
    gaps: list[int] | None = None  # the bridged gaps' ends and starts, alternating: set when the first is bridged

    def end_at(self, cap: int) -> int:
        """Where it ended, as it stood at ``cap``: still broken then, it runs to ``cap``."""
        return cap if self.end is None else min(self.end, cap)

    def raw(self, cap: int) -> list[tuple[int, int]]:
        """Its raw breaks as they stood at ``cap``, as (start, length): one that began later was not there yet."""
        bounds = [self.start, *(self.gaps or ()), self.end_at(cap)]
        return [(bounds[i], min(bounds[i + 1], cap) - bounds[i]) for i in range(0, len(bounds), 2) if bounds[i] <= cap]

    def longest_raw(self, cap: int) -> int:
        """The length of its longest raw break as they stood at ``cap``."""
        if self.gaps is None:
            return self.end_at(cap) - self.start
        return max(length for _, length in self.raw(cap))

    def torso_start(self, cap: int, join_ns: int, recent: tuple[Collection[int], Collection[int]] | None) -> tuple[int, int, int]:
        """The start of the first raw break that is long beside the longest, judged as they
        stood at ``cap``: the torso's front, not a limb bridged to it; the torso's length, from
        there to the end of the longest; and its extent, to the end of the last raw break long
        beside the longest (a torso split by flicker counts whole, a short limb after it not).
        A raw break shorter than ``join_ns`` is no limb: it goes with the raw break after it.
        Beside the gate's recent torsos (``recent``: their lengths and extents;
        None before the first): of two torso-sized raw breaks the earlier is a limb; and when
        the longest is a whole torso by itself (``whole_torso_ns``), every one before it is a
        limb ahead of the torso, however long beside it."""
        if self.gaps is None:
            length = self.end_at(cap) - self.start
            return self.start, length, length
        raw = self.raw(cap)
        pieces: list[tuple[int, int]] = []  # (start, length), short ones joined to the next
        carried: int | None = None
        for k, (own_start, length) in enumerate(raw):
            start = own_start if carried is None else carried
            carried = start if length < join_ns and k + 1 < len(raw) else None
            if carried is None:
                pieces.append((start, length))
        front, longest = max(pieces, key=_length_of)  # the first of the longest
        share, whole = _TORSO_SHARE
        long = [piece for piece in pieces if piece[1] * whole >= longest * share]  # the longest among them
        last_start, last_length = long[-1]
        end = last_start + last_length  # of the torso's extent
        if recent is not None:
            typical_length, typical_extent = typical_torso_ns(recent[0]), typical_torso_ns(recent[1])
            sized = [piece for piece in pieces if _torso_sized(piece[1], typical_extent)]
            if len(sized) > 1:  # its length counted from the first: were the two a torso's halves, the history keeps it whole
                start, length = sized[-1]
                return start, start + length - sized[0][0], end - start
            if longest >= whole_torso_ns(typical_length):
                return front, longest, end - front
        torso = long[0][0]
        return torso, front + longest - torso, end - torso


def typical_torso_ns(recent: Collection[int]) -> int:
    """The median of a gate's last torsos' lengths or extents (ns), ``_LEAST_TORSO_NS`` at least.

    >>> typical_torso_ns([30_000_000, 80_000_000, 20_000_000])
    30000000
    """
    ordered = sorted(recent)
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) // 2
    return max(_LEAST_TORSO_NS, median)


def whole_torso_ns(typical_ns: int) -> int:
    """How long a raw break is that is a whole torso by itself at a gate whose torsos are
    ``typical_ns`` long: as long as they are, ``_WHOLE_TORSO_NS`` at least."""
    return max(_WHOLE_TORSO_NS, typical_ns)


def _torso_sized(length_ns: int, extent_ns: int) -> bool:
    share, whole = _TORSO_SIZED
    return length_ns * whole >= extent_ns * share


class GateDetector:
    """Turns the edges of one gate's beam(s) into crossings, live or in a batch."""

    def __init__(self, gate: Gate, method: Method, settings: DetectionSettings) -> None:
        self.gate = gate
        self.method = method
        self.settings = settings
        self._beam_broken = {beam: False for beam in gate.beams}
        self._single_beam = len(gate.beams) == 1
        self._beam_last_ns: dict[str, int] = {}
        self._broken = False  # every beam of the gate broken
        self._now: int | None = None  # latest instant known: edges and advance() calls
        # The passage under way: its breaks, edges, and whether it is decided.
        self._breaks: list[_Break] = []
        self._edges: list[Edge] = []
        self._decided = False
        self._window_ends: int | None = None  # the window closes: set once the first real break is known
        self._short_break = False  # some break of this passage ended shorter than a glitch
        self._clear_since = 0  # when the gate last went clear: read only once a break has ended
        self._torsos: deque[int] = deque(maxlen=_RECENT_TORSOS)  # the lengths of the gate's last torsos
        self._extents: deque[int] = deque(maxlen=_RECENT_TORSOS)  # and their extents

    @property
    def broken(self) -> bool:
        return self._broken

    @property
    def busy(self) -> bool:
        """A passage is under way: the passing of time may decide something."""
        return bool(self._breaks)

    def undecided_since(self) -> int | None:
        """The start of the passage still being judged: its crossing can be no earlier."""
        now = self._now
        if self._breaks and not self._decided and now is not None:
            for brk in self._breaks:
                # A glitch that can no longer grow is never the crossing: skip it, or a
                # gate glitching every few hundred ms would hold back every other gate.
                if brk.end is None or brk.end - brk.start >= self.settings.glitch_ns or now - brk.end < self.settings.bridge_ns:
                    return brk.start
        return None

    def feed(self, edge: Edge) -> list[Event]:
        # A recompute calls this a million times: one call per edge, and none to the helpers
        # when the edge closes nothing (their conditions are inlined, so they are cheap to test).
        beam, t_ns, broken = edge
        levels = self._beam_broken
        level = levels.get(beam)
        if level is None:
            return [Anomaly(beam, t_ns, f"beam {beam} is not part of gate {self.gate.name}")]
        last = self._beam_last_ns.get(beam)
        if last is not None and t_ns < last:
            return [Anomaly(beam, t_ns, f"edge arrived out of order ({t_ns} after {last}): ignored")]
        now = self._now
        if now is not None and t_ns < now:
            # Time has already passed this instant: decisions and the watermark rest on that.
            return [Anomaly(beam, t_ns, f"edge arrived out of order ({t_ns} after {now}): ignored")]
        if broken == level:
            if last is None and not broken:
                self._beam_last_ns[beam] = t_ns  # a first 'clear' only confirms the start state
                return []
            state = "broken" if broken else "clear"
            return [Anomaly(beam, t_ns, f"beam reported {state} twice in a row (an edge was missed): ignored")]
        breaks = self._breaks
        if breaks and (now is None or t_ns > now) and (
            (not self._decided and (self._window_ends is None or t_ns >= self._window_ends))
            or (not self._broken and t_ns - self._clear_since >= self.settings.rearm_ns)
        ):
            events = self.advance(t_ns)  # time passing up to the edge closes something: advance()'s tests, inlined
            breaks = self._breaks  # a new passage, if it ended the last
        else:
            events = []
        self._now = t_ns
        self._beam_last_ns[beam] = t_ns
        levels[beam] = broken
        if not self._single_beam:
            broken = all(levels.values())
        if breaks or broken:
            self._edges.append(edge)
        if broken != self._broken:
            self._broken = broken
            if not broken:
                brk = breaks[-1]
                brk.end = self._clear_since = t_ns
                if t_ns - brk.start < self.settings.glitch_ns:
                    self._short_break = True  # a glitch, unless a flicker later extends it
            elif breaks and (brk := breaks[-1]).end is not None and t_ns - brk.end < self.settings.bridge_ns:
                if brk.gaps is None:
                    brk.gaps = [brk.end, t_ns]
                else:
                    brk.gaps += (brk.end, t_ns)
                brk.end = None  # a flicker: the same break goes on
            else:
                breaks.append(_Break(t_ns, None))
        if breaks and not self._decided and (self._window_ends is None or t_ns >= self._window_ends):
            events += self._decide()  # the edge may settle the passage: _may_decide(), inlined
        return events

    def _may_decide(self, now_ns: int) -> bool:
        """Undecided, and not inside a window that is still open."""
        return not self._decided and (self._window_ends is None or now_ns >= self._window_ends)

    def advance(self, now_ns: int) -> list[Event]:
        """Time has reached ``now_ns`` with no edge since: close what that closes."""
        if self._now is not None and now_ns <= self._now:
            return []
        self._now = now_ns
        if not self._breaks:
            return []
        events = self._decide() if self._may_decide(now_ns) else []
        if self._breaks and not self._broken and now_ns - self._clear_since >= self.settings.rearm_ns:
            events += self._end_passage()
        return events

    def flush(self) -> list[Event]:
        """The stream has ended: decide what can be decided."""
        if not self._breaks:
            return []
        if self._broken:  # broken to the end: judge the break as it stands
            return self._decide(final=True) + self._glitches()
        rearmed = self._clear_since + self.settings.rearm_ns
        return self.advance(rearmed if self._now is None else max(self._now, rearmed))

    def _decide(self, final: bool = False) -> list[Event]:
        now = self._now
        if self._decided or not self._breaks or now is None:
            return []
        if not final and self._window_ends is not None and now < self._window_ends:
            return []  # breaks may still start inside the window: nothing to decide yet
        s = self.settings
        anchor = None  # start of the first break that is surely no glitch
        best: _Break | None = None
        best_len = -1
        for brk in self._breaks:
            if anchor is not None and brk.start >= anchor + s.window_ns:
                break  # starts too late to be part of this crossing
            # At the end (final) a break still under way is judged as it stands.
            closed = final or (brk.end is not None and now - brk.end >= s.bridge_ns)
            length = (brk.end if brk.end is not None else now) - brk.start
            if length < s.glitch_ns:
                if closed:
                    continue  # a glitch: reported when the passage ends
                return []  # too short yet to say whether it is a glitch
            if anchor is None:
                anchor = brk.start
                self._window_ends = anchor + s.window_ns
                if self.method is Method.FIRST:
                    return self._cross(brk.start)
            if not closed and length <= best_len and not final:
                return []  # still growing, and might yet beat the best
            if length > best_len:
                best, best_len = brk, length
        if anchor is None or best is None:
            return []
        if final or now >= anchor + s.window_ns:
            # Judged as the break stood when the window closed, so that live and batch agree.
            # Both beams broken for less than a glitch is a sliver where a limb in one beam
            # overlaps a body in the other, not the body's front: it is a raw break like any other.
            join_ns = s.glitch_ns if self._single_beam else 0
            cap = min(now, anchor + s.window_ns)
            recent = (self._torsos, self._extents) if self._torsos else None
            if recent is not None:
                best = self._last_torso_sized(best, cap)
            torso, length, extent = best.torso_start(cap, join_ns, recent)
            self._torsos.append(length)
            self._extents.append(extent)
            return self._cross(torso)
        return []

    def _last_torso_sized(self, best: _Break, cap: int) -> _Break:
        """A break with a torso-sized raw break, or the last of the breaks with one that follow
        it close together (each less than half a torso after the one before, by ``cap``): a body
        has one torso, and a limb carried ahead of it passes first."""
        later = self._breaks[self._breaks.index(best) + 1 :]
        if not later or later[0].start > cap:
            return best  # the common passage: nothing after it to weigh (the medians are not worked out)
        extent_ns = typical_torso_ns(self._extents)
        if not _torso_sized(best.longest_raw(cap), extent_ns):
            return best
        share, whole = _CLOSE
        last_end = best.end
        for brk in later:
            if last_end is None or brk.start > cap or (brk.start - last_end) * whole >= extent_ns * share:
                break
            if _torso_sized(brk.longest_raw(cap), extent_ns):
                best = brk
            last_end = brk.end
        return best

    def _cross(self, t_ns: int) -> list[Event]:
        self._decided = True
        return [Crossing(self.gate.name, t_ns, self.method, tuple(self._edges))]

    def _glitches(self) -> list[Event]:
        if not self._short_break:
            return []  # the common passage: nothing to look for
        ms = self.settings.glitch_ns / NS_PER_MS
        return [
            Anomaly(self.gate.name, b.start, f"break of {b.end - b.start} ns is shorter than the {ms:g} ms glitch threshold: ignored")
            for b in self._breaks
            if b.end is not None and b.end - b.start < self.settings.glitch_ns
        ]

    def _end_passage(self) -> list[Event]:
        events = [] if self._decided else self._decide(final=True)
        if self._short_break:
            events += self._glitches()
        self._breaks, self._edges, self._decided, self._window_ends = [], [], False, None
        self._short_break = False
        return events


class LayoutDetector:
    """All the gates of a layout: routes edges, and releases crossings in time order.

    A crossing is released once no gate can still produce an earlier one (the
    watermark), so whatever consumes crossings sees them in order, live or in
    a batch. Anomalies are released at once.
    """

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.gates = {gate.name: GateDetector(gate, layout.method, layout.settings) for gate in layout.gates}
        self._detectors = tuple(self.gates.values())
        self._by_beam = {beam: self.gates[gate.name] for gate in layout.gates for beam in gate.beams}
        self._order = {gate.name: i for i, gate in enumerate(layout.gates)}
        self._held: list[Crossing] = []
        self._now: int | None = None

    def feed(self, edge: Edge) -> list[Event]:
        detector = self._by_beam.get(edge.beam)
        if detector is None:
            return [_unknown_beam(edge)]
        if self._now is not None and edge.t_ns < self._now:
            # Crossings up to now may be released already: a late edge would make a phantom or reorder them.
            return [Anomaly(edge.beam, edge.t_ns, f"edge arrived out of order ({edge.t_ns} after {self._now}): ignored")]
        events = self._advance_all(edge.t_ns, skip=detector)  # it advances itself as it takes the edge
        events += detector.feed(edge)
        if not events and not self._held:
            return events
        return self._release(events)

    def advance(self, now_ns: int) -> list[Event]:
        return self._release(self._advance_all(now_ns))

    def flush(self) -> list[Event]:
        events = [event for detector in self.gates.values() for event in detector.flush()]
        return self._release(events, everything=True)

    def _advance_all(self, now_ns: int, skip: GateDetector | None = None) -> list[Event]:
        if self._now is None or now_ns > self._now:
            self._now = now_ns
        # An idle gate has nothing to decide; it catches up when its next edge comes.
        events: list[Event] = []
        for detector in self._detectors:
            if detector is not skip and detector.busy:
                events += detector.advance(now_ns)
        return events

    def _release(self, events: list[Event], everything: bool = False) -> list[Event]:
        out: list[Event] = []
        for event in events:
            if isinstance(event, Crossing):
                self._held.append(event)
            else:
                out.append(event)
        if not self._held:
            return out
        self._held.sort(key=lambda c: (c.t_ns, self._order[c.gate]))
        if everything:
            ready, self._held = self._held, []
        else:
            mark = self._gates_settled_ns()
            count = sum(1 for c in self._held if mark is not None and c.t_ns < mark)
            ready, self._held = self._held[:count], self._held[count:]
        return out + ready

    def _gates_settled_ns(self) -> int | None:
        """No gate can still produce a crossing earlier than this."""
        mark = self._now
        for detector in self.gates.values():
            since = detector.undecided_since()
            if since is not None and (mark is None or since < mark):
                mark = since
        return mark

    def watermark_ns(self) -> int | None:
        """Every crossing earlier than this has been released."""
        mark = self._gates_settled_ns()
        if self._held and (mark is None or self._held[0].t_ns < mark):
            return self._held[0].t_ns
        return mark


def detect(edges: Iterable[Edge], layout: Layout) -> tuple[list[Crossing], list[Anomaly]]:
    """Every crossing in a batch of edges, in time order, and what was set aside.

    >>> layout = Layout.parse("A=0,B=10", method="first")
    >>> crossings, _ = detect([Edge("A", 5_000_000, True), Edge("A", 50_000_000, False)], layout)
    >>> [(c.gate, c.t_ns) for c in crossings]
    [('A', 5000000)]
    """
    crossings, anomalies, _ = detect_record(edges, layout)
    return crossings, anomalies


def detect_record(edges: Iterable[Edge], layout: Layout) -> tuple[list[Crossing], list[Anomaly], int | None]:
    """``detect``, plus where a live ``LayoutDetector`` would have settled at the end.

    A gate's crossings depend on its own edges only, so a whole record is
    judged gate by gate (twice as fast as routing it through the watermark)
    and the crossings are put in order at the end. The third value is the
    watermark a live detector would stand at after the last edge: runs may be
    timed out up to there, and no further, exactly as live.
    """
    detectors = [GateDetector(gate, layout.method, layout.settings) for gate in layout.gates]
    by_beam = {beam: d for d in detectors for beam in d.gate.beams}
    events: list[Event] = []
    last: int | None = None
    for edge in sorted(edges, key=_time_of):
        beam, t_ns, _ = edge  # unpacked, so rows shaped like an Edge do as well
        detector = by_beam.get(beam)
        if detector is None:
            events.append(_unknown_beam(edge))
            continue
        events += detector.feed(edge)
        last = t_ns
    settled = last
    if last is not None:
        mark = last
        for detector in detectors:
            events += detector.advance(last)
            since = detector.undecided_since()
            if since is not None and since < mark:
                mark = since
        settled = mark
    for detector in detectors:
        events += detector.flush()
    order = {gate.name: i for i, gate in enumerate(layout.gates)}
    crossings = sorted((e for e in events if isinstance(e, Crossing)), key=lambda c: (c.t_ns, order[c.gate]))
    anomalies = sorted((e for e in events if isinstance(e, Anomaly)), key=lambda a: a.t_ns)
    return crossings, anomalies, settled


_time_of = operator.itemgetter(1)  # an edge's t_ns, for sorting a million of them


def _unknown_beam(edge: Edge) -> Anomaly:
    beam, t_ns, _ = edge
    return Anomaly(beam, t_ns, f"no gate has a beam named {beam}: ignored")
