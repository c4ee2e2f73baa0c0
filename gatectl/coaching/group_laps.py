"""Track reps for a group on one gate: whose crossing was it?

A group runs a rep together, or in waves a few seconds apart, and laps the
track through the one gate on the line. The gate sees crossings, not people;
``assign`` tells them apart, from what a coach would use:

* **order**: athletes leave in the queue's order (one wave after another), and
  with nothing else to go on the first to leave is taken to be the first back;
* **plausibility**: each athlete's next crossing is expected where their pace
  puts it (their laps so far in this rep, else the target or their earlier
  reps) within ``tolerance`` of the lap time, and never faster than
  ``max_velocity_mps`` nor slower than ``min_velocity_mps`` (``GroupSettings``;
  the bounds are ``limits.LAP_VELOCITY_MPS``, as for one athlete's laps).
  Among the athletes a crossing fits, the likeliest takes it: nearest their
  expected time (a missed lap counts as far off), looking one crossing ahead,
  then who was expected first, then the queue; so a faster athlete who
  overtakes is followed by pace, not by order;
* **the whole rep**: each athlete's crossings are then judged together, their
  pace against their target (``target_spread``) and each lap against the one
  before (``lap_spread``); where two athletes' reps swapped from a lap on are
  likelier, they are swapped (a target misled the first lap, and every lap
  after fitted the mistake);
* **the coach**: a crossing the coach marked ("this was Ama") is that athlete's.

Where the gate cannot tell, the crossing is marked **ambiguous** rather than
guessed at silently: two crossings close together (within ``side_by_side_ns``)
that each fit the other athlete too (running side by side); two crossings that,
swapped, would be about as near the athletes' expected times (within
``doubt_ns`` in all: an overtake, or not?); two athletes' reps that, swapped
from a lap on, would be about as likely (within ``swap_doubt`` spreads: the
first crossing of each is in doubt); or an athlete's missing crossing that
another athlete's crossing would fit about as well (two bodies through the beam
as one). The coach's mark settles it: a swap never takes a marked crossing from
its athlete, so one mark on a swapped pair's crossing settles the pair for the
rep. What one gate cannot see is not guessed away either: a stray crossing
inside an athlete's window is taken as theirs (``bench/bench_group_laps.py``
measures how often a time is wrong without a doubt said).

Nothing is lost: a crossing that fits nobody is kept as a **stray** with the
reason; a lap an athlete ran without a crossing of their own is a **missed**
crossing, their rep still timed when the finish is seen (the split then covers
both laps).

``assign`` is a pure function of the entrants, the crossings, the coach's marks
and how far time has got: replaying a record gives exactly what was shown live.

>>> S = 1_000_000_000
>>> ama, ben = Entrant(1, 0, (400.0,), 80 * S), Entrant(2, 5 * S, (400.0,), 80 * S)
>>> laps = assign((ama, ben), (80 * S, 86 * S), 90 * S)
>>> [(a.athlete_id, a.time_ns // S, a.status.value) for a in laps.athletes]
[(1, 80, 'complete'), (2, 81, 'complete')]
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from itertools import combinations, pairwise
from typing import NamedTuple

from gatectl.errors import WorkoutError
from gatectl.limits import LAP_VELOCITY_MPS, WAVE_S, read_number
from gatectl.timing.model import NS_PER_S, RunStatus


@dataclass(frozen=True, slots=True)
class GroupSettings:
    """How sure a lap must be: ``tolerance`` of the expected lap time, the velocity bounds of any lap."""

    tolerance: Fraction = Fraction(20, 100)  # a lap within ±20 % of the expected time is plausible
    side_by_side_ns: int = NS_PER_S // 2  # two crossings this close: who was who cannot be told
    doubt_ns: int = NS_PER_S  # another assignment off the expected times by no more than this in all: in doubt (bench_group_laps)
    max_velocity_mps: float = LAP_VELOCITY_MPS.high
    min_velocity_mps: float = LAP_VELOCITY_MPS.low
    # The whole rep (``_swaps``): a target may be this far off what is run, a lap this far off the one before ...
    target_spread: Fraction = Fraction(3, 100)
    lap_spread: Fraction = Fraction(11, 1000)
    # ... and two athletes' reps swapped from a lap on, off by no more than this many spreads in all: in doubt (bench_group_laps).
    swap_doubt: Fraction = Fraction(2)

    def __post_init__(self) -> None:
        if not 0 < self.tolerance < 1:
            raise WorkoutError(f"The lap tolerance must be a fraction above 0 and below 1, not {self.tolerance}.")
        for name in ("target_spread", "lap_spread"):
            if not 0 < getattr(self, name) < 1:
                raise WorkoutError(f"{name} must be a fraction above 0 and below 1, not {getattr(self, name)}.")
        if not 0 <= self.swap_doubt <= 100:
            raise WorkoutError(f"swap_doubt must be a number of spreads from 0 to 100, not {self.swap_doubt}.")
        for name in ("side_by_side_ns", "doubt_ns"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise WorkoutError(f"{name} must be a whole number of nanoseconds ≥ 0, not {value!r}.")
        if not 0 < self.min_velocity_mps < self.max_velocity_mps < float("inf"):
            raise WorkoutError(f"Lap velocities need 0 < min < max; got {self.min_velocity_mps!r} and {self.max_velocity_mps!r}.")


@dataclass(frozen=True, slots=True)
class Entrant:
    """An athlete of the group in a rep: when they left, the split distances, the time expected (None: unknown)."""

    athlete_id: int
    started_ns: int
    splits_m: tuple[float, ...]
    expected_ns: int | None = None  # the whole rep: its target, or what the athlete ran before

    def __post_init__(self) -> None:
        if not self.splits_m or any(not 0 < m < float("inf") for m in self.splits_m):
            raise WorkoutError(f"Athlete {self.athlete_id}: a rep needs positive split distances, not {self.splits_m!r}.")
        if self.expected_ns is not None and self.expected_ns <= 0:
            raise WorkoutError(f"Athlete {self.athlete_id}: an expected time must be above zero, not {self.expected_ns} ns.")

    @property
    def distance_m(self) -> float:
        return sum(self.splits_m)


@dataclass(frozen=True, slots=True)
class CrossingCall:
    """Whose a crossing was: ``athlete_id`` and ``split`` (1-based), or a stray (None) with the reason."""

    t_ns: int
    athlete_id: int | None
    split: int | None
    ambiguous_with: tuple[int, ...] = ()  # the other athletes it may have been
    marked: bool = False  # the coach said whose it was
    reason: str | None = None  # a stray: why it fits nobody

    @property
    def ambiguous(self) -> bool:
        return bool(self.ambiguous_with)


@dataclass(frozen=True, slots=True)
class AthleteLaps:
    """One athlete's rep so far: a crossing per split (None: missed), and whether it is over."""

    athlete_id: int
    started_ns: int
    splits_m: tuple[float, ...]
    marks_ns: tuple[int | None, ...]
    status: RunStatus | None  # None: still running
    reason: str | None
    ambiguous: bool
    deadline_ns: int | None = None  # still running: times out after this instant

    @property
    def time_ns(self) -> int | None:
        """The rep's time, once its finish is seen (a missed lap in between does not matter)."""
        return None if self.status is not RunStatus.COMPLETE or self.marks_ns[-1] is None else self.marks_ns[-1] - self.started_ns

    @property
    def seen_ns(self) -> tuple[int, ...]:
        return tuple(m for m in self.marks_ns if m is not None)

    @property
    def ended_ns(self) -> int:
        """The last crossing seen (the start if none)."""
        return self.seen_ns[-1] if self.seen_ns else self.started_ns

    @property
    def splits_ns(self) -> tuple[int, ...]:
        """From the start to each crossing seen, crossing to crossing: a missed one makes a longer split."""
        return tuple(b - a for a, b in pairwise((self.started_ns, *self.seen_ns)))

    @property
    def missed(self) -> tuple[int, ...]:
        """Split numbers (1-based) whose crossing was not seen, before the last seen one."""
        last = len(self.marks_ns) if self.status is RunStatus.COMPLETE else max((k + 1 for k, m in enumerate(self.marks_ns) if m is not None), default=0)
        return tuple(k + 1 for k in range(last) if self.marks_ns[k] is None)


