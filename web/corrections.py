"""The coach's corrections of a run, shared by Control's forms and the JSON API.

A run opened for correction shows its crossings (gate, seconds from its start;
each named by a key ``GATE@T_NS``), the crossings set aside near it, its
neighbours (to merge with) and its history. A correction of the live session is
applied by the daemon, on its thread; of another session, by the store here;
either way the corrected runs are published. Refusals are ``FieldError``s
naming the field, or ``CorrectionError``s: a 400 with the sentence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from flask import flash, redirect, url_for
from flask.typing import ResponseReturnValue

from gatectl.daemon.driver import follow_runs
from gatectl.daemon.events import publish_corrected
from gatectl.errors import StoreError
from gatectl.jsonable import Wire
from gatectl.limits import T_NS, read_integer
from gatectl.store import Store
from gatectl.timing.corrections import (
    AttachCrossing,
    Change,
    CrossingRef,
    DropCrossing,
    Kind,
    MergeRuns,
    SetAthlete,
    SplitRun,
    Undo,
    describe,
)
from gatectl.timing.model import NS_PER_S, RunStatus
from gatectl.timing.results import RunView

from . import clock
from .forms import FieldError, choice, integer, text
from .link import current_link

WHO = "coach"  # one coach password: whoever holds it is the coach
NEARBY_NS = 30 * NS_PER_S  # crossings set aside this close to a run are offered to attach to it
KINDS = tuple(k.value for k in Kind if k is not Kind.UNDO)  # what a run's form sends; an undo has its own address
_KEY = re.compile(r"^([A-Za-z][A-Za-z0-9_]{0,15})@(-?[0-9]{1,19})$")


@dataclass(frozen=True, slots=True)
class CrossingView:
    """A crossing as the coach sees it: ``key`` names it in a correction; times in seconds from the run's start."""

    key: str
    gate: str
    t_ns: int
    from_start_ns: int  # after the run's first crossing (before it: negative)
    run: int  # the id of the run it is in (a crossing set aside: its own entry)
    reason: str | None = None  # why it is set aside

    WIRE: ClassVar[Wire] = Wire(hide=("from_start_ns",), show=("from_start_s",))

    @property
    def from_start_s(self) -> float:
        return self.from_start_ns / NS_PER_S


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One correction about the run: ``sentence`` as the run's history says it."""

    id: int
    kind: str
    text: str  # "M1 crossing removed"
    who: str
    made_at: str  # wall clock, ISO 8601: a label
    applied: bool
    undone_by: int | None
    note: str | None  # why it no longer applies

    WIRE: ClassVar[Wire] = Wire(show=("sentence",))

    @property
    def sentence(self) -> str:
        """``M1 crossing removed by the coach at 10:42``."""
        try:
            at = datetime.fromisoformat(self.made_at).strftime("%H:%M")
        except ValueError:
            at = self.made_at
        return f"{self.text} by the {self.who} at {at}"


@dataclass(frozen=True, slots=True)
class RunCorrections:
    """A run opened for correction."""

    run: RunView
    crossings: tuple[CrossingView, ...]
    nearby: tuple[CrossingView, ...]  # crossings set aside within NEARBY_NS, to attach
    history: tuple[HistoryEntry, ...]
    previous: int | None  # the runs before and after it in its session, to merge with
    next: int | None
    correctable: bool  # a session timing runs through the gates (lap reps take no corrections)


def _key(gate: str, t_ns: int) -> str:
    return f"{gate}@{t_ns}"


def run_corrections(store: Store, run_id: int, session: Sequence[RunView] | None = None) -> RunCorrections:
    """The run ``run_id`` opened for correction; ``session``: its session's runs, newest first, when the caller has them."""
    run = store.run(run_id)
    start = min(run.crossings.values(), default=0)
    crossings = tuple(CrossingView(_key(g, t), g, t, t - start, run.id) for g, t in sorted(run.crossings.items(), key=lambda c: c[1]))
    if session is None:
        session = store.runs(session_id=run.session)
    end = max(run.crossings.values(), default=0)
    nearby = tuple(
        CrossingView(_key(g, t), g, t, t - start, other.id, other.reason)
        for other in reversed(session)
        if other.status is RunStatus.REJECTED and other.id != run.id
        for g, t in other.crossings.items()
        if start - NEARBY_NS <= t <= end + NEARBY_NS
    )
    real = [r for r in reversed(session) if r.status is not RunStatus.REJECTED]  # in the order they started
    at = next((k for k, r in enumerate(real) if r.id == run.id), None)
    previous = real[at - 1].id if at is not None and at > 0 else None
    following = real[at + 1].id if at is not None and at + 1 < len(real) else None
    return RunCorrections(run, crossings, nearby, _history(store, run), previous, following, store.track(run.session) is None)


def _history(store: Store, run: RunView) -> tuple[HistoryEntry, ...]:
    ids = store.run_history(run.id)
    return session_corrections(store, run.session, ids) if ids else ()


def session_corrections(store: Store, session_id: int, ids: list[int] | None = None) -> tuple[HistoryEntry, ...]:
    """The session's corrections (``ids``: only those), in order, each with what became of it: one that no
    longer applies (its crossing is gone after a recompute) is in no run's history, only here."""
    earlier = {c.id: c for c in store.corrections(session_id)}
    return tuple(
        HistoryEntry(
            row["id"], row["kind"], describe(earlier[row["id"]].change, earlier), row["who"], row["made_at"], row["applied"], row["undone_by"], row["note"]
        )
        for row in store.correction_rows(session_id, ids)
    )


