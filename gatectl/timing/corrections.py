"""Coach corrections: what a coach changed about the assembled runs, applied in order.

A correction never edits the raw log nor the assembly's runs: it is a value
kept beside them, and ``apply_corrections`` folds the session's corrections, in
the order they were made, over the runs assembly gave. A recompute rebuilds the
runs from the raw log and folds the same corrections again.

Corrections name what stays put across a recompute: a crossing by its gate and
the first raw edge of its passage (``CrossingRef``: a crossing whose passage
holds that edge is the same crossing, even if detection now times it a little
differently); a run by any one of its crossings. Never a run's number or id.

* ``DropCrossing``: a crossing (a ball, a hand) leaves its run and is set aside;
* ``AttachCrossing``: a crossing set aside joins the run of another crossing;
* ``SplitRun``: a run splits before one of its crossings;
* ``MergeRuns``: the runs of two crossings become one;
* ``SetAthlete``: who ran the run of a crossing;
* ``Undo``: an earlier correction no longer counts (an undone undo counts again).

A correction that no longer applies (its crossing is gone after a recompute,
an earlier correction it relied on was undone) is kept and reported as not
applied, with the reason; it never stops the others. A reshaped run's status
follows from the gates it has; its results come from ``report`` like any run's.

>>> from gatectl.timing.model import Crossing, Layout, Run, RunStatus
>>> layout = Layout.parse("M1=0,M2=30,M3=60")
>>> ball, m2, m3 = (Crossing(g, t, "longest") for g, t in [("M1", 0), ("M2", 3_600_000_000), ("M3", 6_700_000_000)])
>>> runs = [Run(1, (ball, m2, m3), RunStatus.COMPLETE)]
>>> done = apply_corrections(runs, [Correction(1, DropCrossing(CrossingRef.of(ball)), "coach", "")], layout)
>>> [(r.run.status.value, [c.gate for c in r.run.crossings]) for r in done.runs]
[('rejected', ['M1']), ('complete', ['M2', 'M3'])]
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar

from gatectl.errors import GatectlError
from gatectl.timing.model import NS_PER_S, Crossing, Layout, Run, RunStatus

REMOVED = "removed by the coach"  # why a dropped crossing is set aside
SPLIT_OFF = "split off by the coach"  # why a crossing split off alone is set aside
CORRECTED = "corrected by the coach"  # the reason of a run the coach reshaped


class CorrectionError(GatectlError, ValueError):
    """A correction that cannot be applied; the sentence says why."""


class Kind(StrEnum):
    DROP = "drop-crossing"
    ATTACH = "attach-crossing"
    SPLIT = "split-run"
    MERGE = "merge-runs"
    ATHLETE = "set-athlete"
    UNDO = "undo"


Span = Callable[[Crossing], tuple[int, int]]


def edge_span(crossing: Crossing) -> tuple[int, int]:
    """The instants of the first and last raw edge of the crossing's passage (its instant when it has none)."""
    if crossing.edges:
        return crossing.edges[0].t_ns, crossing.edges[-1].t_ns
    return crossing.t_ns, crossing.t_ns


@dataclass(frozen=True, slots=True)
class CrossingRef:
    """A crossing as a correction names it: its gate and the first raw edge of its passage.

    ``t_ns`` is when it was timed as the correction was made: the history shows it.
    """

    gate: str
    edge_ns: int
    t_ns: int

    @classmethod
    def of(cls, crossing: Crossing, span: Span = edge_span) -> CrossingRef:
        return cls(crossing.gate, span(crossing)[0], crossing.t_ns)

    def names(self, crossing: Crossing, span: Span) -> bool:
        """Whether ``crossing`` is this one: same gate, and its passage holds the edge."""
        if crossing.gate != self.gate:
            return False
        first, last = span(crossing)
        return first <= self.edge_ns <= last

    def payload(self) -> dict[str, str | int]:
        return {"gate": self.gate, "edge_ns": self.edge_ns, "t_ns": self.t_ns}

    @classmethod
    def from_payload(cls, data: object) -> CrossingRef:
        if not isinstance(data, dict) or not isinstance(data.get("gate"), str):
            raise CorrectionError("A crossing is named by its gate, edge_ns and t_ns.")
        numbers = [data.get("edge_ns"), data.get("t_ns")]
        if any(not isinstance(n, int) or isinstance(n, bool) for n in numbers):
            raise CorrectionError("A crossing's edge_ns and t_ns are whole numbers of nanoseconds.")
        return cls(data["gate"], data["edge_ns"], data["t_ns"])


