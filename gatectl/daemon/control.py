"""What the dashboard and the CLI see of the daemon: ``DaemonControl``.

Reads are one ``DaemonSnapshot``, taken on the daemon thread between two
batches of edges: its session id, layout, queue, gate lights and workout all
belong to the same moment, so a page never mixes two sessions during a
switch. Control actions run on the daemon thread too; each waits for its
answer (a ``TimeoutError`` if the daemon does not give one).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from gatectl.coaching.laps import Track
from gatectl.daemon.events import EventBus
from gatectl.daemon.faults import Fault
from gatectl.daemon.gates import GateStatus
from gatectl.daemon.workout import WorkoutPlan, WorkoutState
from gatectl.sources.nodes.status import NodeStatus
from gatectl.timing.check import CheckReport
from gatectl.timing.corrections import Change
from gatectl.timing.model import Layout


@dataclass(frozen=True, slots=True)
class DaemonSnapshot:
    """The daemon at one instant of its thread."""

    session_id: int
    layout: Layout
    place: str
    track: Track | None  # lap reps on one gate, or None: runs along the layout's line
    armed: bool  # runs count; disarmed, they are recorded but voided
    queue: tuple[int, ...]  # athlete ids, the head runs next
    gates: tuple[GateStatus, ...]  # the gates the session times
    workout: WorkoutState | None  # the workout's page state; None if none was started this session
    workout_running: bool  # a workout has reps still to run
    faults: tuple[Fault, ...] = ()  # what is wrong now (the store refusing writes, an error in the timing)
    nodes: tuple[NodeStatus, ...] = ()  # the gate nodes' link, sync and buffer (none: every gate on the Pi's GPIO)

    def gates_json(self) -> list[dict[str, Any]]:
        return [g.as_json() for g in self.gates]

    def faults_json(self) -> list[dict[str, Any]]:
        return [f.as_json() for f in self.faults]

    def nodes_json(self) -> list[dict[str, Any]]:
        return [n.as_json() for n in self.nodes]


class DaemonControl(Protocol):
    """The daemon as the web and the CLI use it."""

    @property
    def bus(self) -> EventBus:
        """Live events (crossings, runs, gates, queue, workout): subscribe from any thread."""

    def snapshot(self) -> DaemonSnapshot:
        """The daemon's state now, taken on its thread."""

    def new_session(self, layout: Layout | None = None, place: str | None = None, track: Track | None = None) -> int:
        """Close the current session (and its workout) and start another; its id."""

    def start_workout(self, plan: WorkoutPlan) -> WorkoutState:
        """Open a session for the workout and start it; its page state."""

    def workout_input(self, action: str, athlete_id: int | None = None) -> WorkoutState:
        """The coach's tap on the running workout; its page state after it."""

    def workout_mark(self, crossing_ns: int, athlete_id: int) -> WorkoutState:
        """The coach says whose a group rep's crossing was; the page state after it."""

    def run_voided(self, run_id: int) -> None:
        """A run was voided in the store: the workout runs its rep again."""

    def correct(self, session_id: int, change: Change, who: str, made_at: datetime) -> int:
        """Keep the coach's correction of a run of the live session and apply it (``CorrectionError`` if it does not
        apply); the corrected runs are published. Its id."""

    def check_report(self, since_ns: int | None = None) -> CheckReport:
        """The pre-session check of the timed gates, counting from ``since_ns`` (None: from now)."""

    def node_status(self) -> tuple[NodeStatus, ...]:
        """Each gate node's link, sync and buffer, taken on the daemon thread; none without nodes."""

    def set_armed(self, armed: bool) -> None: ...

    def set_queue(self, athlete_ids: Sequence[int]) -> None: ...

    def edit_queue(self, edit: Callable[[list[int]], list[int]]) -> list[int]:
        """Change the queue on the daemon thread (a run ending meanwhile cannot undo its pop); the new queue."""
