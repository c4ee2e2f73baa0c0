"""Run assembly: crossings, in time order, → runs along the gates, by what a sprinter can do.

Two crossings can follow each other in a run only **forward** through the
gates (skipping at most ``max_missed_gates`` that missed the athlete), at a
segment speed a person running can reach (``min_velocity_mps`` to
``max_velocity_mps``), and with a speed consistent with the segment before it
(the ratio of two consecutive segment speeds within ``min_speed_ratio`` to
``max_speed_ratio``: from a standing start the second 5 m are run ~1.6× as
fast as the first; nobody slows to half speed in the middle of a sprint).

Crossings that could follow each other form a *group* (one athlete's pass, or
several athletes on the course together with whatever else crossed the
beams). A group is decided as a whole, once nothing later can join it:

* the best matching is the set of runs that uses the crossings in the longest
  runs (the sum of (crossings − 1)² over runs of three or more: two crossings
  alone are weak evidence), then the one whose segment speeds change least
  (squared log of each ratio against a gentle acceleration, ``TYPICAL_RATIO``,
  plus ``overtake_cost`` for each overtake), then the one that leaves fewest
  crossings out;
* a run seen at two gates only must be faster than ``min_pair_velocity_mps``
  (two people crossing a gate each look like a jogger), and is marked
  ``ambiguous`` if its first crossing may be someone walking back (the next
  gate was crossed before it at a walk, by a crossing no run took);
* a run whose crossings another matching uses about as well (same score and
  crossings, a cost within ``ambiguity_margin``) is marked ``ambiguous`` for
  the coach, not guessed; if its fly time stands either way, the reason says
  the acceleration zone is uncertain;
* a crossing no run takes is kept as *rejected* with the reason: a false
  trigger (faster than any sprinter), a walk-back (gates in reverse order), a
  walk-through (slower than a run), or a lone crossing of one gate;
* a run that lacks a gate says so: without the first gate the fly time stands
  and the acceleration zone was not seen; without the start of the fly zone
  there is no fly time, only the average over the whole line (*incomplete*);
  a run that stops before the last gate is *incomplete*.

**The bounded wait.** A group is decided ``decision_wait_ns`` (2 s) after its
latest crossing, and not before each of its crossings that nothing has followed
yet could no longer be followed at ``min_velocity_mps`` by a crossing at the
next gates (one may be missed: flying 30 m, 12 s after M2, 24 s after M1). A
complete run is therefore reported 2 s after its last crossing; a run that lost
its last gate, or a lone crossing, once the athlete could no longer have reached
it. A crossing later than that starts a new group. Decisions depend on crossing
times only, so live timing and a recompute give the same runs.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from dataclasses import dataclass, field
from typing import NamedTuple

from gatectl.errors import ConfigError
from gatectl.timing.model import NS_PER_S, Crossing, Layout, Run, RunStatus

TYPICAL_RATIO = 1.2  # a segment run this much faster than the one before costs nothing
_LOG_TYPICAL = math.log(TYPICAL_RATIO)
_BEAM = 32  # matchings kept while a group is searched: far more than a real group needs
_SLOWEST_WALK_MPS = 0.5  # a crossing in reverse order slower than this is not a walk-back
_RECENT_NS = 600 * NS_PER_S  # crossings remembered to recognise a walk-back: far longer than one takes
_TAKEN_KEPT = 32  # crossings of recent runs remembered at each gate, to tell a walk-back from a crossing after a run


@dataclass(frozen=True, slots=True)
class AssemblySettings:
    """What a sprinter can do, and how long a decision may wait."""

    max_velocity_mps: float = 13.0  # faster than any sprinter: a false trigger
    min_velocity_mps: float = 2.5  # slower than a jog: someone walking through
    min_pair_velocity_mps: float = 5.0  # a run seen at two gates only: slower is two people crossing one gate each
    min_speed_ratio: float = 0.85  # a segment at least this fraction of the speed of the one before
    max_speed_ratio: float = 2.2  # and at most this multiple (standing start: ~1.6)
    max_missed_gates: int = 1  # consecutive gates a run may pass unseen
    decision_wait_ns: int = 2 * NS_PER_S  # a group waits this long after its latest crossing
    overtake_cost: float = 0.2  # athletes starting apart rarely swap places on the course
    ambiguity_margin: float = 0.05  # matchings whose costs differ less are about equally plausible

    def __post_init__(self) -> None:
        for name in ("max_velocity_mps", "min_velocity_mps", "min_pair_velocity_mps", "min_speed_ratio", "max_speed_ratio"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value < math.inf:
                raise ConfigError(f"Assembly setting {name} must be a positive number, not {value!r}.")
        for name in ("overtake_cost", "ambiguity_margin"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < math.inf:
                raise ConfigError(f"Assembly setting {name} must be a number ≥ 0, not {value!r}.")
        for name in ("max_missed_gates", "decision_wait_ns"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"Assembly setting {name} must be a whole number ≥ 0, not {value!r}.")
        if not self.min_velocity_mps < self.max_velocity_mps or not self.min_speed_ratio <= 1 <= self.max_speed_ratio:
            raise ConfigError(
                "Assembly needs min_velocity_mps < max_velocity_mps and min_speed_ratio ≤ 1 ≤ max_speed_ratio."
            )


class _Member(NamedTuple):  # a named tuple: one is made per crossing, on recompute's hot path
    crossing: Crossing
    t_ns: int
    gate: int  # index in the layout


@dataclass(slots=True)
class _Group:
    members: list[_Member] = field(default_factory=list)
    followed: set[int] = field(default_factory=set)  # members some later member could follow
    deadline_ns: int = 0


# A matching: (score, cost, crossings in runs, runs as tuples of member indices in time order).
_Matching = tuple[int, float, int, tuple[tuple[int, ...], ...]]


class RunAssembler:
    """Builds runs from crossings fed in time order; ``advance`` decides groups whose wait is over."""

    def __init__(self, layout: Layout, settings: AssemblySettings | None = None) -> None:
        self.layout = layout
        self.settings = s = settings or AssemblySettings()
        self._index = {gate.name: i for i, gate in enumerate(layout.gates)}
        positions = [gate.position_m for gate in layout.gates]
        n = len(positions)
        # Elapsed time between gates i < j that a run may take: [fastest, slowest] in ns.
        self._span: list[list[tuple[int, int] | None]] = [
            [
                (math.ceil((positions[j] - positions[i]) * NS_PER_S / s.max_velocity_mps),
                 math.floor((positions[j] - positions[i]) * NS_PER_S / s.min_velocity_mps))
                if i < j <= i + 1 + s.max_missed_gates else None
                for j in range(n)
            ]
            for i in range(n)
        ]  # fmt: skip
        self._span_to = [[row[j] for row in self._span] for j in range(n)]
        # How long after a crossing the next gates could still be reached, and a group waits for it.
        self._reach = [max((span[1] for span in row if span is not None), default=0) for row in self._span]
        self._wait = s.decision_wait_ns
        self._reach_or_wait = [max(reach, s.decision_wait_ns) for reach in self._reach]
        self._positions = positions
        self._last = n - 1
        self._groups: list[_Group] = []
        self._next_deadline: int | None = None
        self._numbers = 0
        # Each gate's recent crossings, and how long before a crossing the next gate is crossed by
        # someone walking back (at a walk: _SLOWEST_WALK_MPS to min_velocity_mps).
        self._recent: list[deque[int]] = [deque() for _ in range(n)]
        self._walk_back = [
            (math.ceil((positions[i + 1] - positions[i]) * NS_PER_S / s.min_velocity_mps),
             math.floor((positions[i + 1] - positions[i]) * NS_PER_S / _SLOWEST_WALK_MPS))
            if i < n - 1 else (0, 0)
            for i in range(n)
        ]  # fmt: skip
        # Each gate's recent crossings that runs took: a walk-back never starts from a run's own crossing.
        self._taken: list[deque[int]] = [deque(maxlen=_TAKEN_KEPT) for _ in range(n)]

    @property
    def open_runs(self) -> list[Run]:
        """Each undecided group's crossings, as an open run."""
        return [Run(0, tuple(m.crossing for m in g.members), RunStatus.OPEN) for g in self._groups]

    @property
    def next_deadline_ns(self) -> int | None:
        """When the next group is decided, if nothing joins it first."""
        return self._next_deadline

    def feed(self, crossing: Crossing) -> list[Run]:
        t = crossing.t_ns
        due = self._next_deadline
        decided = self.advance(t) if due is not None and t > due else []
        gate = self._index.get(crossing.gate)
        if gate is None:
            reason = f"gate {crossing.gate} is not in layout {self.layout.describe()}"
            return decided + [self._reject(crossing, reason)]
        recent = self._recent[gate]
        recent.append(t)
        if recent[0] < t - _RECENT_NS:
            recent.popleft()  # one for each added keeps it short; the few older ones left are ignored by time
        member = _Member(crossing, t, gate)
        # Wait for the decision, and for this crossing to be followed if it is not at the last gate.
        last = self._last
        deadline = t + (self._wait if gate == last else self._reach_or_wait[gate])
        spans, reach = self._span_to[gate], self._reach
        joined: list[_Group] = []
        for group in self._groups:
            linked = False
            waits = deadline
            followed = group.followed
            for k, m in enumerate(group.members):
                span = spans[m.gate]
                if span is not None and span[0] <= t - m.t_ns <= span[1]:
                    followed.add(k)
                    linked = True
                elif m.gate != last and k not in followed and m.t_ns + reach[m.gate] > waits:
                    waits = m.t_ns + reach[m.gate]
            if linked:
                joined.append(group)
                group.deadline_ns = waits
        if not joined:
            self._groups.append(_Group([member], set(), deadline))
        else:
            group = joined[0]
            for merged in joined[1:]:  # the crossing links groups: they become one
                group.members += merged.members
                group.deadline_ns = max(group.deadline_ns, merged.deadline_ns)
                self._groups.remove(merged)
            if len(joined) > 1:
                group.members.sort(key=lambda m: (m.t_ns, m.gate))
                group.followed = {k for k, m in enumerate(group.members) if self._is_followed(group, m, member)}
            group.members.append(member)  # crossings come in time order: it is the group's latest
        self._update_deadline()
        return decided

    def advance(self, now_ns: int) -> list[Run]:
        """Time has reached ``now_ns``: groups whose wait is over are decided."""
        if self._next_deadline is None or now_ns <= self._next_deadline:
            return []
        if len(self._groups) == 1:  # the usual case: one athlete's pass
            group = self._groups.pop()
            self._next_deadline = None
            return self._decide(group)
        due = sorted((g for g in self._groups if now_ns > g.deadline_ns), key=_decision_order)
        for group in due:
            self._groups.remove(group)
        self._update_deadline()
        return [run for group in due for run in self._decide(group)]

    def flush(self) -> list[Run]:
        """The stream has ended: every group is decided."""
        due = sorted(self._groups, key=_decision_order)
        self._groups = []
        self._update_deadline()
        return [run for group in due for run in self._decide(group)]

    # Waiting ------------------------------------------------------------------

    def _is_followed(self, group: _Group, member: _Member, newest: _Member) -> bool:
        for later in (*group.members, newest):
            span = self._span[member.gate][later.gate]
            if span is not None and span[0] <= later.t_ns - member.t_ns <= span[1]:
                return True
        return False

    def _update_deadline(self) -> None:
        groups = self._groups
        if len(groups) == 1:  # the usual case: one athlete on the course
            self._next_deadline = groups[0].deadline_ns
        else:
            self._next_deadline = min((g.deadline_ns for g in groups), default=None)

    # Deciding -----------------------------------------------------------------

    def _decide(self, group: _Group) -> list[Run]:
        members = group.members
        run = self._simple_run(members)  # the usual case: one athlete's pass, and nothing else
        if run is not None:
            self._numbers += 1
            return [self._lone(self._numbers, members[0]) if len(run) == 1 else self._run(self._numbers, members, run, None)]
        matchings = self._search(members)
        best = matchings[0]
        out = []
        for run in sorted(best[3]):  # members are in time order: runs in the order they began
            self._numbers += 1
            if len(run) == 1:
                out.append(self._lone(self._numbers, members[run[0]]))
            else:
                out.append(self._run(self._numbers, members, run, self._alternative(run, best, matchings)))
        return out

    def _simple_run(self, members: list[_Member]) -> tuple[int, ...] | None:
        """The one run that takes every crossing, when there is one: then nothing else matches as well."""
        previous_speed = None
        for k in range(1, len(members)):
            a, b = members[k - 1], members[k]
            span = self._span[a.gate][b.gate]
            elapsed = b.t_ns - a.t_ns
            if span is None or not span[0] <= elapsed <= span[1]:
                return None
            speed = (self._positions[b.gate] - self._positions[a.gate]) * NS_PER_S / elapsed
            if previous_speed is not None and not self._consistent(speed / previous_speed):
                return None
            previous_speed = speed
        if len(members) == 2 and previous_speed is not None and previous_speed < self.settings.min_pair_velocity_mps:
            return None
        return tuple(range(len(members)))

    def _consistent(self, ratio: float) -> bool:
        return self.settings.min_speed_ratio <= ratio <= self.settings.max_speed_ratio

    def _search(self, members: list[_Member]) -> list[_Matching]:
        """Matchings of a group's crossings into runs, best first (a beam search in time order)."""
        speeds: dict[tuple[int, int], float] = {}
        for j, b in enumerate(members):
            for i in range(j):
                a = members[i]
                span = self._span[a.gate][b.gate]
                elapsed = b.t_ns - a.t_ns
                if span is not None and span[0] <= elapsed <= span[1]:
                    speeds[i, j] = (self._positions[b.gate] - self._positions[a.gate]) * NS_PER_S / elapsed
        beam: list[_Matching] = [(0, 0.0, 0, ())]
        for x in range(len(members)):
            grown: list[_Matching] = []
            for score, cost, covered, runs in beam:
                grown.append((score, cost, covered, runs + ((x,),)))
                for k, run in enumerate(runs):
                    speed = speeds.get((run[-1], x))
                    if speed is None:
                        continue
                    extra = 0.0
                    if len(run) > 1:
                        ratio = speed / speeds[run[-2], run[-1]]
                        if not self._consistent(ratio):
                            continue
                        extra = (math.log(ratio) - _LOG_TYPICAL) ** 2
                    runs_ = runs[:k] + (run + (x,),) + runs[k + 1 :]
                    n = len(run)  # a pair scores nothing: two crossings alone are weak evidence of a run
                    grown.append((score + (0 if n == 1 else 4 if n == 2 else 2 * n - 1), cost + extra, covered + (2 if n == 1 else 1), runs_))
            grown.sort(key=_rank)
            beam = grown[:_BEAM]
        final = []
        for score, cost, covered, runs in beam:
            # Two crossings alone at a jog are more likely two people crossing one gate each.
            slow = [run for run in runs if len(run) == 2 and speeds[run[0], run[1]] < self.settings.min_pair_velocity_mps]
            if slow:
                runs = tuple(sorted([r for r in runs if r not in slow] + [(k,) for run in slow for k in run]))
                covered -= 2 * len(slow)
            final.append((score, cost + self.settings.overtake_cost * self._overtakes(members, runs), covered, runs))
        final.sort(key=_rank)
        return final

    def _overtakes(self, members: list[_Member], runs: tuple[tuple[int, ...], ...]) -> int:
        """Pairs of runs whose order at their first shared gate differs from their order at the last."""
        times = [{members[k].gate: members[k].t_ns for k in run} for run in runs if len(run) > 1]
        count = 0
        for i, a in enumerate(times):
            for b in times[i + 1 :]:
                shared = sorted(a.keys() & b.keys())
                if len(shared) > 1 and (a[shared[0]] < b[shared[0]]) != (a[shared[-1]] < b[shared[-1]]):
                    count += 1
        return count

    def _alternative(
        self, run: tuple[int, ...], best: _Matching, matchings: list[_Matching]
    ) -> tuple[int, ...] | None:
        """The run another matching, about as plausible as the best, makes of these crossings instead."""
        for score, cost, covered, runs in matchings[1:]:
            if (score, covered) == (best[0], best[2]) and cost - best[1] <= self.settings.ambiguity_margin and run not in runs:
                overlap = [r for r in runs if len(r) > 1 and set(r) & set(run)]
                return max(overlap, key=lambda r: len(set(r) & set(run))) if overlap else ()
        return None

    # Runs and rejections ------------------------------------------------------

    def _run(self, number: int, members: list[_Member], run: tuple[int, ...], alternative: tuple[int, ...] | None) -> Run:
        crossings = tuple(members[k].crossing for k in run)
        for k in run:
            self._taken[members[k].gate].append(members[k].t_ns)
        if len(run) == len(self._positions) and alternative is None:
            return Run(number, crossings, RunStatus.COMPLETE)  # every gate, nothing else as likely
        gates = [members[k].gate for k in run]
        names = [g.name for g in self.layout.gates]
        last = len(names) - 1
        notes = []
        if gates[-1] != last:
            status = RunStatus.INCOMPLETE
            notes.append(
                f"no crossing at {names[gates[-1] + 1]} after {names[gates[-1]]} (missed break, or the athlete stopped?)"
            )
        elif gates[-2] != last - 1:
            status = RunStatus.INCOMPLETE
            notes.append(
                f"no crossing at {names[last - 1]} (missed break?): no fly time; "
                f"{names[gates[0]]}→{names[last]} is the average over the whole line"
            )
        else:
            status = RunStatus.COMPLETE
        if gates[0] > 0:
            notes.append(f"{', '.join(names[: gates[0]])} not seen: timed from {names[gates[0]]}, acceleration zone not seen")
        # Gates passed unseen inside the run (a missing start of the fly zone is said above).
        skipped = [names[g] for a, b in itertools.pairwise(gates) for g in range(a + 1, b) if g != last - 1 or b != last]
        if skipped:
            notes.append(f"no crossing at {', '.join(skipped)} (missed break?)")
        ambiguous = False
        if len(run) == 2 and self._walks_back(members[run[0]]):
            # Two crossings alone, the first just as likely someone walking back: not to be trusted.
            ambiguous = True
            notes.insert(0, f"ambiguous: {names[gates[0]]} may be someone walking back, crossed after {names[gates[0] + 1]}")
        elif alternative is not None:
            fly = [k for k in run if gates[-1] == last and members[k].gate >= last - 1]
            other = self._difference(members, run, alternative)
            if len(fly) == 2 and set(fly) <= set(alternative):  # the fly time stands either way
                notes.insert(0, f"acceleration zone uncertain: {other} would fit about as well")
            else:
                ambiguous = True
                notes.insert(0, f"ambiguous: {other} would fit about as well; check it")
        return Run(number, crossings, status, "; ".join(notes) or None, ambiguous)

    def _difference(self, members: list[_Member], run: tuple[int, ...], alternative: tuple[int, ...]) -> str:
        """How the alternative differs from the run: ``M1 at +1.00 s, without M3`` (times from the run's start)."""
        start = members[run[0]].t_ns
        ours = {members[k].gate: k for k in run}
        theirs = {members[k].gate: k for k in alternative}
        parts = []
        for gate, name in enumerate(g.name for g in self.layout.gates):
            k = theirs.get(gate)
            if k is not None and ours.get(gate) != k:
                parts.append(f"{name} at {(members[k].t_ns - start) / NS_PER_S:+.2f} s")
            elif k is None and gate in ours and alternative:
                parts.append(f"without {name}")
        return ", ".join(parts) or "another matching of these crossings"

    def _walks_back(self, member: _Member) -> bool:
        """Whether the crossing may continue someone walking back: the next gate was crossed before
        it, as long before as a walk takes, by a crossing no run took, and nobody has crossed this
        gate since as that walker would have."""
        gate, t = member.gate + 1, member.t_ns
        if gate > self._last:
            return False
        earliest, latest = self._walk_back[member.gate]
        here = self._recent[member.gate]
        return any(
            earliest <= t - back <= latest
            and back not in self._taken[gate]
            and not any(back + earliest <= u < t for u in here)
            for back in self._recent[gate]
        )

    def _before(self, member: _Member) -> tuple[int, int] | None:
        """The latest crossing at another gate up to this one: (gate, t_ns)."""
        latest = None
        for gate, recent in enumerate(self._recent):
            if gate != member.gate:
                seen = next((t for t in reversed(recent) if t <= member.t_ns), None)
                if seen is not None and (latest is None or seen >= latest[1]):
                    latest = (gate, seen)
        return latest

    def _lone(self, number: int, member: _Member) -> Run:
        """A crossing no run took, with the likeliest reason why."""
        gate, name = member.gate, member.crossing.gate
        reason = (
            f"lone crossing at {name}: no later gate was crossed at a running pace after it "
            "(someone crossing one gate, a ball, or a start abandoned)"
            if gate == 0
            else f"orphan crossing at {name}: no run was waiting for it"
        )
        if self._walks_back(member):
            reason = f"walk-back at {name}: crossed after {self.layout.gates[gate + 1].name}, in reverse order"
        elif (before := self._before(member)) is not None:
            other, seen = before
            elapsed = member.t_ns - seen
            distance = abs(self._positions[gate] - self._positions[other])
            slowest = distance * NS_PER_S / _SLOWEST_WALK_MPS
            mark = f"{self.layout.gates[other].name}→{name}"
            if other < gate and elapsed * self.settings.max_velocity_mps < distance * NS_PER_S:
                speed = "instantly" if elapsed == 0 else f"at {distance * NS_PER_S / elapsed:.1f} m/s"
                reason = (
                    f"false trigger at {name}: {mark} ({distance:g} m) would be run {speed}, "
                    f"faster than {self.settings.max_velocity_mps:g} m/s"
                )
            elif other < gate and elapsed * self.settings.min_velocity_mps > distance * NS_PER_S and elapsed <= slowest:
                reason = (
                    f"orphan crossing at {name}: {mark} at {distance * NS_PER_S / elapsed:.1f} m/s is slower "
                    f"than a run ({self.settings.min_velocity_mps:g} m/s): someone walking through?"
                )
        return Run(number, (member.crossing,), RunStatus.REJECTED, reason)

    def _reject(self, crossing: Crossing, reason: str) -> Run:
        self._numbers += 1
        return Run(self._numbers, (crossing,), RunStatus.REJECTED, reason)


def _decision_order(group: _Group) -> tuple[int, int]:
    return group.deadline_ns, group.members[0].t_ns


def _rank(matching: _Matching) -> tuple[int, float, int, tuple[tuple[int, ...], ...]]:
    score, cost, covered, runs = matching
    return -score, cost, -covered, runs
