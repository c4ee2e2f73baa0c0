"""What the coach can change, shared by the forms and the JSON API.

Each action reads its fields from a submitted mapping (form or JSON), checks
them (``FieldError`` names the field), then calls the daemon (gates, queue,
sessions: they run on the daemon thread) or the store (athletes, runs).
Callers have already checked that the request comes from the coach.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app

from gatectl.coaching.group_laps import wave_gap_ns
from gatectl.coaching.laps import StartKind, Track
from gatectl.coaching.library import WorkoutKind, library_workout
from gatectl.coaching.notation import parse_workout
from gatectl.coaching.paces import RACE_TIME_KINDS, check_race, parse_race_distance, parse_race_time
from gatectl.daemon.driver import WORKOUT_ACTIONS
from gatectl.daemon.workout import WorkoutPlan, WorkoutState, group
from gatectl.errors import LayoutError, PaceError, WorkoutError
from gatectl.limits import T_NS, read_integer
from gatectl.store import Store
from gatectl.timing.model import NS_PER_S, Layout, Method
from gatectl.timing.results import RunView

from . import clock, corrections
from .forms import FieldError, boolean, choice, id_list, integer, number, text
from .link import current_link, publish_run, require_daemon

METHODS = tuple(m.value for m in Method)
WORKOUT_KINDS = tuple(k.value for k in WorkoutKind)
TIMINGS = ("flying", "track")  # through the layout's gates, or lap reps on one gate
STARTS = tuple(s.value for s in StartKind)
GROUPS = ("one", "together", "waves")  # track reps: one athlete at a time, the group at once, or in waves
QUEUE_OPS = ("add", "next", "remove", "up", "clear", "set")


# Gates and sessions ---------------------------------------------------------------


def set_armed(data: Mapping[str, Any]) -> dict:
    daemon = require_daemon()
    armed = boolean(data, "armed", "Armed")
    daemon.set_armed(armed)
    return {"armed": armed}


def edit_queue(store: Store, data: Mapping[str, Any]) -> dict:
    """Change the athlete queue: ``op`` add / next (to the head) / remove / up / clear / set."""
    daemon = require_daemon()
    op = choice(data, "op", "Queue action", QUEUE_OPS, default="set")
    if op == "set":
        wanted = id_list(data, "athletes", "Athletes")
        for athlete_id in wanted:
            _active_athlete(store, athlete_id, "athletes")

        def edit(queue: list[int]) -> list[int]:
            return wanted
    elif op in ("add", "next"):
        athlete_id = integer(data, "athlete", "Athlete")
        _active_athlete(store, athlete_id, "athlete")

        def edit(queue: list[int]) -> list[int]:
            return queue + [athlete_id] if op == "add" else [athlete_id] + queue
    elif op in ("remove", "up"):
        position = integer(data, "position", "Queue position", minimum=0, maximum=1000)

        def edit(queue: list[int]) -> list[int]:
            if position >= len(queue):
                raise FieldError("position", f"Queue position {position} is past the end of the queue ({len(queue)} waiting).")
            queue = list(queue)
            if op == "remove":
                del queue[position]
            elif position > 0:
                queue[position - 1], queue[position] = queue[position], queue[position - 1]
            return queue
    else:

        def edit(queue: list[int]) -> list[int]:
            return []

    # Edited on the daemon thread, so a run ending meanwhile cannot put back the athlete it took.
    new = daemon.edit_queue(edit)
    return {"athletes": new}


def _active_athlete(store: Store, athlete_id: int, field: str) -> dict:
    athlete = _athlete(store, athlete_id, field)
    if athlete["archived"]:
        raise FieldError(field, f"{athlete['name']} is archived: restore them on Athletes before queueing them.")
    return athlete


def _athlete(store: Store, athlete_id: int, field: str) -> dict:
    try:
        return store.athlete(athlete_id)
    except Exception as exc:  # StoreError: there is no such athlete
        raise FieldError(field, str(exc)) from None


def read_layout(data: Mapping[str, Any], current: Layout) -> Layout:
    """A layout from the form: a full ``layout`` text, or ``accel_m`` and ``fly_m`` on today's gates."""
    method = choice(data, "method", "Detection method", METHODS, default=current.method.value)
    layout_text = text(data, "layout", "Layout", required=False, max_len=300)
    try:
        if layout_text:
            layout = Layout.parse(layout_text, method, current.settings)
        else:
            if len(current.gates) != 3:
                raise FieldError("layout", f"Layout: today's gates are {current.describe()}; type the whole layout, e.g. {current.describe()}.")
            accel = number(data, "accel_m", "Acceleration zone (M1→M2)", unit="m", minimum=0.5, maximum=500)
            fly = number(data, "fly_m", "Fly zone (M2→M3)", unit="m", minimum=0.5, maximum=500)
            names = [g.name for g in current.gates]
            layout = Layout.from_positions({names[0]: 0.0, names[1]: accel, names[2]: round(accel + fly, 6)}, method, current.settings)
    except LayoutError as exc:
        raise FieldError("layout", f"Layout: {exc}") from None
    if set(layout.beams) != set(current.beams):
        raise FieldError(
            "layout" if layout_text else "method",
            f"Layout: the gates are wired as beams {', '.join(current.beams)}; this layout, {layout.describe()}, needs "
            f"{', '.join(layout.beams)}. Keep the gate names (and single or dual beams) of the config.",
        )
    return layout