@dataclass(frozen=True, slots=True)
class DropCrossing:
    crossing: CrossingRef
    KIND: ClassVar[Kind] = Kind.DROP


@dataclass(frozen=True, slots=True)
class AttachCrossing:
    crossing: CrossingRef  # set aside now
    to: CrossingRef  # a crossing of the run it joins
    KIND: ClassVar[Kind] = Kind.ATTACH


@dataclass(frozen=True, slots=True)
class SplitRun:
    at: CrossingRef  # the first crossing of the second run
    KIND: ClassVar[Kind] = Kind.SPLIT


@dataclass(frozen=True, slots=True)
class MergeRuns:
    first: CrossingRef  # a crossing of each run
    second: CrossingRef
    KIND: ClassVar[Kind] = Kind.MERGE


@dataclass(frozen=True, slots=True)
class SetAthlete:
    run: CrossingRef  # a crossing of the run
    athlete_id: int | None  # None: nobody
    athlete: str | None = None  # the name as it was, for the history
    KIND: ClassVar[Kind] = Kind.ATHLETE


@dataclass(frozen=True, slots=True)
class Undo:
    correction: int  # the id of an earlier correction
    KIND: ClassVar[Kind] = Kind.UNDO


Change = DropCrossing | AttachCrossing | SplitRun | MergeRuns | SetAthlete | Undo


def change_payload(change: Change) -> dict[str, object]:
    """The change as stored (JSON): ``change_from_payload`` reads it back."""
    if isinstance(change, DropCrossing):
        return {"crossing": change.crossing.payload()}
    if isinstance(change, AttachCrossing):
        return {"crossing": change.crossing.payload(), "to": change.to.payload()}
    if isinstance(change, SplitRun):
        return {"at": change.at.payload()}
    if isinstance(change, MergeRuns):
        return {"first": change.first.payload(), "second": change.second.payload()}
    if isinstance(change, SetAthlete):
        return {"run": change.run.payload(), "athlete_id": change.athlete_id, "athlete": change.athlete}
    return {"correction": change.correction}


def change_from_payload(kind: str, data: Mapping[str, object]) -> Change:
    """A stored change; ``CorrectionError`` if it is not one."""
    try:
        which = Kind(kind)
    except ValueError:
        raise CorrectionError(f"A correction is one of {', '.join(k.value for k in Kind)}, not {kind!r}.") from None
    ref = CrossingRef.from_payload
    if which is Kind.DROP:
        return DropCrossing(ref(data.get("crossing")))
    if which is Kind.ATTACH:
        return AttachCrossing(ref(data.get("crossing")), ref(data.get("to")))
    if which is Kind.SPLIT:
        return SplitRun(ref(data.get("at")))
    if which is Kind.MERGE:
        return MergeRuns(ref(data.get("first")), ref(data.get("second")))
    if which is Kind.ATHLETE:
        athlete_id, name = data.get("athlete_id"), data.get("athlete")
        if athlete_id is not None and (not isinstance(athlete_id, int) or isinstance(athlete_id, bool)):
            raise CorrectionError("An athlete is named by their id, a whole number.")
        return SetAthlete(ref(data.get("run")), athlete_id, name if isinstance(name, str) else None)
    target = data.get("correction")
    if not isinstance(target, int) or isinstance(target, bool):
        raise CorrectionError("An undo names the correction it undoes by its id.")
    return Undo(target)


@dataclass(frozen=True, slots=True)
class Correction:
    """A change as the coach made it: ``id`` orders corrections; ``made_at`` is a wall-clock label, never a timing input."""

    id: int
    change: Change
    who: str
    made_at: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """What became of a correction: applied, undone (``undone_by``), or not applied and why."""

    id: int
    applied: bool
    undone_by: int | None = None
    reason: str | None = None  # why it was not applied