@dataclass(frozen=True, slots=True)
class GroupLaps:
    """The group's rep as far as time has got: whose each crossing was, each athlete's laps."""

    calls: tuple[CrossingCall, ...]
    athletes: tuple[AthleteLaps, ...]
    refused_marks: tuple[tuple[int, str], ...] = ()  # marks that cannot apply: the crossing, and why

    @property
    def done(self) -> bool:
        return all(a.status is not None for a in self.athletes)

    @property
    def deadline_ns(self) -> int | None:
        """The first instant someone still running times out (the assignment changes then); None: all done."""
        return min((a.deadline_ns for a in self.athletes if a.deadline_ns is not None), default=None)

    @property
    def ambiguous(self) -> tuple[CrossingCall, ...]:
        return tuple(c for c in self.calls if c.ambiguous)


def wave_starts(go_ns: int, count: int, wave_ns: int) -> tuple[int, ...]:
    """When each athlete leaves: one a wave, ``wave_ns`` apart in the queue's order (0: together).

    >>> wave_starts(10, 3, 5)
    (10, 15, 20)
    """
    if not isinstance(wave_ns, int) or wave_ns < 0:
        raise WorkoutError(f"The gap between waves must be a whole number of nanoseconds ≥ 0, not {wave_ns!r}.")
    return tuple(go_ns + k * wave_ns for k in range(count))