def start_session(store: Store, data: Mapping[str, Any]) -> dict:
    daemon = require_daemon()
    layout = read_layout(data, daemon.snapshot().layout)
    place = text(data, "place", "Place", required=False, max_len=80, default=None)
    session_id = daemon.new_session(layout, place)
    _date_session(store, session_id)
    return {"session": session_id, "layout": layout.describe(), "method": layout.method.value}


def _date_session(store: Store, session_id: int) -> None:
    """A new session is dated by the phone's clock when one was given: the Pi's may be wrong."""
    if clock.correction(store) is not None:
        store.update_session(session_id, date=clock.now(store).date().isoformat())


def set_clock(store: Store, data: Mapping[str, Any]) -> dict:
    epoch_ms = integer(data, "epoch_ms", "The phone's time (epoch_ms)", minimum=946_684_800_000, maximum=32_503_680_000_000)
    tz_minutes = integer(data, "tz_minutes", "The phone's UTC offset (tz_minutes)", required=False, minimum=-14 * 60, maximum=14 * 60)
    result = clock.set_from_device(
        store, epoch_ms, tz_minutes if tz_minutes is not None else 0, allow_system=current_app.config["SET_SYSTEM_CLOCK"]
    )
    daemon = current_link().daemon
    if daemon is not None:
        session_id = daemon.snapshot().session_id
        store.update_session(session_id, date=result["date"])  # the session begun at boot had the Pi's date
        result["session"] = session_id
    return result


# Runs -------------------------------------------------------------------------------


def void_run(store: Store, run_id: int, data: Mapping[str, Any]) -> RunView:
    reason = text(data, "reason", "Reason for voiding", max_len=200)
    store.void_run(run_id, reason)
    daemon = current_link().daemon
    if daemon is not None:
        daemon.run_voided(run_id)  # a workout runs the rep again
    run = store.run(run_id)
    publish_run(run)
    return run


def unvoid_run(store: Store, run_id: int) -> RunView:
    store.unvoid_run(run_id)
    run = store.run(run_id)
    publish_run(run)
    return run


def assign_run(store: Store, run_id: int, data: Mapping[str, Any]) -> RunView:
    """Who ran the run. A run through the gates says so with a set-athlete correction (kept, in its history, undone
    like any other); a lap rep (track reps on one gate take no corrections) is assigned directly."""
    run = store.run(run_id)
    if store.track(run.session) is None:
        return corrections.correct_run(store, run_id, {**data, "kind": "set-athlete"}).run
    athlete_id = integer(data, "athlete", "Athlete", required=False)
    if athlete_id is not None:
        _athlete(store, athlete_id, "athlete")
    store.assign_run(run_id, athlete_id)
    run = store.run(run_id)
    publish_run(run)
    return run


