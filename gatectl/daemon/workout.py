"""A workout live: what the coach chose, the runner under way, and what the live page shows.

The daemon runs the workout on its thread (``Daemon.start_workout``): gate
events and the coach's taps reach the ``WorkoutRunner`` in the order they
happened. This module holds what is not the daemon's business:

* ``WorkoutPlan``: the session as chosen (notation, kind, group in running
  order, and for track reps the gate on the line, the lap and how reps start);
* ``group``: the athletes with their race times, read from the store;
* ``LiveWorkout``: the plan, its session and the runner as it stands;
* ``page_state``: the runner's view as the live page's JSON. Instants on the
  timing clock mean nothing to a browser, so a rest is sent as what is left of
  it *now* (``rest_left_ns``), and the browser counts down on its own clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from gatectl.coaching.laps import LapSplit, LapStart, LapTimerState, StartKind, Track
from gatectl.coaching.library import WorkoutKind
from gatectl.coaching.notation import parse_workout, scale_rests
from gatectl.coaching.paces import to_seconds
from gatectl.coaching.quality import RepTarget
from gatectl.coaching.runner import Athlete, AthleteSummary, AthleteView, Attempt, Effect, Outcome, RunnerView, Status, WorkoutRunner
from gatectl.errors import WorkoutError
from gatectl.store import Store
from gatectl.timing.model import NS_PER_S

DEFAULT_COUNTDOWN_NS = 5 * NS_PER_S


@dataclass(frozen=True, slots=True)
class WorkoutPlan:
    """A workout as the coach chose it; ``track`` set: reps on one gate, started ``start``."""

    text: str
    kind: WorkoutKind
    athletes: tuple[Athlete, ...]  # in running order
    slug: str | None = None  # the library session, if it is one
    track: Track | None = None
    start: StartKind = StartKind.ROLLING
    countdown_ns: int = DEFAULT_COUNTDOWN_NS  # a go: from the tap to the start

    def runner(self, rest_scale: float = 1.0) -> WorkoutRunner:
        """The runner for this plan; ``rest_scale`` shortens every timed rest (the demo's fast rests)."""
        workout = parse_workout(self.text)
        if rest_scale != 1.0:
            workout = scale_rests(workout, rest_scale)
        return WorkoutRunner.create(workout, self.kind, self.athletes)

    def options(self) -> dict:
        """How it is timed, as stored with the workout."""
        return {
            "mode": "track" if self.track else "line",
            "lap_gate": self.track.gate if self.track else None,
            "lap_m": self.track.lap_m if self.track else None,
            "start": self.start.value if self.track else None,
            "countdown_s": self.countdown_ns / NS_PER_S if self.track else None,
        }


def group(store: Store, athlete_ids: Sequence[int]) -> tuple[Athlete, ...]:
    """The athletes in running order, with their best race times (they set the targets)."""
    athletes = []
    for athlete_id in athlete_ids:
        row = store.athlete(athlete_id)
        athletes.append(Athlete(athlete_id, row["name"], store.paces(athlete_id)))
    if not athletes:
        raise WorkoutError("A workout needs at least one athlete.")
    return tuple(athletes)


@dataclass(slots=True)
class LiveWorkout:
    """The workout under way in a session: changed on the daemon thread only."""

    plan: WorkoutPlan
    session_id: int
    runner: WorkoutRunner
    rest_scale: float = 1.0
    lap: LapStart | None = None  # track reps: the rep on the track, and its splits so far
    splits: list[LapSplit] = field(default_factory=list)
    armed_for: tuple[float, RepTarget] | None = None  # the rolling start the lap gate waits for

    def next_rep_target(self, view: RunnerView) -> tuple[float, RepTarget] | None:
        """The distance and target of the next athlete's next rep, if anyone is waiting."""
        head = next((a for a in view.athletes if a.id == view.next_athlete), None)
        if head is None or head.next_rep is None:
            return None
        return head.next_rep.distance_m, head.next_rep.target


# ---- The live page's JSON ------------------------------------------------------------------------


def _target(target: RepTarget) -> dict:
    return {
        "style": target.style.value,
        "text": target.text,
        "time_s": to_seconds(target.time_ns),
        "velocity_mps": target.velocity_mps,
        "paces": [{"race": p.race, "time_s": to_seconds(p.time_ns), "velocity_mps": p.velocity_mps} for p in target.paces],
    }


def _attempt(a: Attempt) -> dict:
    return {
        "set": a.set_no,
        "rep": a.rep_no,
        "distance_m": a.distance_m,
        "outcome": a.outcome.value,
        "run": a.run_id,
        "time_s": to_seconds(a.time_ns),
        "velocity_mps": a.velocity_mps,
        "splits_s": [s / NS_PER_S for s in a.splits_ns],
        "rest_s": to_seconds(a.rest_ns),
        "check": None if a.check is None else {
            "verdict": a.check.verdict.value, "target_s": to_seconds(a.check.target_ns), "diff_s": to_seconds(a.check.diff_ns),
        },
        "drop_off": None if a.drop_off is None else {
            "percent_slower": a.drop_off.percent_slower, "against": a.drop_off.against.value,
            "reference_s": to_seconds(a.drop_off.reference_ns),
        },
        "reason": a.reason,
    }  # fmt: skip


def _athlete(view: AthleteView, now_ns: int) -> dict:
    rep = view.next_rep
    runs = [a for a in view.attempts if a.outcome is not Outcome.SKIPPED]
    return {
        "id": view.id,
        "name": view.name,
        "status": view.status.value,
        "done": view.done,
        "planned": view.planned,
        "next": None if rep is None else {
            "set": rep.set_no, "rep": rep.rep_no, "reps_in_set": rep.reps_in_set, "sets": rep.sets,
            "distance_m": rep.distance_m, "target": _target(rep.target),
        },
        "rest": view.rest,
        # What is left now; the browser adds its own clock's time since it got this.
        "rest_left_ns": None if view.rest_ends_ns is None else view.rest_ends_ns - now_ns,
        "rest_max_left_ns": None if view.rest_max_ends_ns is None else view.rest_max_ends_ns - now_ns,
        "rest_elapsed_ns": None if view.rest_since_ns is None else now_ns - view.rest_since_ns,
        "jog_m": view.jog_m,
        "suggest_end_set": view.suggest_end_set,
        "last": _attempt(runs[-1]) if runs else None,
    }  # fmt: skip


def summary_json(summary: Sequence[AthleteSummary]) -> list[dict]:
    return [
        {
            "id": s.id, "name": s.name, "planned": s.planned, "done": s.done, "skipped": s.skipped,
            "run_again": s.run_again, "on_target": s.on_target, "checked": s.checked,
            "distances": [
                {
                    "distance_m": d.distance_m, "reps": d.reps, "best_s": to_seconds(d.best_ns), "mean_s": to_seconds(d.mean_ns),
                    "slowest_s": to_seconds(d.slowest_ns), "best_velocity_mps": d.best_velocity_mps,
                    "mean_velocity_mps": d.mean_velocity_mps,
                }
                for d in s.distances
            ],
            "drop_offs": [{"set": a.set_no, "rep": a.rep_no, "percent_slower": a.drop_off.percent_slower} for a in s.drop_offs],
            "top_speed": None if s.top_speed is None else s.top_speed.message,
        }
        for s in summary
    ]  # fmt: skip


def effect_json(effect: Effect) -> dict:
    return {"cue": effect.cue.value, "athlete": effect.athlete_id, "message": effect.message}


def page_state(live: LiveWorkout, now_ns: int, *, timer: LapTimerState | None = None, effects: Sequence[Effect] = ()) -> dict:
    """The live page's workout state at ``now_ns``; ``timer`` is the lap timer's state in track mode."""
    runner, plan = live.runner, live.plan
    view = runner.view(now_ns)
    athletes = [_athlete(a, now_ns) for a in view.athletes]
    by_id = {a["id"]: a for a in athletes}
    last = max(
        ((a, athlete) for athlete in view.athletes for a in athlete.attempts if a.outcome is not Outcome.SKIPPED),
        key=lambda pair: pair[0].ended_ns, default=None,
    )  # fmt: skip
    head = by_id.get(view.next_athlete)
    called = view.status is Status.READY and head is not None
    lap = live.lap
    return {
        "session": live.session_id,
        "text": plan.text,
        "slug": plan.slug,
        "kind": plan.kind.value,
        **plan.options(),
        "rest_scale": live.rest_scale,
        "status": view.status.value,
        "next": head,
        "running": view.running,
        "set": view.set_no,
        "rep": view.rep_no,
        "athletes": athletes,
        "last": None if last is None else {**_attempt(last[0]), "athlete": last[1].id, "name": last[1].name},
        # Track reps: a rolling start waits for the line; a go waits for the coach's tap.
        "armed": timer is LapTimerState.ARMED,
        "needs_go": plan.track is not None and called and timer is LapTimerState.IDLE,
        "lap": None if lap is None else {
            "number": lap.number, "start": lap.start.value, "distance_m": lap.distance_m, "crossings": lap.crossings,
            "elapsed_ns": now_ns - lap.started_ns,  # below zero: the countdown to a go
            "splits_s": [s.split_ns / NS_PER_S for s in live.splits],
        },
        "effects": [effect_json(e) for e in effects],
        "finished": view.status is Status.FINISHED,
        "summary": summary_json(runner.summary()) if view.status is Status.FINISHED else None,
    }  # fmt: skip

