"""The demo's club: simulated athletes who run when a workout calls them.

``gatectl demo`` has four sprinters run flying 30s. With no workout they take
turns, a rep every ~25 s (the free-running demo; bench/bench_demo_interval.py). Once a workout is started
(on the dashboard, or with ``--workout``), they follow it: the athlete the
workout runner calls runs next, and after the workout they wait for the next one.
For track reps they lap a track through the one gate at their target pace,
rolling through the line when it is armed, or leaving at the coach's go. A
group running each rep at once (together, or in waves) sets off a few seconds
after it is called, as if the coach had said go: each athlete at their own
pace, all through the one gate.

Two things a real group does on its own are simulated too, so the demo
shows what the dashboard does with them: the last athlete of the group tires
in the second rep of each set (6 % slower: a drop-off), and an athlete on a
jog or full recovery says they are ready when it is done.

>>> from gatectl.daemon.daemon import Daemon
>>> from gatectl.sim.source import SimSource
>>> from gatectl.timing.model import Layout
>>> store = Store(":memory:")
>>> club = DemoClub(enrol(store), ROSTER[:1], seed=1)
>>> source = SimSource(Layout.flying(), script=club)
>>> club.follow(Daemon(source, lambda: store, Layout.flying()))
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace

from gatectl.coaching.laps import LapSettings, LapTimer, StartKind
from gatectl.coaching.runner import Status
from gatectl.daemon.control import DaemonControl, DaemonSnapshot
from gatectl.daemon.workout import AthleteState, WorkoutState
from gatectl.sim.source import ROSTER
from gatectl.sim.sprinters import SimOptions, Simulation, Sprinter, lap_edges, overlay, simulate
from gatectl.store import Store
from gatectl.timing.model import NS_PER_S

FREE_GAP_NS = 15 * NS_PER_S  # free running: from one sprinter's finish to the next one's jog-in
FADE = 0.94  # the tiring athlete's top speed in their second rep of a set
JOG_MPS = 2.5  # a jog recovery, to tell when it is done
FULL_RECOVERY_NS = 120 * NS_PER_S  # "R-Full", or no rest written: ready after this (times the fast-rest scale)
ROLL_IN_NS = 4 * NS_PER_S  # from the call to a rolling start through the line


def enrol(store: Store, roster: Sequence[Sprinter] = ROSTER) -> dict[str, int]:
    """The roster as athletes in the store (made once), with race times that fit their top speed."""
    ids = {}
    for sprinter in roster:
        found = store.find_athlete(sprinter.name)
        ids[sprinter.name] = found["id"] if found else store.add_athlete(sprinter.name, notes="simulated demo athlete")
        if not store.paces(ids[sprinter.name]):
            # Rough race paces of a sprinter with this top speed: 79 % over 400 m, 66 % over 800 m, 52 % over 3000 m.
            for distance, share in ((400, 0.79), (800, 0.66), (3000, 0.52)):
                store.set_race_time(ids[sprinter.name], distance, round(distance * NS_PER_S / (sprinter.vmax_mps * share)))
    return ids


class DemoClub:
    """A ``HeatScript`` for the ``SimSource``: free running, or whoever the workout calls."""

    def __init__(
        self, ids: dict[str, int], roster: Sequence[Sprinter] = ROSTER, *, seed: int = 0, options: SimOptions = SimOptions(),
        free_running: bool = True,
    ) -> None:
        self.ids = ids
        self.roster = tuple(roster)
        self.seed = seed
        self.options = options
        self.free_running = free_running  # until a workout is started: then they wait for calls
        self.daemon: DaemonControl | None = None
        self._heats = 0
        self._next_free_ns: int | None = None
        self._heat_session: int | None = None
        self._laps_run: set[tuple[int, int]] = set()  # (session, lap number) of go starts already run
        self._called: tuple[int, int] | None = None  # a group called (session, reps done): when the club says go
        self._go_at: int | None = None

    def follow(self, daemon: DaemonControl) -> None:
        self.daemon = daemon

    # HeatScript ------------------------------------------------------------------

    def keep(self, heat: Simulation) -> bool:
        # A new session (a workout started) sends whoever is on the course off it.
        return self.daemon is not None and self.daemon.snapshot().session_id == self._heat_session

    def next_heat(self, now_ns: int) -> Simulation | None:
        daemon = self.daemon
        if daemon is None:
            return None
        live = daemon.snapshot()
        state = live.workout
        if state is None:
            return self._free_heat(daemon, live, now_ns) if self.free_running else None
        self.free_running = False
        if state.timing.wave_s is not None:
            return self._group(daemon, live, state, now_ns)
        lap = state.lap
        if lap is not None and lap.start is StartKind.GO and (state.session, lap.number) not in self._laps_run:
            self._laps_run.add((state.session, lap.number))  # the coach said go: off they go
            runner = next(a for a in state.athletes if a.id == state.running)
            return self._laps(live, state, runner, now_ns - lap.elapsed_ns, roll_in=False)
        athlete = state.next_up
        if state.finished or athlete is None:
            return None
        if athlete.status is Status.RECOVERING:
            self._maybe_ready(daemon, athlete, state.rest_scale)
            return None
        if state.status is not Status.READY or state.running is not None:
            return None
        if state.timing.mode == "line":
            sprinter, fresh = self._sprinter(state, athlete)
            sprinter = replace(sprinter, vmax_mps=sprinter.vmax_mps * fresh)
            return self._heat(live, simulate(live.layout, 1, sprinters=[sprinter], seed=self._seed(), options=self.options, start_ns=now_ns))
        if state.armed:
            return self._laps(live, state, athlete, now_ns + ROLL_IN_NS, roll_in=True)
        return None  # a go start: waiting for the coach

    # The athletes ------------------------------------------------------------------

    def _free_heat(self, daemon: DaemonControl, live: DaemonSnapshot, now_ns: int) -> Simulation | None:
        if self._next_free_ns is not None and now_ns < self._next_free_ns:
            return None
        sprinter = self.roster[self._heats % len(self.roster)]
        heat = self._heat(live, simulate(live.layout, 1, sprinters=[sprinter], seed=self._seed(), options=self.options, start_ns=now_ns))
        self._next_free_ns = heat.edges[-1].t_ns + FREE_GAP_NS
        athlete_id = self.ids[sprinter.name]  # a coach would tap the name: the run is theirs
        daemon.edit_queue(lambda queue: [*queue, athlete_id])
        return heat

    def _heat(self, live: DaemonSnapshot, heat: Simulation) -> Simulation:
        self._heats += 1
        self._heat_session = live.session_id
        return heat

    def _seed(self) -> int:
        return self.seed * 100_003 + self._heats

    def _sprinter(self, state: WorkoutState, called: AthleteState) -> tuple[Sprinter, float]:
        """The called athlete, and how fresh: tired (``FADE``) in the second rep of a set if they run last."""
        sprinter = next((s for s in self.roster if self.ids.get(s.name) == called.id), self.roster[0])
        tired = called.id == state.athletes[-1].id and called.next_rep is not None and called.next_rep.rep_no == 2
        return sprinter, FADE if tired else 1.0

    def _laps(self, live: DaemonSnapshot, state: WorkoutState, called: AthleteState, start_ns: int, roll_in: bool) -> Simulation | None:
        """Laps at the target pace (none: 3000 m race pace) from ``start_ns``, a mark at each split."""
        rep, (sprinter, fresh) = called.next_rep, self._sprinter(state, called)
        if rep is None or state.timing.lap_gate is None or state.timing.lap_m is None:
            return None  # no rep left to run, or not on a track
        target_s = rep.target.time_s
        pace_mps = fresh * (sprinter.vmax_mps * 0.52 if target_s is None else rep.distance_m / target_s)
        pace_mps *= random.Random(self._seed()).uniform(0.99, 1.01)  # nobody runs the target to the hundredth
        gate = live.layout.gate(state.timing.lap_gate)
        marks = [start_ns] if roll_in else []
        t = start_ns
        for split_m in LapTimer(gate.name, LapSettings(lap_m=state.timing.lap_m)).splits_m(rep.distance_m):
            t += round(split_m / pace_mps * NS_PER_S)
            marks.append(t)
        return self._heat(live, Simulation(lap_edges(gate, marks, speed_mps=pace_mps, seed=self._seed(), options=self.options)))

    def _group(self, daemon: DaemonControl, live: DaemonSnapshot, state: WorkoutState, now_ns: int) -> Simulation | None:
        """A group's rep: the club says go a few seconds after the group is called; then everyone runs at once."""
        group = state.group
        if group is not None and not group.done and (state.session, group.number) not in self._laps_run:
            self._laps_run.add((state.session, group.number))
            return self._group_laps(live, state, now_ns)
        athlete = state.next_up
        if state.finished or athlete is None or state.running is not None:
            return None
        if state.status is Status.RECOVERING:
            self._maybe_ready(daemon, athlete, state.rest_scale, group=True)
            return None
        if state.needs_go:
            called = (state.session, group.number if group is not None else 0)  # a new group rep is called
            if self._called != called:
                self._called, self._go_at = called, now_ns + ROLL_IN_NS
            elif self._go_at is not None and now_ns >= self._go_at:
                self._go_at = None
                daemon.workout_input("go")
        return None

    def _group_laps(self, live: DaemonSnapshot, state: WorkoutState, now_ns: int) -> Simulation | None:
        """Every athlete of the group laps from their own wave's start at their own pace, through the one gate."""
        group, gate_name, lap_m = state.group, state.timing.lap_gate, state.timing.lap_m
        if group is None or gate_name is None or lap_m is None:
            return None
        gate = live.layout.gate(gate_name)
        by_id = {a.id: a for a in state.athletes}
        bodies = []
        for runner in group.athletes:
            athlete = by_id[runner.id]
            rep, (sprinter, fresh) = athlete.next_rep, self._sprinter(state, athlete)
            if rep is None:
                continue
            target_s = rep.target.time_s
            pace_mps = fresh * (sprinter.vmax_mps * 0.52 if target_s is None else rep.distance_m / target_s)
            pace_mps *= random.Random(f"{self._seed()}:{runner.id}").uniform(0.99, 1.01)
            t = now_ns - runner.elapsed_ns  # their wave's start
            marks = []
            for split_m in LapTimer(gate.name, LapSettings(lap_m=lap_m)).splits_m(rep.distance_m):
                t += round(split_m / pace_mps * NS_PER_S)
                marks.append(t)
            bodies.append(lap_edges(gate, marks, speed_mps=pace_mps, seed=self._seed() * 31 + runner.id, options=self.options))
        return self._heat(live, Simulation(overlay(*bodies))) if bodies else None

    def _maybe_ready(self, daemon: DaemonControl, athlete: AthleteState, rest_scale: float, *, group: bool = False) -> None:
        """After a jog or a full recovery the athlete (a group: all of them) says they are ready (the coach would tap Ready)."""
        needed = FULL_RECOVERY_NS if athlete.jog_m is None else athlete.jog_m / JOG_MPS * NS_PER_S
        if athlete.rest_elapsed_ns is not None and athlete.rest_elapsed_ns >= needed * rest_scale:
            daemon.workout_input("ready", None if group else athlete.id)