# Athletes ------------------------------------------------------------------------------


def add_athlete(store: Store, data: Mapping[str, Any]) -> dict:
    name = text(data, "name", "Name", max_len=80)
    notes = text(data, "notes", "Notes", required=False, max_len=2000)
    athlete_id = _store_call("name", lambda: store.add_athlete(name, notes=notes))
    return store.athlete(athlete_id)


def update_athlete(store: Store, athlete_id: int, data: Mapping[str, Any]) -> dict:
    store.athlete(athlete_id)
    name = text(data, "name", "Name", required=False, max_len=80, default=None)
    if name == "":
        raise FieldError("name", "Name: an athlete needs a name.")
    notes = text(data, "notes", "Notes", required=False, max_len=2000, default=None)
    archived = boolean(data, "archived", "Archived") if data.get("archived") is not None else None
    _store_call("name", lambda: store.update_athlete(athlete_id, name=name, notes=notes, archived=archived))
    return store.athlete(athlete_id)


def set_race_time(store: Store, athlete_id: int, data: Mapping[str, Any]) -> dict:
    """Set a best or goal time over a distance; an empty time clears it."""
    store.athlete(athlete_id)
    raw = data.get("distance")
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):  # JSON may send metres as a number
        data = {**data, "distance": f"{raw:g}"}
    distance_text = text(data, "distance", "Distance", max_len=30)
    try:
        distance = parse_race_distance(distance_text)
    except PaceError as exc:
        raise FieldError("distance", f"Distance: {exc}") from None
    kind = choice(data, "kind", "Kind", RACE_TIME_KINDS, default="best")
    time_text = text(data, "time", "Time", required=False, max_len=30)
    time_ns = None
    if time_text:
        try:
            time_ns = parse_race_time(time_text)
            check_race(distance, time_ns)
        except PaceError as exc:
            raise FieldError("time", f"Time: {exc}") from None
    store.set_race_time(athlete_id, distance, time_ns, kind)
    return store.athlete(athlete_id)


# Workouts ------------------------------------------------------------------------------


def read_plan(store: Store, data: Mapping[str, Any], layout: Layout) -> WorkoutPlan:
    """The workout the coach chose: a library ``slug`` or typed ``text``, the group, how it is timed."""
    slug = text(data, "slug", "Library session", required=False, max_len=60)
    written = text(data, "text", "Workout", required=False, max_len=2000)
    known = None
    if slug:
        try:
            known = library_workout(slug)
        except WorkoutError as exc:
            raise FieldError("slug", f"Library session: {exc}") from None
    if not written and known is None:
        raise FieldError("text", "Workout: pick a session from the library or write one, e.g. 3 x 3 x 30m. 3:00 Rec between reps.")
    if written and known is not None and written != known.text:
        known = None  # the coach changed the session: it is theirs now
    if written:
        notation = written
    else:
        assert known is not None  # refused above: neither written nor picked from the library
        notation = known.text
    try:
        parse_workout(notation)
    except WorkoutError as exc:
        raise FieldError("text", f"Workout: {exc}") from None
    timing = choice(data, "timing", "Timing", TIMINGS, default="flying")
    default_kind = known.kind.value if known else ("track-reps" if timing == "track" else "max-velocity")
    kind = choice(data, "kind", "Kind of workout", WORKOUT_KINDS, default=default_kind)
    ids = id_list(data, "athletes", "Athletes")
    if not ids:
        raise FieldError("athletes", "Athletes: choose at least one athlete for the group.")
    if len(set(ids)) != len(ids):
        raise FieldError("athletes", "Athletes: each athlete can be in the group once only.")
    for athlete_id in ids:
        _active_athlete(store, athlete_id, "athletes")
    track, start, countdown_s, waves_ns = None, StartKind.ROLLING, 5, None
    runs = choice(data, "group", "The group runs", GROUPS, default="one")
    if timing == "track":
        gates = tuple(g.name for g in layout.gates)
        gate = choice(data, "lap_gate", "Gate on the line", gates, default=gates[0])
        lap_m = number(data, "lap_m", "Lap", unit="m", minimum=50, maximum=1000, required=False) or 400.0
        start = StartKind(choice(data, "start", "Start", STARTS, default=StartKind.ROLLING.value))
        countdown_s = integer(data, "countdown_s", "Countdown", required=False, minimum=3, maximum=60) or countdown_s
        track = Track(gate, lap_m)
        waves_ns = _waves(data, runs)
        if waves_ns is not None:
            start = StartKind.GO  # a group leaves at the go, wave after wave
    elif runs != "one":
        raise FieldError("group", "The group runs together on one gate in track reps only: choose “Track reps on one gate” for Timing.")
    return WorkoutPlan(
        notation, WorkoutKind(kind), group(store, ids), slug=known.slug if known else None,
        track=track, start=start, countdown_ns=countdown_s * NS_PER_S, waves_ns=waves_ns,
    )  # fmt: skip