@dataclass(frozen=True, slots=True)
class CorrectedRun:
    """A run after the corrections.

    ``source``: the index (in the assembled runs) of the run it carries on, or
    None for a run the corrections made (the second half of a split, a crossing
    set aside); ``changed``: it differs from that run (``reshaped``: in its
    crossings); ``athlete_set``: a correction said who ran it (``athlete_id``);
    ``history``: the ids of the corrections about it, in order, undone ones too.
    """

    run: Run
    source: int | None
    changed: bool
    reshaped: bool
    athlete_set: bool
    athlete_id: int | None
    history: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Corrected:
    runs: tuple[CorrectedRun, ...]  # in the order they started
    verdicts: tuple[Verdict, ...]  # one per correction, in order


@dataclass(slots=True)
class _Work:
    crossings: list[Crossing]
    run: Run
    source: int | None
    reshaped: bool = False
    reason: str | None = None  # why a crossing set aside is
    athlete_set: bool = False
    athlete_id: int | None = None
    history: list[int] = field(default_factory=list)


def _seconds(t_ns: int) -> str:
    return f"{t_ns / NS_PER_S:.3f} s"


def describe_ref(ref: CrossingRef) -> str:
    return f"the {ref.gate} crossing at {_seconds(ref.t_ns)}"


class _Fold:
    """The runs as corrections change them, one correction after another."""

    def __init__(self, runs: Sequence[Run], layout: Layout, span: Span) -> None:
        self.layout = layout
        self.span = span
        self.order = {g.name: k for k, g in enumerate(layout.gates)}
        self.work = [_Work(list(r.crossings), r, k) for k, r in enumerate(runs)]
        # Each gate's crossings by the first edge of their passage, and the run each is in now:
        # a correction finds its crossing by bisection, not by reading every run.
        self.owner: dict[Crossing, _Work] = {c: w for w in self.work for c in w.crossings}
        passages: dict[str, list[tuple[int, int, Crossing]]] = {}
        for crossing in self.owner:
            passages.setdefault(crossing.gate, []).append((*span(crossing), crossing))
        self.passages = {gate: sorted(spans, key=lambda p: (p[0], p[1])) for gate, spans in passages.items()}
        self.firsts = {gate: [p[0] for p in spans] for gate, spans in self.passages.items()}

    def locate(self, ref: CrossingRef) -> tuple[_Work, Crossing]:
        """The run the crossing is in now, and the crossing; ``CorrectionError`` if it is gone."""
        spans = self.passages.get(ref.gate, [])
        k = bisect.bisect_right(self.firsts.get(ref.gate, []), ref.edge_ns) - 1
        if k >= 0 and spans[k][0] <= ref.edge_ns <= spans[k][1]:  # passages at one gate do not overlap: the usual case
            return self.owner[spans[k][2]], spans[k][2]
        for first, last, crossing in spans:  # crossings made up by a caller may overlap: read them all
            if first <= ref.edge_ns <= last:
                return self.owner[crossing], crossing
        raise CorrectionError(f"There is no longer {describe_ref(ref)} in this session (a recompute changed it?).")

    def find(self, ref: CrossingRef) -> _Work:
        return self.locate(ref)[0]

    def touched(self, correction: Correction, corrections: Mapping[int, Correction]) -> list[_Work]:
        """The runs a correction is about (an undo: its target's), as far as they can still be found."""
        change = correction.change
        if isinstance(change, Undo):
            target = corrections.get(change.correction)
            return self.touched(target, corrections) if target is not None and target.id < correction.id else []
        refs = {
            DropCrossing: lambda c: [c.crossing], AttachCrossing: lambda c: [c.crossing, c.to], SplitRun: lambda c: [c.at],
            MergeRuns: lambda c: [c.first, c.second], SetAthlete: lambda c: [c.run],
        }[type(change)](change)  # fmt: skip
        found: list[_Work] = []
        for ref in refs:
            try:
                work = self.find(ref)
            except CorrectionError:
                continue
            if all(work is not w for w in found):
                found.append(work)
        return found

    def apply(self, change: Change) -> list[_Work]:
        """Apply ``change`` (``CorrectionError`` if it cannot be); the runs it made or changed."""
        if isinstance(change, DropCrossing):
            work, crossing = self.locate(change.crossing)
            if len(work.crossings) == 1:
                raise CorrectionError(f"{_capital(describe_ref(change.crossing))} is not in a run: it is already set aside.")
            work.crossings.remove(crossing)
            work.reshaped = True
            return [work, self._new(work, [crossing], REMOVED, [])]
        if isinstance(change, AttachCrossing):
            lone, work = self.find(change.crossing), self.find(change.to)
            if len(lone.crossings) != 1:
                raise CorrectionError(f"{_capital(describe_ref(change.crossing))} is in a run: drop it from there first.")
            if lone is work:
                raise CorrectionError("A crossing cannot be attached to itself.")
            self._join(work, lone)
            return [work]
        if isinstance(change, SplitRun):
            work, crossing = self.locate(change.at)
            at = work.crossings.index(crossing)
            if at == 0:
                raise CorrectionError(f"{_capital(describe_ref(change.at))} starts its run: there is nothing before it to split off.")
            rest = work.crossings[at:]
            del work.crossings[at:]
            work.reshaped = True
            if len(work.crossings) == 1:
                work.reason = SPLIT_OFF
            return [work, self._new(work, rest, SPLIT_OFF, work.history)]
        if isinstance(change, MergeRuns):
            first, second = self.find(change.first), self.find(change.second)
            if first is second:
                raise CorrectionError(f"{_capital(describe_ref(change.first))} and {describe_ref(change.second)} are already in one run.")
            keep, gone = sorted((first, second), key=lambda w: w.crossings[0].t_ns)
            self._join(keep, gone)
            return [keep]
        if isinstance(change, SetAthlete):
            work = self.find(change.run)
            if len(work.crossings) == 1:
                raise CorrectionError(f"{_capital(describe_ref(change.run))} is set aside, not a run: nobody ran it.")
            work.athlete_set, work.athlete_id = True, change.athlete_id
            return [work]
        raise CorrectionError("An undo is not applied to runs.")  # settled before the fold

    def _join(self, keep: _Work, gone: _Work) -> None:
        """``gone``'s crossings join ``keep``'s run: at gates it lacks, in order through the gates."""
        both = sorted(keep.crossings + gone.crossings, key=lambda c: (c.t_ns, self.order.get(c.gate, -1)))
        gates = [c.gate for c in both]
        for gate in gates:
            if gates.count(gate) > 1:
                taken = [c for c in both if c.gate == gate]
                raise CorrectionError(
                    f"The run would cross {gate} twice ({', '.join(_seconds(c.t_ns) for c in taken)}): drop one of them first."
                )
        for before, after in itertools.pairwise(both):
            if self.order.get(before.gate, -1) >= self.order.get(after.gate, -1):
                raise CorrectionError(
                    f"The run would cross {after.gate} at {_seconds(after.t_ns)} after {before.gate} at {_seconds(before.t_ns)}: "
                    "a run goes through the gates in order."
                )
        keep.crossings[:] = both
        for crossing in gone.crossings:
            self.owner[crossing] = keep
        keep.reshaped = True
        keep.reason = None
        keep.history += [k for k in gone.history if k not in keep.history]
        if not keep.athlete_set and gone.athlete_set:
            keep.athlete_set, keep.athlete_id = True, gone.athlete_id
        self.work.remove(gone)

    def _new(self, origin: _Work, crossings: list[Crossing], reason: str, history: list[int]) -> _Work:
        """A run the corrections made out of ``origin``'s crossings, with the history it comes from.

        It has ``origin``'s number: a number after every other run's would change once assembly
        (live, or a recompute) has decided more runs.
        """
        run = Run(origin.run.number, tuple(crossings), RunStatus.REJECTED)
        work = _Work(crossings, run, None, reshaped=True, reason=reason, history=list(history))
        for crossing in crossings:
            self.owner[crossing] = work
        self.work.append(work)
        return work

    def settle(self, work: _Work) -> CorrectedRun:
        """The run as the corrections left it; a reshaped one gets the status its gates give."""
        run = work.run
        if work.reshaped:
            crossings = tuple(sorted(work.crossings, key=lambda c: c.t_ns))
            if len(crossings) == 1:
                run = Run(run.number, crossings, RunStatus.REJECTED, work.reason or CORRECTED)
            else:
                last = len(self.layout.gates) - 1
                gates = [self.order.get(c.gate, -1) for c in crossings]
                fly = gates[-1] == last and gates[-2] == last - 1
                run = Run(run.number, crossings, RunStatus.COMPLETE if fly else RunStatus.INCOMPLETE, CORRECTED)
        changed = work.reshaped or work.athlete_set or work.source is None
        return CorrectedRun(run, work.source, changed, work.reshaped, work.athlete_set, work.athlete_id, tuple(work.history))