def parse_waves(text: str) -> int | None:
    """How a group leaves, as a coach writes it: ``together``, or waves a number of seconds apart.

    None: one athlete at a time (empty, ``one``, ``single``).

    >>> parse_waves("together"), parse_waves("waves 5 s apart"), parse_waves("3"), parse_waves("")
    (0, 5000000000, 3000000000, None)
    """
    words = text.strip().lower()
    if words in ("", "one", "single", "one at a time"):
        return None
    if words == "together":
        return 0
    number = words.removeprefix("waves").removesuffix("apart").strip().removesuffix("seconds").removesuffix("s").strip()
    if not number:
        raise WorkoutError("Write how the group leaves: together, or waves 5 s apart (a number of seconds, 0 to 60).")
    try:
        return wave_gap_ns(number, "The gap between waves")
    except WorkoutError as exc:
        raise WorkoutError(f"{exc} Write together, or waves 5 s apart.") from None


def wave_gap_ns(seconds: str, label: str, error: type[Exception] = WorkoutError) -> int:
    """Seconds between waves as typed (``5``, ``2.5``), within ``limits.WAVE_S``, in whole nanoseconds.

    >>> wave_gap_ns("2,5", "Gap")
    2500000000
    """
    read_number(seconds, label, WAVE_S, error)  # a sentence for anything else
    return round(Fraction(seconds.strip().replace(",", ".")) * NS_PER_S)


# ---- The assignment -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Lane:
    """An athlete being followed: their crossings so far and their pace (distances in whole millimetres)."""

    entrant: Entrant
    to_mm: tuple[int, ...]  # from the start to the end of each split
    marks: list[int | None]
    last_ns: int
    pace: tuple[int, int] | None  # the last stretch seen: its ns and mm
    fits: dict[int, dict[int, int | None]] = field(default_factory=dict)  # split index → crossings that fitted it → expected
    taken: dict[int, tuple[int, int, int | None]] = field(default_factory=dict)  # crossings taken → the window they fitted

    @classmethod
    def of(cls, entrant: Entrant) -> _Lane:
        to_mm = tuple(round(sum(entrant.splits_m[: k + 1]) * 1000) for k in range(len(entrant.splits_m)))
        return cls(entrant, to_mm, [], entrant.started_ns, None)

    @property
    def next(self) -> int:
        return len(self.marks)

    @property
    def left(self) -> bool:
        return len(self.marks) < len(self.entrant.splits_m)

    def mm_to(self, split: int) -> int:
        """From the last crossing to the end of ``split``."""
        return self.to_mm[split] - (self.to_mm[self.next - 1] if self.next else 0)