def _waves(data: Mapping[str, Any], runs: str) -> int | None:
    """How a group leaves: None one at a time, 0 together, else the waves' gap in ns (``wave_s``, e.g. 5)."""
    if runs == "one":
        return None
    if runs == "together":
        return 0
    seconds = data.get("wave_s")
    if seconds is None or not str(seconds).strip():
        raise FieldError("wave_s", "Seconds between waves: give the gap, e.g. 5 for waves 5 s apart.")
    try:
        return wave_gap_ns(str(seconds), "Seconds between waves")
    except WorkoutError as exc:
        raise FieldError("wave_s", str(exc)) from None


def start_workout(store: Store, data: Mapping[str, Any]) -> WorkoutState:
    """Start a workout in a new session; the live page follows it."""
    daemon = require_daemon()
    plan = read_plan(store, data, daemon.snapshot().layout)
    try:
        state = daemon.start_workout(plan)
    except WorkoutError as exc:  # a target the group cannot run ("leaves no time")
        raise FieldError("text", f"Workout: {exc}") from None
    _date_session(store, state.session)
    return state


def workout_action(action: str, data: Mapping[str, Any]) -> WorkoutState:
    """A tap on a running workout: ``WORKOUT_ACTIONS``, about ``athlete`` or whoever runs next."""
    daemon = require_daemon()
    if action not in WORKOUT_ACTIONS:
        raise FieldError("action", f"Workout action must be one of {', '.join(WORKOUT_ACTIONS)}, not {action!r}.")
    athlete_id = integer(data, "athlete", "Athlete", required=False)
    try:
        return daemon.workout_input(action, athlete_id)
    except WorkoutError as exc:
        raise FieldError("athlete" if athlete_id is not None else "action", str(exc)) from None


def workout_mark(data: Mapping[str, Any]) -> WorkoutState:
    """The coach says whose a group rep's crossing was: ``crossing`` (its instant in ns, as text) and ``athlete``."""
    daemon = require_daemon()
    crossing = text(data, "crossing", "Crossing", max_len=40)
    try:
        crossing_ns = read_integer(crossing, "Crossing", T_NS, ValueError)
    except ValueError as exc:
        raise FieldError("crossing", str(exc)) from None
    athlete_id = integer(data, "athlete", "Athlete")
    try:
        return daemon.workout_mark(crossing_ns, athlete_id)
    except WorkoutError as exc:
        raise FieldError("athlete", str(exc)) from None


def _store_call(field: str, call):
    """A store refusal (duplicate name...) reported against the form field."""
    from gatectl.errors import StoreError

    try:
        return call()
    except StoreError as exc:
        raise FieldError(field, str(exc)) from None
