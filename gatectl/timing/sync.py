"""How far clock sync may have moved a run's times: each gate's bound, and the run's.

A gate node stamps its beam on its own crystal; the serial source maps that
instant onto the Pi's clock, off by at most the sync's uncertainty at the time
(``gatectl.sources.nodes.clock``). A GPIO gate is stamped by the Pi's kernel:
its sync uncertainty is 0. The daemon keeps, beside the raw edges, a
``BeamSync`` each time a node beam's uncertainty changes between the batches
of edges it writes; ``SyncLog`` answers what it was for a beam at an instant,
so the run's figure is rebuilt from stored data alone (``gatectl recompute``).

A time between two crossings is off by at most the sum of their gates'
bounds, unless both gates are on one node (one clock: its offset cancels).
The run's uncertainty is the largest such sum over its crossings: the most any
time it shows (a segment, the fly) can be off through clock sync.

>>> log = SyncLog([BeamSync("M2", 0, "node-a", 20_000), BeamSync("M3", 0, "node-b", 30_000)])
>>> sync = run_sync({"M1": 10, "M2": 3_600_000_000, "M3": 6_700_000_000}, {"M1": ("M1",), "M2": ("M2",), "M3": ("M3",)}, log, 1_000_000)
>>> dict(sync.gates), sync.uncertainty_ns, sync.flagged
({'M1': 0, 'M2': 20000, 'M3': 30000}, 50000, False)
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from itertools import combinations
from typing import NamedTuple

from gatectl.timing.model import NS_PER_MS, Layout, Run
from gatectl.timing.results import RunSync

# A run is flagged above this: half the hundredth a fly time is shown to, so below it the time shown
# is at most one hundredth off. A USB node's bound (half its shortest round trip, 0.5-1.5 ms) stays
# under it; a radio link's (tens of ms: its delays may be lopsided) does not.
DEFAULT_LIMIT_NS = 5 * NS_PER_MS


class BeamSync(NamedTuple):
    """From ``t_ns`` on (the gates' clock), ``beam`` was stamped on ``clock`` (a node's id) within ``uncertainty_ns``."""

    beam: str
    t_ns: int
    clock: str
    uncertainty_ns: int


class SyncLog:
    """A session's ``BeamSync`` entries, looked up by beam and instant."""

    def __init__(self, entries: Iterable[BeamSync]) -> None:
        self._by_beam: dict[str, list[BeamSync]] = {}
        for entry in sorted(entries, key=lambda e: e.t_ns):
            self._by_beam.setdefault(entry.beam, []).append(entry)
        self._times = {beam: [e.t_ns for e in entries] for beam, entries in self._by_beam.items()}

    def __bool__(self) -> bool:
        """Some beam was on a gate node's clock: an empty log (GPIO gates only) bounds every run at 0."""
        return bool(self._by_beam)

    def at(self, beam: str, t_ns: int) -> BeamSync | None:
        """The entry in force for ``beam`` at ``t_ns``: the last one from before it, else its first; None: the Pi's own clock.

        >>> SyncLog([BeamSync("M3", 100, "n", 40), BeamSync("M3", 200, "n", 25)]).at("M3", 150).uncertainty_ns
        40
        """
        entries = self._by_beam.get(beam)
        if not entries:
            return None
        i = bisect_right(self._times[beam], t_ns)
        return entries[max(i - 1, 0)]


def sync_changes(edges: Iterable[tuple[str, int, bool]], clocks: Mapping[str, tuple[str, int]], logged: Mapping[str, tuple[str, int]]) -> list[BeamSync]:
    """What to log for a batch of edges: each node beam in it whose (clock, uncertainty) differs from ``logged``,
    from the beam's earliest edge in the batch. ``clocks``: the node beams' now; a beam not in it is on the Pi's clock.

    >>> sync_changes([("M3", 50, True), ("M3", 40, False), ("M1", 45, True)], {"M3": ("n", 12)}, {})
    [BeamSync(beam='M3', t_ns=40, clock='n', uncertainty_ns=12)]
    """
    first: dict[str, int] = {}
    for beam, t_ns, _ in edges:
        if beam in clocks and logged.get(beam) != clocks[beam]:
            first[beam] = min(t_ns, first.get(beam, t_ns))
    return [BeamSync(beam, t_ns, *clocks[beam]) for beam, t_ns in first.items()]


def run_sync(crossings: Mapping[str, int], beams: Mapping[str, Sequence[str]], log: SyncLog, limit_ns: int) -> RunSync:
    """The run's sync bounds: each crossed gate's (``beams`` maps a gate to its beams) and the largest over two crossings.

    >>> run_sync({"M1": 10, "M2": 20}, {"M1": ("M1",), "M2": ("M2",)}, SyncLog([]), 1_000_000).uncertainty_ns
    0
    """
    if not log:  # every gate on the Pi's clock: the common session, a recompute's tens of thousands of runs
        return RunSync(dict.fromkeys(crossings, 0), 0, limit_ns)
    gates: dict[str, int] = {}
    clocks: dict[str, frozenset[str | None]] = {}
    for gate, t_ns in crossings.items():
        found = [log.at(beam, t_ns) for beam in beams[gate]]
        gates[gate] = max((e.uncertainty_ns for e in found if e is not None), default=0)
        clocks[gate] = frozenset(None if e is None else e.clock for e in found)
    worst = 0
    for a, b in combinations(gates, 2):
        one_node = len(clocks[a]) == 1 and clocks[a] == clocks[b] and None not in clocks[a]
        if not one_node:
            worst = max(worst, gates[a] + gates[b])
    return RunSync(gates, worst, limit_ns)


def crossed(run: Run, layout: Layout) -> tuple[dict[str, int], dict[str, tuple[str, ...]]]:
    """What ``run_sync`` takes of a run: its crossings' instants by gate, and each crossed gate's beams."""
    crossings = {c.gate: c.t_ns for c in run.crossings}
    return crossings, {gate: layout.gate(gate).beams for gate in crossings}