def active(corrections: Sequence[Correction]) -> dict[int, int]:
    """Which corrections are undone, and by which undo: ``{undone id: undo id}``.

    An undo counts unless it is undone itself; latest first, since an undo
    only ever names an earlier correction. A second undo of one correction
    does nothing (``apply_corrections`` says so).
    """
    undone: dict[int, int] = {}
    for correction in reversed(corrections):
        change = correction.change
        if isinstance(change, Undo) and change.correction < correction.id and correction.id not in undone:
            undone[change.correction] = min(correction.id, undone.get(change.correction, correction.id))
    return undone


def apply_corrections(runs: Sequence[Run], corrections: Sequence[Correction], layout: Layout, span: Span = edge_span) -> Corrected:
    """The runs after ``corrections`` (in the order given), and what became of each.

    ``runs``: the assembly's, crossings and set-aside crossings alike; ``span``:
    a crossing's first and last raw edge (from its edges by default).
    """
    fold = _Fold(runs, layout, span)
    undone = active(corrections)
    by_id = {c.id: c for c in corrections}
    verdicts: list[Verdict] = []
    for correction in corrections:
        change = correction.change
        for work in fold.touched(correction, by_id):
            work.history.append(correction.id)
        if correction.id in undone:
            verdicts.append(Verdict(correction.id, False, undone_by=undone[correction.id]))
            continue
        try:
            if isinstance(change, Undo):
                _check_undo(change, correction, by_id, undone)
            else:
                for work in fold.apply(change):
                    if correction.id not in work.history:
                        work.history.append(correction.id)
        except CorrectionError as exc:
            verdicts.append(Verdict(correction.id, False, reason=str(exc)))
            continue
        verdicts.append(Verdict(correction.id, True))
    settled = [fold.settle(w) for w in fold.work]
    settled.sort(key=lambda r: (r.run.started_ns, r.run.number))
    return Corrected(tuple(settled), tuple(verdicts))