def _expected(lane: _Lane, split: int) -> int | None:
    """How long from the last crossing to the crossing ending ``split``, at the athlete's pace; None: unknown."""
    mm = lane.mm_to(split)
    if lane.pace is not None:
        ns, done_mm = lane.pace
        return (ns * mm + done_mm // 2) // done_mm
    if lane.entrant.expected_ns is not None:
        total = lane.to_mm[-1]
        return (lane.entrant.expected_ns * mm + total // 2) // total
    return None


def _bounds(lane: _Lane, split: int, settings: GroupSettings) -> tuple[int, int]:
    """The soonest and the latest the crossing ending ``split`` can come, at any velocity a lap is run at."""
    mm = lane.mm_to(split)
    fastest = lane.last_ns + mm * NS_PER_S // round(settings.max_velocity_mps * 1000)
    return fastest, lane.last_ns + mm * NS_PER_S // round(settings.min_velocity_mps * 1000)


def _window(lane: _Lane, split: int, settings: GroupSettings) -> tuple[int, int, int | None]:
    """The instants the crossing ending ``split`` may come at, and the one expected (None: unknown)."""
    fastest, slowest = _bounds(lane, split, settings)
    duration = _expected(lane, split)
    if duration is None:
        return fastest, slowest, None
    spread = duration * settings.tolerance.numerator // settings.tolerance.denominator
    expected = lane.last_ns + duration
    return max(fastest, expected - spread), min(slowest, expected + spread), expected


def _fit(lane: _Lane, t_ns: int, settings: GroupSettings) -> tuple[int, int | None] | None:
    """The first split (from the next one) whose window holds ``t_ns``, and when it was expected; None: none."""
    if t_ns <= lane.entrant.started_ns:
        return None
    for split in range(lane.next, len(lane.entrant.splits_m)):
        low, high, expected = _window(lane, split, settings)
        if low <= t_ns <= high:
            return split, expected
        if t_ns < low:
            return None
    return None


def _after(lane: _Lane, split: int, t_ns: int) -> _Lane:
    """The athlete after crossing at ``t_ns``, ending ``split`` (the splits in between missed)."""
    marks = [*lane.marks, *[None] * (split - lane.next), t_ns]
    return _Lane(lane.entrant, lane.to_mm, marks, t_ns, (t_ns - lane.last_ns, lane.mm_to(split)), lane.fits, lane.taken)


class _Option(NamedTuple):
    """A crossing as the end of one athlete's ``split``: how unlikely (``cost``), and when it was expected."""

    cost: float  # off the expected time as a share of the tolerance, plus SKIP_COST a lap skipped (a score, not a time)
    expected: int | None
    rank: int  # the athlete's place in the queue
    split: int


SKIP_COST = 0.5  # a missed crossing is rarer than a lap at the edge of the tolerance
STRAY_COST = 1.0  # the crossing after it would fit nobody


def _options(lanes: Sequence[_Lane], t_ns: int, settings: GroupSettings) -> list[_Option]:
    options = []
    for rank, lane in enumerate(lanes):
        fit = _fit(lane, t_ns, settings) if lane.left else None
        if fit is not None:
            split, expected = fit
            cost = SKIP_COST * (split - lane.next)
            if expected is not None:
                spread = max(1, (expected - lane.last_ns) * settings.tolerance.numerator // settings.tolerance.denominator)
                cost += abs(t_ns - expected) / spread
            options.append(_Option(cost, expected, rank, split))
    return options


def _choose(lanes: list[_Lane], options: list[_Option], t_ns: int, then_ns: int | None, settings: GroupSettings) -> _Option:
    """The likeliest athlete for the crossing at ``t_ns``, looking one crossing ahead (``then_ns``).

    Each choice is weighed with the best the next crossing can then be: the least
    off the athletes' expected times, a missed lap or a crossing fitting nobody
    counting as a lot off; ties go to who was expected first (unknown: who left
    first), then to the queue's order.
    """

    def weight(option: _Option) -> tuple[float, int, int]:
        cost = option.cost
        if then_ns is not None:
            after = list(lanes)
            after[option.rank] = _after(lanes[option.rank], option.split, t_ns)
            cost += min((o.cost for o in _options(after, then_ns, settings)), default=STRAY_COST)
        first = option.expected if option.expected is not None else lanes[option.rank].last_ns
        return cost, first, option.rank

    return min(options, key=weight)


def _deadline(lane: _Lane, settings: GroupSettings) -> int:
    """After this instant no crossing can finish the athlete's rep: the end of their last split's window."""
    return _window(lane, len(lane.entrant.splits_m) - 1, settings)[1]


def _seconds(t_ns: int, origin_ns: int) -> str:
    return f"{(t_ns - origin_ns) / NS_PER_S:.2f} s"


def assign(
    entrants: Sequence[Entrant],
    crossings: Sequence[int],
    now_ns: int,
    settings: GroupSettings | None = None,
    marks: Mapping[int, int] | None = None,
    stop: str | None = None,
) -> GroupLaps:
    """Whose each crossing (``t_ns``, in time order) was, when time has reached ``now_ns``.

    ``entrants`` are in the queue's order; ``marks`` maps a crossing's instant to the
    athlete the coach said it was. ``stop`` ends the rep now, saying why ("the record
    ended", "cancelled"): whoever has not finished is incomplete.
    """
    settings = settings or GroupSettings()
    marks = marks or {}
    if not entrants:
        raise WorkoutError("A group rep needs at least one athlete.")
    if len({e.athlete_id for e in entrants}) != len(entrants):
        raise WorkoutError("Each athlete can be in a group rep once only.")
    if list(crossings) != sorted(crossings):
        raise WorkoutError("The crossings of a group rep must be in time order.")
    lanes, calls, refused = _follow(entrants, crossings, settings, marks, {})
    reps = [list(lane.marks) for lane in lanes]
    swaps = list(_swaps(lanes, reps, marks, settings))
    for _ in range(len(entrants)):  # each pass gives the coach's marks their athlete, or lowers the group's cost; a few are enough
        swap = min(swaps, key=lambda swap: (-swap.settles, swap.change), default=None)
        if swap is None or (swap.settles == 0 and swap.change >= 0):
            break
        a, b, lap = reps[swap.a], reps[swap.b], swap.lap
        reps[swap.a], reps[swap.b] = a[:lap] + b[lap:], b[:lap] + a[lap:]
        swaps = list(_swaps(lanes, reps, marks, settings))
    if any(rep != lane.marks for rep, lane in zip(reps, lanes)):  # the whole rep says otherwise: follow the crossings so
        forced = {t: rank for rank, rep in enumerate(reps) for t in rep if t is not None}
        lanes, calls, refused = _follow(entrants, crossings, settings, marks, forced)
        swaps = list(_swaps(lanes, [lane.marks for lane in lanes], marks, settings))
    athletes = tuple(_result(lane, now_ns, settings, stop) for lane in lanes)
    return _with_ambiguity(calls, lanes, athletes, settings, refused, _swap_doubts(lanes, swaps, settings))


def _follow(
    entrants: Sequence[Entrant], crossings: Sequence[int], settings: GroupSettings, marks: Mapping[int, int], forced: Mapping[int, int]
) -> tuple[list[_Lane], list[CrossingCall], tuple[tuple[int, str], ...]]:
    """Crossing by crossing, the likeliest athlete for each; the coach's ``marks`` and the ``forced`` calls (rank) first."""
    origin = min(e.started_ns for e in entrants)
    lanes = [_Lane.of(e) for e in entrants]
    rank_of = {e.athlete_id: rank for rank, e in enumerate(entrants)}
    calls: list[CrossingCall] = []
    refused: list[tuple[int, str]] = []

    def take(rank: int, split: int, t_ns: int) -> None:
        lane = lanes[rank]
        lane.taken[t_ns] = _window(lane, split, settings)
        lanes[rank] = _after(lane, split, t_ns)

    for k, t in enumerate(crossings):
        options = _options(lanes, t, settings)
        for option in options:
            lanes[option.rank].fits.setdefault(option.split, {})[t] = option.expected
        if t in marks:
            marked = rank_of.get(marks[t])
            split = None if marked is None else _marked_split(lanes[marked], t, settings)
            if marked is None:
                refused.append((t, f"The crossing at {_seconds(t, origin)} was marked for athlete {marks[t]}, who is not in this group rep."))
            elif split is None:
                refused.append((t, f"The crossing at {_seconds(t, origin)} cannot be athlete {marks[t]}'s: {_why_not(lanes[marked], t, settings)}."))
            else:
                take(marked, split, t)
                calls.append(CrossingCall(t, marks[t], split + 1, marked=True))
                continue
        elif t in forced and (split := _marked_split(lanes[forced[t]], t, settings)) is not None:
            take(forced[t], split, t)
            calls.append(CrossingCall(t, entrants[forced[t]].athlete_id, split + 1))
            continue
        if not options:
            calls.append(CrossingCall(t, None, None, reason=_stray(lanes, t, origin, settings)))
            continue
        then = crossings[k + 1] if k + 1 < len(crossings) and crossings[k + 1] not in marks and crossings[k + 1] not in forced else None
        chosen = _choose(lanes, options, t, then, settings)
        take(chosen.rank, chosen.split, t)
        calls.append(CrossingCall(t, entrants[chosen.rank].athlete_id, chosen.split + 1))
    return lanes, calls, tuple(refused)


# ---- The whole rep: a swap one gate cannot rule out ---------------------------------------------

MILLI = 1000  # a rep's cost is in thousandths of a spread


class _Swap(NamedTuple):
    """Athletes ``a`` and ``b`` (ranks) swapping their crossings from ``lap`` (0-based) on, and what that does to the cost."""

    a: int
    b: int
    lap: int
    change: int  # thousandths of a spread: below 0, the swapped reps are likelier
    settles: int  # the coach's marks it gives their athlete (a crossing taken before the mark came)


def _rep_cost(lane: _Lane, marks: Sequence[int | None], settings: GroupSettings) -> int | None:
    """How unlikely ``marks`` are as the athlete's rep, in thousandths of a spread; None: a lap no one runs.

    The pace so far against the target (``target_spread``), and each stretch
    between crossings against the one before (``lap_spread``): a rep swapped
    between two athletes who left together keeps every lap's consistency, and
    only the targets tell it; one swapped between waves breaks it at the swap.
    """
    fastest, slowest = round(settings.max_velocity_mps * 1000), round(settings.min_velocity_mps * 1000)
    stretches, last_ns, last_mm = [], lane.entrant.started_ns, 0
    for split, t in enumerate(marks):
        if t is None:
            continue
        ns, mm = t - last_ns, lane.to_mm[split] - last_mm
        if not mm * NS_PER_S // fastest <= ns <= mm * NS_PER_S // slowest or ns <= 0:
            return None
        stretches.append((ns, mm))
        last_ns, last_mm = t, lane.to_mm[split]
    lap, target = settings.lap_spread, settings.target_spread
    cost = sum(abs(ns2 * mm1 - ns1 * mm2) * MILLI * lap.denominator // (ns1 * mm2 * lap.numerator) for (ns1, mm1), (ns2, mm2) in pairwise(stretches))
    if lane.entrant.expected_ns is not None and stretches:
        expected, total = lane.entrant.expected_ns, lane.to_mm[-1]
        cost += abs((last_ns - lane.entrant.started_ns) * total - expected * last_mm) * MILLI * target.denominator // (expected * last_mm * target.numerator)
    return cost


def _swaps(lanes: Sequence[_Lane], reps: Sequence[list[int | None]], marks: Mapping[int, int], settings: GroupSettings) -> Iterator[_Swap]:
    """Every way two athletes' ``reps`` (crossings by split) can be swapped from a lap on, no crossing the coach marked taken from its athlete, with its change in cost."""
    costs = [_rep_cost(lane, rep, settings) for lane, rep in zip(lanes, reps)]
    for i, j in combinations(range(len(lanes)), 2):
        a, b, rep_a, rep_b, cost_a, cost_b = lanes[i], lanes[j], reps[i], reps[j], costs[i], costs[j]
        if cost_a is None or cost_b is None:
            continue
        for lap in range(min(len(rep_a), len(rep_b)) + 1):
            tail_a, tail_b = rep_a[lap:], rep_b[lap:]
            if not tail_a and not tail_b:
                break
            if lap + len(tail_b) > len(a.to_mm) or lap + len(tail_a) > len(b.to_mm):
                continue
            marked = [(marks[t], who) for tail, who in ((tail_a, b), (tail_b, a)) for t in tail if t is not None and t in marks]
            if any(athlete_id != who.entrant.athlete_id for athlete_id, who in marked):
                continue
            swapped_a, swapped_b = _rep_cost(a, rep_a[:lap] + tail_b, settings), _rep_cost(b, rep_b[:lap] + tail_a, settings)
            if swapped_a is not None and swapped_b is not None:
                yield _Swap(i, j, lap, swapped_a + swapped_b - cost_a - cost_b, len(marked))


def _swap_doubts(lanes: Sequence[_Lane], swaps: Sequence[_Swap], settings: GroupSettings) -> dict[int, set[int]]:
    """The first crossing of each rep that could be swapped about as plausibly (``swap_doubt``) → the other athlete.

    One mark of the coach on either settles the pair: no swap moves a marked crossing.
    """
    doubt = settings.swap_doubt.numerator * MILLI // settings.swap_doubt.denominator
    doubts: dict[int, set[int]] = {}
    for swap in swaps:
        if swap.change <= doubt and not swap.settles:
            for one, other in ((swap.a, swap.b), (swap.b, swap.a)):
                first = next((t for t in lanes[one].marks[swap.lap :] if t is not None), None)
                if first is not None:
                    doubts.setdefault(first, set()).add(lanes[other].entrant.athlete_id)
    return doubts


def _stray(lanes: list[_Lane], t_ns: int, origin_ns: int, settings: GroupSettings) -> str:
    """Why a crossing fits nobody, in the coach's words."""
    at = _seconds(t_ns, origin_ns)
    if t_ns <= origin_ns:
        return f"crossed {(origin_ns - t_ns) / NS_PER_S:.2f} s before the go: a false start, not timed"
    running = [lane for lane in lanes if lane.left]
    if not running:
        return f"a crossing at {at} after every athlete finished: not timed"
    if all(t_ns < _bounds(lane, lane.next, settings)[0] for lane in running):
        return f"a crossing at {at} too soon for anyone's lap (an athlete leaving the line, or a false trigger): not timed"
    return f"a crossing at {at} fits no athlete's lap: not timed"


def _marked_split(lane: _Lane, t_ns: int, settings: GroupSettings) -> int | None:
    """The split a marked crossing ends for the athlete: the first it fits, else the next one it is not too fast for."""
    if not lane.left:
        return None
    fit = _fit(lane, t_ns, settings)
    if fit is not None:
        return fit[0]
    fastest, slowest = _bounds(lane, lane.next, settings)
    return lane.next if lane.entrant.started_ns < t_ns and fastest <= t_ns <= slowest else None


def _why_not(lane: _Lane, t_ns: int, settings: GroupSettings) -> str:
    if not lane.left:
        return "their rep is already complete"
    if t_ns <= lane.entrant.started_ns:
        return "it came before they left"
    fastest, _ = _bounds(lane, lane.next, settings)
    return "it is faster than anyone runs" if t_ns < fastest else "it is slower than the slowest lap"


def _result(lane: _Lane, now_ns: int, settings: GroupSettings, stop: str | None) -> AthleteLaps:
    entrant = lane.entrant
    splits = len(entrant.splits_m)
    marks = tuple(lane.marks) + (None,) * (splits - len(lane.marks))
    status: RunStatus | None = None
    reason = None
    deadline = None if not lane.left else _deadline(lane, settings)
    if deadline is None:
        status = RunStatus.COMPLETE
    elif stop is not None or now_ns > deadline:
        status, deadline = RunStatus.INCOMPLETE, None
        reason = f"{stop or 'timed out'} waiting for crossing {lane.next + 1} of {splits}"
    return AthleteLaps(entrant.athlete_id, entrant.started_ns, entrant.splits_m, marks, status, reason, False, deadline)


def _with_ambiguity(
    calls: list[CrossingCall],
    lanes: list[_Lane],
    athletes: tuple[AthleteLaps, ...],
    settings: GroupSettings,
    refused: tuple[tuple[int, str], ...],
    doubts: dict[int, set[int]],
) -> GroupLaps:
    """Mark what the gate cannot tell: ``doubts`` of the whole rep, side-by-side crossings that fit either athlete, and a crossing that may hide another's."""
    by_id = {lane.entrant.athlete_id: lane for lane in lanes}

    def fitted(athlete_id: int, t_ns: int) -> bool:
        return any(t_ns in fitting for fitting in by_id[athlete_id].fits.values())

    def would_fit(athlete_id: int, taken_ns: int, t_ns: int) -> bool:
        low, high, _ = by_id[athlete_id].taken[taken_ns]
        return low <= t_ns <= high

    def off(t_ns: int, expected: int | None) -> int:
        return 0 if expected is None else abs(t_ns - expected)  # unknown: as plausible as anything

    def as_likely_swapped(a: CrossingCall, b: CrossingCall) -> bool:
        """Expected apart, yet each crossing about as close to the other's expected time (an overtake, or not?)."""
        assert a.athlete_id is not None and b.athlete_id is not None  # both taken
        ea, eb = by_id[a.athlete_id].taken[a.t_ns][2], by_id[b.athlete_id].taken[b.t_ns][2]
        if ea is None or eb is None or abs(ea - eb) <= settings.side_by_side_ns:  # nothing to go on but the queue
            return False
        return off(a.t_ns, eb) + off(b.t_ns, ea) <= off(a.t_ns, ea) + off(b.t_ns, eb) + settings.doubt_ns

    for a, b in pairwise(calls):  # crossings in time order: near neighbours are enough
        if a.athlete_id is None or b.athlete_id is None or a.athlete_id == b.athlete_id or a.marked or b.marked:
            continue
        if not (fitted(b.athlete_id, a.t_ns) and would_fit(a.athlete_id, a.t_ns, b.t_ns)):
            continue  # swapped, one of them would not be a lap at all
        if b.t_ns - a.t_ns <= settings.side_by_side_ns or as_likely_swapped(a, b):
            doubts.setdefault(a.t_ns, set()).add(b.athlete_id)
            doubts.setdefault(b.t_ns, set()).add(a.athlete_id)
    owner = {c.t_ns: c for c in calls}

    for result in athletes:
        lane = by_id[result.athlete_id]
        unseen = [k for k in range(len(result.marks_ns)) if result.marks_ns[k] is None and (k < lane.next or result.status is not None)]
        for k in unseen:
            fitting = lane.fits.get(k, {})
            # Another's crossing that would have been theirs about as plausibly: two bodies through the beam as one.
            hidden = [
                t for t, expected in fitting.items()
                if (call := owner[t]).athlete_id not in (None, result.athlete_id) and not call.marked
                and off(t, expected) <= off(t, by_id[call.athlete_id].taken[t][2]) + settings.doubt_ns
            ]  # fmt: skip
            if hidden:
                t = min(hidden, key=lambda t: (off(t, fitting[t]), t))
                doubts.setdefault(t, set()).add(result.athlete_id)
    if not doubts:
        return GroupLaps(tuple(calls), athletes, refused)
    calls = [c if c.t_ns not in doubts else replace(c, ambiguous_with=tuple(sorted(doubts[c.t_ns]))) for c in calls]
    involved = {c.athlete_id for c in calls if c.ambiguous} | {i for c in calls for i in c.ambiguous_with}
    athletes = tuple(replace(a, ambiguous=True) if a.athlete_id in involved else a for a in athletes)
    return GroupLaps(tuple(calls), athletes, refused)
