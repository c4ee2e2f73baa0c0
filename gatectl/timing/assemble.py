"""Run assembly: crossings, in time order, → runs along the gates.

A crossing at the first gate starts a run; a crossing at any later gate joins
the oldest run waiting for that gate, so several athletes on the course at once
are matched first-in-first-out. Nothing is dropped:

* a segment faster than ``max_velocity_mps`` (13 m/s: no human sprints faster)
  means the crossing was a false trigger: it is kept as a *rejected* record
  with the reason, and the run goes on waiting for a real crossing;
* a crossing that no run is waiting for is kept as a rejected *orphan*;
* a run that waits for its next gate longer than the segment would take at
  ``min_velocity_mps`` is kept as *incomplete*, with the gate it never reached.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gatectl.timing.model import NS_PER_S, Crossing, Layout, Run, RunStatus


@dataclass(frozen=True, slots=True)
class AssemblySettings:
    max_velocity_mps: float = 13.0  # faster than any sprinter: a false trigger
    min_velocity_mps: float = 1.5  # slower than a walk: the run was abandoned


@dataclass(slots=True)
class _OpenRun:
    number: int
    crossings: list[Crossing] = field(default_factory=list)
    deadline_ns: int = 0


class RunAssembler:
    """Builds runs from crossings fed in time order; ``advance`` times runs out."""

    def __init__(self, layout: Layout, settings: AssemblySettings | None = None) -> None:
        self.layout = layout
        self.settings = settings or AssemblySettings()
        self._index = {gate.name: i for i, gate in enumerate(layout.gates)}
        self._open: list[_OpenRun] = []  # oldest first
        self._next_deadline: int | None = None
        self._numbers = 0

    @property
    def open_runs(self) -> list[Run]:
        return [Run(r.number, tuple(r.crossings), RunStatus.OPEN) for r in self._open]

    def feed(self, crossing: Crossing) -> list[Run]:
        finished = self.advance(crossing.t_ns)
        index = self._index.get(crossing.gate)
        if index is None:
            return finished + [self._reject(crossing, f"gate {crossing.gate} is not in layout {self.layout.describe()}")]
        if index == 0:
            opened = _OpenRun(self._next_number(), [crossing])
            self._open.append(opened)
            self._set_deadline(opened)
            return finished
        run = next((r for r in self._open if len(r.crossings) == index), None)
        if run is None:
            return finished + [self._reject(crossing, f"orphan crossing at {crossing.gate}: no run was waiting for it")]
        last = run.crossings[-1]
        distance = self.layout.gates[index].position_m - self.layout.gates[index - 1].position_m
        elapsed = crossing.t_ns - last.t_ns
        if elapsed * self.settings.max_velocity_mps < distance * NS_PER_S:
            speed = "instantly" if elapsed == 0 else f"at {distance * NS_PER_S / elapsed:.1f} m/s"
            return finished + [
                self._reject(
                    crossing,
                    f"false trigger at {crossing.gate}: {last.gate}→{crossing.gate} ({distance:g} m) "
                    f"would be run {speed}, faster than {self.settings.max_velocity_mps:g} m/s",
                )
            ]
        run.crossings.append(crossing)
        if len(run.crossings) == len(self.layout.gates):
            self._open.remove(run)
            self._update_deadline()
            return finished + [Run(run.number, tuple(run.crossings), RunStatus.COMPLETE)]
        self._set_deadline(run)
        return finished

    @property
    def next_deadline_ns(self) -> int | None:
        """When the next open run times out, if nothing joins it first."""
        return self._next_deadline

    def advance(self, now_ns: int) -> list[Run]:
        """Time has reached ``now_ns``: runs past their deadline become incomplete."""
        if self._next_deadline is None or now_ns <= self._next_deadline:
            return []
        expired = [r for r in self._open if now_ns > r.deadline_ns]
        for run in expired:
            self._open.remove(run)
        self._update_deadline()
        return [self._incomplete(r) for r in expired]

    def flush(self) -> list[Run]:
        """The stream has ended: open runs are incomplete."""
        runs = [self._incomplete(r) for r in self._open]
        self._open = []
        self._update_deadline()
        return runs

    def _next_number(self) -> int:
        self._numbers += 1
        return self._numbers

    def _set_deadline(self, run: _OpenRun) -> None:
        index = len(run.crossings)
        distance = self.layout.gates[index].position_m - self.layout.gates[index - 1].position_m
        run.deadline_ns = run.crossings[-1].t_ns + round(distance * NS_PER_S / self.settings.min_velocity_mps)
        self._update_deadline()

    def _update_deadline(self) -> None:
        self._next_deadline = min((r.deadline_ns for r in self._open), default=None)

    def _reject(self, crossing: Crossing, reason: str) -> Run:
        return Run(self._next_number(), (crossing,), RunStatus.REJECTED, reason)

    def _incomplete(self, run: _OpenRun) -> Run:
        # One wording whether it timed out live or the record ended: a recompute
        # cannot tell how long the gates ran on after their last edge.
        missing = self.layout.gates[len(run.crossings)].name
        return Run(
            run.number,
            tuple(run.crossings),
            RunStatus.INCOMPLETE,
            f"no crossing at {missing} after {run.crossings[-1].gate} (missed break, or the athlete stopped?)",
        )