def _check_undo(change: Undo, correction: Correction, by_id: Mapping[int, Correction], undone: Mapping[int, int]) -> None:
    target = by_id.get(change.correction)
    if target is None or target.id >= correction.id:
        raise CorrectionError(f"There is no earlier correction {change.correction} to undo.")
    if undone.get(target.id) != correction.id:
        raise CorrectionError(f"Correction {target.id} is already undone.")


def check_new(runs: Sequence[Run], corrections: Sequence[Correction], new: Correction, layout: Layout, span: Span = edge_span) -> Corrected:
    """The runs after ``corrections`` and ``new``; ``CorrectionError`` with the reason if ``new`` does not apply."""
    done = apply_corrections(runs, [*corrections, new], layout, span)
    verdict = done.verdicts[-1]
    if not verdict.applied:
        raise CorrectionError(verdict.reason or "The correction does not apply.")
    return done


def describe(change: Change, earlier: Mapping[int, Correction] | None = None) -> str:
    """The change in a few words for the run's history: ``M1 crossing removed``."""
    if isinstance(change, DropCrossing):
        return f"{change.crossing.gate} crossing removed"
    if isinstance(change, AttachCrossing):
        return f"{change.crossing.gate} crossing attached"
    if isinstance(change, SplitRun):
        return f"split before {change.at.gate}"
    if isinstance(change, MergeRuns):
        return "merged with another run"
    if isinstance(change, SetAthlete):
        return "athlete cleared" if change.athlete_id is None else f"athlete set to {change.athlete or f'#{change.athlete_id}'}"
    target = (earlier or {}).get(change.correction)
    return f"undid “{describe(target.change, earlier)}”" if target is not None else f"undid correction {change.correction}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]