def correct_run(store: Store, run_id: int, data: Mapping[str, Any]) -> RunCorrections:
    """Apply the coach's correction of run ``run_id`` (``kind`` and its fields); the run as it is after it."""
    run = store.run(run_id)
    kind = Kind(choice(data, "kind", "Correction", KINDS))
    first = _ref(store, run.session, *_first(run))
    held = list(run.crossings.items())  # where to find the run after the correction
    change: Change
    if kind in (Kind.DROP, Kind.SPLIT):
        gate, t_ns = _crossing_of(run, data)
        at = _ref(store, run.session, gate, t_ns)
        change = DropCrossing(at) if kind is Kind.DROP else SplitRun(at)
    elif kind is Kind.ATTACH:
        gate, t_ns = _read_key(data, "crossing")
        aside = store.run_with_crossing(run.session, gate, t_ns)
        if aside is None or aside.status is not RunStatus.REJECTED:
            raise FieldError("crossing", f"The {gate} crossing at {_seconds(t_ns)} is not set aside in this session: only those can be attached.")
        change = AttachCrossing(_ref(store, run.session, gate, t_ns), first)
    elif kind is Kind.MERGE:
        other_id = integer(data, "run", "Run to merge with")
        try:
            other = store.run(other_id)
        except StoreError:
            raise FieldError("run", f"There is no run {other_id} to merge with.") from None
        if other.session != run.session or other.id == run.id:
            raise FieldError("run", f"Run {other.number} is not another run of session {run.session}: it cannot be merged with this one.")
        change = MergeRuns(first, _ref(store, run.session, *_first(other)))
        held += list(other.crossings.items())
    else:
        athlete_id = integer(data, "athlete", "Athlete", required=False)
        name = None
        if athlete_id is not None:
            try:
                name = store.athlete(athlete_id)["name"]
            except StoreError:
                raise FieldError("athlete", f"There is no athlete {athlete_id}.") from None
        change = SetAthlete(first, athlete_id, name)
    _apply(store, run.session, change)
    after = [found for g, t in sorted(held, key=lambda c: c[1]) if (found := store.run_with_crossing(run.session, g, t)) is not None]
    return run_corrections(store, _shown(after).id)


def run_form(run_id: int, **_: object) -> str:
    """Where a run's forms are on a page (Control's, History's): its card."""
    return f"run-{run_id}"


def corrected(panel: RunCorrections, endpoint: str, **args: Any) -> ResponseReturnValue:
    """Back to the page (``endpoint`` with ``args``) with the corrected run open, its latest correction said."""
    flash(f"Run {panel.run.number}: {panel.history[-1].sentence}." if panel.history else f"Run {panel.run.number} corrected.")
    return redirect(url_for(endpoint, **args, open=panel.run.id, _anchor=run_form(panel.run.id)))


def _shown(runs: list[RunView]) -> RunView:
    """The run to show after a correction: the first that is a run, else the first crossing set aside."""
    shown = next((r for r in runs if r.status is not RunStatus.REJECTED), runs[0] if runs else None)
    if shown is None:  # every crossing is in a run or set aside: not reached
        raise StoreError("The corrected run is not shown: see the session's runs.")
    return shown


def undo(store: Store, correction_id: int) -> RunCorrections:
    """Undo correction ``correction_id``; the run it was about, as it is after the undo."""
    row = store.correction(correction_id)
    undo_id = _apply(store, row["session_id"], Undo(correction_id))
    return run_corrections(store, _shown(store.runs_of_correction(row["session_id"], undo_id)).id)


def _apply(store: Store, session_id: int, change: Change) -> int:
    """Keep and apply the correction (on the daemon thread if its session is live); publish the corrected runs."""
    made_at = clock.now(store)
    daemon = current_link().daemon
    if daemon is not None and daemon.snapshot().session_id == session_id:
        return daemon.correct(session_id, change, WHO, made_at)
    correction_id, _ = store.correct(session_id, change, WHO, made_at)
    bus = current_link().bus
    if bus is not None:
        publish_corrected(bus, session_id, correction_id, store.runs_of_correction(session_id, correction_id))
    follow_runs(store, session_id, None)  # its workout's stored summary
    return correction_id


def _read_key(data: Mapping[str, Any], name: str) -> tuple[str, int]:
    """A crossing's key, ``GATE@T_NS`` (as ``run_corrections`` gives it): its gate and instant."""
    value = text(data, name, "Crossing", max_len=40)
    found = _KEY.match(value)
    if found is None:
        raise FieldError(name, f"A crossing is named GATE@NANOSECONDS, e.g. M1@12000000000, not {value!r}.")
    try:
        return found.group(1), read_integer(found.group(2), "A crossing's instant", T_NS, ValueError)
    except ValueError as exc:
        raise FieldError(name, str(exc)) from None


def _crossing_of(run: RunView, data: Mapping[str, Any]) -> tuple[str, int]:
    gate, t_ns = _read_key(data, "crossing")
    if run.crossings.get(gate) != t_ns:
        raise FieldError("crossing", f"The {gate} crossing at {_seconds(t_ns)} is not in run {run.number}.")
    return gate, t_ns


def _first(run: RunView) -> tuple[str, int]:
    return min(run.crossings.items(), key=lambda c: c[1])


def _ref(store: Store, session_id: int, gate: str, t_ns: int) -> CrossingRef:
    ref = store.crossing_ref(session_id, gate, t_ns)
    if ref is None:
        raise FieldError("crossing", f"There is no {gate} crossing at {_seconds(t_ns)} in session {session_id}.")
    return ref


def _seconds(t_ns: int) -> str:
    return f"{t_ns / NS_PER_S:.3f} s"
