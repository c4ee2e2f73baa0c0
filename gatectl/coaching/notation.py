"""Workout notation: sessions as coaches write them, read into reps in running order.

Two styles are read, and may be mixed:

- sprint style: ``3 x 3 x 30m. 3:00 Rec between reps. 6:00 Rec between sets.``,
  ``3 x (100m. 2:30 Rec. 200m. 5:00 Rec)``, one block a line;
- track style: ``12 x 400 @ 1:20 / R1:20``, ``25 x 400 @ 1:24 /R35-45s``,
  ``10 x (400 @ 10k pace /R25sec + 200 @ 5k pace /R1:20)``, ``12 x 400m @ 3K, 200m jog recovery``.

Parts are separated by ``.``, ``,`` or ``+``; lines run one after another. A rest
written as its own part (``3:00 Rec``) follows every rep of the part before it;
``between reps`` fills only the gaps inside a repeat, ``between sets`` only the
gaps between its sets. Each pass through a group (``3 x (...)``, ``3 x 3 x 30m``)
is a set; a plain repeat (``12 x 400``) is one set, and so are the loose reps of a line.

>>> reps = expand(parse_workout("2 x 3 x 30m. 3:00 Rec between reps. 6:00 Rec between sets"))
>>> [(r.set_no, r.rep_no, str(r.recovery)) for r in reps][2:4]
[(1, 3, '6:00'), (2, 1, '3:00')]
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from gatectl.coaching.paces import NAMED_DISTANCES_M, format_duration_ns, race_label, scale_to_distance, to_seconds
from gatectl.errors import WorkoutError
from gatectl.limits import MAX_NUMBER_CHARS, NESTING, RACE_DISTANCE_M, REP_COUNT, REP_DISTANCE_M, TIME_S, TOTAL_REPS, WORKOUT_CHARS
from gatectl.timing.model import NS_PER_S


def _clock(ns: int) -> str:
    """``35 s`` under a minute, ``3:00`` or ``1:08.5`` above."""
    if ns < 60 * NS_PER_S:
        return f"{ns / NS_PER_S:g} s"
    return format_duration_ns(ns, 0 if ns % NS_PER_S == 0 else 1)


# ---- What to aim for --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimeTarget:
    """Run the rep in this time: ``@ 1:20``."""

    time_ns: int

    def __str__(self) -> str:
        return _clock(self.time_ns)


@dataclass(frozen=True, slots=True)
class RacePace:
    """Run the rep at a race's average pace, give or take: ``@ 10k pace + 10sec``."""

    race_m: float
    offset_ns: int = 0

    def __str__(self) -> str:
        text = f"{race_label(self.race_m)} pace"
        if self.offset_ns:
            text += f" {'+' if self.offset_ns > 0 else '-'} {_clock(abs(self.offset_ns))}"
        return text


@dataclass(frozen=True, slots=True)
class MaxEffort:
    """As fast as possible: ``@ MAX``."""

    def __str__(self) -> str:
        return "MAX"


Target = TimeTarget | RacePace | MaxEffort


# ---- What comes after a rep -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rest:
    """Walk or stand this long; a range (``R35-45s``) has ``max_ns`` above ``min_ns``."""

    min_ns: int
    max_ns: int

    def __str__(self) -> str:
        if self.min_ns == self.max_ns:
            return _clock(self.min_ns)
        return f"{_clock(self.min_ns)}–{_clock(self.max_ns)}"


@dataclass(frozen=True, slots=True)
class FullRest:
    """Rest until fully recovered: ``R-Full``."""

    def __str__(self) -> str:
        return "full"


@dataclass(frozen=True, slots=True)
class JogRest:
    """Jog this far before the next rep: ``200m jog recovery``."""

    distance_m: float

    def __str__(self) -> str:
        return f"{self.distance_m:g} m jog"


Recovery = Rest | FullRest | JogRest


# ---- The session as written, and as run ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Effort:
    """One rep as written: ``400 @ 1:20 / R1:20``."""

    distance_m: float
    target: Target | None = None
    recovery: Recovery | None = None


@dataclass(frozen=True, slots=True)
class Repeat:
    """``count x body``, with the rests written after it (``4 x 50m. 1:30 Rec between reps``)."""

    count: int
    body: tuple[Effort | Repeat, ...]
    recovery: Recovery | None = None  # after every rep
    between_reps: Recovery | None = None
    between_sets: Recovery | None = None

    @property
    def makes_sets(self) -> bool:
        """Each pass through a group is a set (``3 x 3 x 30m``); ``12 x 400`` is one set."""
        return len(self.body) > 1 or isinstance(self.body[0], Repeat)


Block = Effort | Repeat


@dataclass(frozen=True, slots=True)
class Workout:
    """A session as written: its text and its blocks, line by line."""

    text: str
    lines: tuple[tuple[Block, ...], ...]


@dataclass(frozen=True, slots=True)
class Rep:
    """One rep in running order: what to run, what to aim for, and the rest after it.

    ``target`` keeps the notation (``10k pace + 10 s``); ``target_ns`` is the time it
    comes to, None for MAX, no target, or a race pace whose race time is not known.
    ``recovery`` is None after the final rep and where the notation gives no rest.
    """

    set_no: int
    rep_no: int
    distance_m: float
    target: Target | None
    target_ns: int | None
    recovery: Recovery | None


# ---- Reading the notation ------------------------------------------------------------------------

_SYMBOLS = {"(": "(", ")": ")", "[": "(", "]": ")", ".": ".", ",": ",", ";": ".", "+": "+", "&": "+",
            "-": "-", "–": "-", "—": "-", "−": "-", "/": "/", "@": "@", "×": "x",
            "'": "'", "’": "'", "′": "'", '"': '"', "”": '"', "″": '"'}  # fmt: skip
_SEPARATORS = {".", ",", "+"}
_DISTANCE_UNITS = {"m": 1, "meter": 1, "meters": 1, "metre": 1, "metres": 1, "k": 1000, "km": 1000,
                   "mile": NAMED_DISTANCES_M["mile"], "miles": NAMED_DISTANCES_M["mile"]}  # fmt: skip
_TIME_UNITS = {"s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
               "min": 60, "mins": 60, "minute": 60, "minutes": 60}  # fmt: skip
_REST_WORDS = {"rec", "recovery", "rest"}
_UNITS_HINT = "write distances as 400, 400m or 3k and times as 90s, 25sec, 2min, 3:00 or 1'30\""


def _digit(text: str) -> bool:
    """ASCII digits only: ``str.isdigit`` also takes '²', which ``Decimal`` cannot read."""
    return text.isascii() and text.isdigit()


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # number, clock, word, symbol, newline, end
    text: str  # words lower case, symbols normalised (– is -)
    line: int
    col: int  # 1-based
    width: int


@dataclass(frozen=True, slots=True)
class _Amount:
    """A number with what its unit makes it: distance (m), time (s), count, or bare."""

    kind: str
    value: Decimal
    unit_s: int | None  # seconds per unit of a time given in s or min; a bare first half of 35-45s borrows it
    first: _Token
    last: _Token


def parse_workout(text: str) -> Workout:
    """Read a session; what cannot be read raises ``WorkoutError`` pointing at the part.

    >>> [repeat] = parse_workout("4 x 50m. 1:30 Rec between reps").lines[0]
    >>> repeat.count, repeat.body, str(repeat.between_reps)
    (4, (Effort(distance_m=50.0, target=None, recovery=None),), '1:30')

    A session is at most ``WORKOUT_CHARS`` long and ``TOTAL_REPS`` reps, repeats nest at
    most ``NESTING`` deep: a typo of 100000000 x 30m is refused, not expanded.
    """
    if len(text) > WORKOUT_CHARS:
        raise WorkoutError(f"The workout is {len(text)} characters long; write it in at most {WORKOUT_CHARS}.")
    workout = Workout(text, _Parser(text).session())
    reps = sum(_rep_count(block) for line in workout.lines for block in line)
    if reps > TOTAL_REPS:
        raise WorkoutError(f"The workout has {reps} reps; a session can have at most {TOTAL_REPS}.")
    return workout


def _rep_count(block: Block) -> int:
    if isinstance(block, Effort):
        return 1
    return block.count * sum(_rep_count(part) for part in block.body)


class _Parser:
    """Recursive descent over tokens; each method reads one piece of the notation."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines() or [""]
        self.tokens = list(self._tokenize())
        self.pos = 0
        self.depth = 0  # repeats open around the cursor

    def _tokenize(self) -> Iterator[_Token]:
        for line_no, line in enumerate(self.lines, 1):
            col = 0
            while col < len(line):
                start, ch = col, line[col]
                if ch.isspace():
                    col += 1
                    continue
                if _digit(ch):
                    kind, col = "number", self._digits(line, col)
                    for _ in range(2):  # m:ss or h:mm:ss
                        if line[col : col + 1] == ":" and _digit(line[col + 1 : col + 2]):
                            kind, col = "clock", self._digits(line, col + 1)
                    if line[col : col + 1] == "." and _digit(line[col + 1 : col + 2]):
                        col = self._digits(line, col + 1)
                    yield _Token(kind, line[start:col], line_no, start + 1, col - start)
                elif ch.isalpha():
                    while col < len(line) and line[col].isalpha():
                        col += 1
                    yield _Token("word", line[start:col].lower(), line_no, start + 1, col - start)
                elif ch in _SYMBOLS:
                    col += 1
                    kind = "word" if _SYMBOLS[ch] == "x" else "symbol"
                    yield _Token(kind, _SYMBOLS[ch], line_no, start + 1, 1)
                else:
                    raise self._error_at(line_no, start + 1, 1, "this character has no meaning in a workout")
            yield _Token("newline", "", line_no, len(line) + 1, 0)
        yield _Token("end", "", len(self.lines), len(self.lines[-1]) + 1, 0)

    @staticmethod
    def _digits(line: str, col: int) -> int:
        while col < len(line) and _digit(line[col]):
            col += 1
        return col

    # -- errors and the cursor

    def _error_at(self, line_no: int, col: int, width: int, message: str) -> WorkoutError:
        line = self.lines[line_no - 1]
        where = f"column {col}" if len(self.lines) == 1 else f"line {line_no}, column {col}"
        fragment = line[col - 1 : col - 1 + width]
        head = f"Cannot read {fragment!r} at {where}" if fragment else f"Unexpected end of line at {where}"
        return WorkoutError(f"{head}: {message}\n  {line}\n  {' ' * (col - 1)}{'^' * max(width, 1)}")

    def _error(self, first: _Token, last: _Token, message: str) -> WorkoutError:
        width = last.col + last.width - first.col if last.line == first.line else first.width
        return self._error_at(first.line, first.col, width, message)

    def _fragment(self, first: _Token, last: _Token) -> str:
        return self.lines[first.line - 1][first.col - 1 : last.col - 1 + last.width]

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def take(self) -> _Token:
        token = self.peek()
        self.pos += 1
        return token

    def accept(self, *texts: str) -> _Token | None:
        token = self.peek()
        if token.kind in ("word", "symbol") and token.text in texts:
            return self.take()
        return None

    # -- structure: lines, parts, blocks

    def session(self) -> tuple[tuple[Block, ...], ...]:
        lines = []
        while self.peek().kind != "end":
            if self.accept_newline():
                continue
            line = self.sequence(in_group=False)
            if line:
                lines.append(line)
        if not lines:
            raise WorkoutError("The workout is empty; write it like: 3 x 3 x 30m. 3:00 Rec between reps.")
        return tuple(lines)

    def accept_newline(self) -> bool:
        if self.peek().kind == "newline":
            self.take()
            return True
        return False

    def sequence(self, in_group: bool) -> tuple[Block, ...]:
        """Parts up to the end of the line (or the closing bracket), separated by . , or +."""
        blocks: list[Block] = []
        while True:
            if self.accept(*_SEPARATORS) or (in_group and self.accept_newline()):
                continue
            token = self.peek()
            if token.kind in ("newline", "end") or (in_group and token.text == ")"):
                return tuple(blocks)
            first = token
            self.part(blocks, in_group)
            last, after = self.tokens[self.pos - 1], self.peek()
            if after.kind in ("newline", "end") or after.text in _SEPARATORS or (in_group and after.text == ")"):
                continue
            if after.text == ")":
                raise self._error(after, after, "this ')' closes no bracket")
            raise self._error(after, after, f"expected '.', ',' or '+' after {self._fragment(first, last)!r}")

    def part(self, blocks: list[Block], in_group: bool) -> None:
        """One rep or repeat, appended; or a rest, attached to the block before it."""
        first = self.peek()
        if not self.starts_rest():
            blocks.append(self.block())
            return
        recovery, scope = self.rest_clause()
        last = self.tokens[self.pos - 1]
        if not blocks:
            raise self._error(first, last, "a rest must come after the rep it follows, as in 300m. 7:00 Rec")
        block = blocks[-1]
        if scope is None:
            if block.recovery is not None:
                raise self._error(first, last, f"a rest after this is already given ({block.recovery})")
            blocks[-1] = replace(block, recovery=recovery)
        elif not isinstance(block, Repeat):
            raise self._error(first, last, f"'between {scope}' needs a repeat before it, as in 4 x 100m")
        elif scope == "reps":
            if block.between_reps is not None:
                raise self._error(first, last, "the rest between reps is already given")
            blocks[-1] = replace(block, between_reps=recovery)
        elif in_group:
            raise self._error(first, last, "a rest between sets goes after the closing bracket")
        elif not block.makes_sets:
            raise self._error(first, last, "there are no sets before it: write 2 x (4 x 100m) or 3 x 3 x 30m")
        elif block.between_sets is not None:
            raise self._error(first, last, "the rest between sets is already given")
        else:
            blocks[-1] = replace(block, between_sets=recovery)

    def block(self) -> Block:
        amount = self.amount("a rep such as 400m, 3 x 100m or 12 x 400 @ 1:20")
        if amount.kind != "count":
            return self.effort(amount)
        if amount.value != amount.value.to_integral_value() or amount.value not in REP_COUNT:
            raise self._error(amount.first, amount.last, f"a repeat count must be a whole number {REP_COUNT.describe()}")
        if self.depth == NESTING:
            raise self._error(amount.first, amount.last, f"repeats may nest at most {NESTING} deep")
        self.depth += 1
        body = self.body()
        self.depth -= 1
        return Repeat(int(amount.value), body)

    def body(self) -> tuple[Block, ...]:
        """What a count repeats: a group in brackets, another repeat, or one rep."""
        opening = self.accept("(")
        if opening is None:
            token = self.peek()
            if token.kind not in ("number", "clock"):
                raise self._error(token, token, "expected a distance such as 400m, or a group in brackets, after 'x'")
            return (self.block(),)
        blocks = self.sequence(in_group=True)
        if not self.accept(")"):
            raise self._error(opening, opening, "this bracket is never closed")
        if not blocks:
            raise self._error(opening, self.tokens[self.pos - 1], "the brackets hold no rep")
        return blocks

    def effort(self, amount: _Amount) -> Effort:
        """``400``, ``400m @ 1:20``, ``400 @ 10k pace + 10sec /R1:00``."""
        if amount.kind not in ("distance", "bare"):
            raise self._error(amount.first, amount.last, "expected a distance such as 400m or 3k")
        if amount.value <= 0:
            raise self._error(amount.first, amount.last, "a rep must be longer than 0 m")
        if amount.value not in REP_DISTANCE_M:
            raise self._error(amount.first, amount.last, f"a rep must be {REP_DISTANCE_M.describe()}")
        target = self.target() if self.accept("@") else None
        slash = self.accept("/")
        if slash is not None and self.peek().text != "r":
            raise self._error(slash, self.peek(), "expected R and a rest after '/', as in /R1:20 or /R-Full")
        recovery = self.r_rest() if self.peek().text == "r" else None
        return Effort(float(amount.value), target, recovery)

    # -- targets

    def target(self) -> Target:
        """After ``@``: ``1:20``, ``68s``, ``MAX``, ``10k pace``, ``3K``, ``mile pace - 5sec``."""
        token = self.peek()
        if self.accept("max"):
            return MaxEffort()
        if token.kind == "word" and token.text in NAMED_DISTANCES_M:
            race_m = self.named_race()
        else:
            amount = self.amount("a target after '@': a time (1:20), a race pace (10k pace) or MAX")
            if amount.kind == "time":
                return TimeTarget(int(amount.value * NS_PER_S))
            if amount.kind == "bare" and self.peek().text != "pace":
                return TimeTarget(int(amount.value * NS_PER_S))  # "@ 68": seconds, as coaches write it
            if amount.kind == "count" or amount.value <= 0:
                raise self._error(amount.first, amount.last, "expected a time (1:20) or a race (10k pace)")
            race_m = float(amount.value)
        self.accept("pace")
        return RacePace(race_m, self.offset())

    def named_race(self) -> float:
        word = self.take().text
        if word == "half":  # half, half-m, half-marathon, half marathon
            if self.peek().text == "-" and self.peek(1).text in ("m", "marathon"):
                self.take()
            self.accept("m", "marathon")
        return NAMED_DISTANCES_M[word]

    def offset(self) -> int:
        """``+ 10sec`` or ``– 20sec`` after a race pace; anything else is left for the next part."""
        sign = self.peek()
        if sign.text not in ("+", "-") or self.peek(1).kind not in ("number", "clock"):
            return 0
        start = self.pos
        self.take()
        amount = self.amount("a time")
        if amount.kind != "time":  # "+ 200 @ 5k pace" is the next rep, not an offset
            self.pos = start
            return 0
        ns = int(amount.value * NS_PER_S)
        return ns if sign.text == "+" else -ns

    # -- rests

    def starts_rest(self) -> bool:
        token = self.peek()
        if token.kind == "word":
            return token.text in ("r", "full")
        if token.kind == "clock":
            return True
        if token.kind != "number":
            return False
        start = self.pos
        amount = self.amount("a number")
        after = self.peek().text
        self.pos = start
        if amount.kind == "time" or (amount.kind in ("distance", "bare") and after == "jog"):
            return True
        return amount.kind == "bare" and (after in _REST_WORDS or after == "-")

    def rest_clause(self) -> tuple[Recovery, str | None]:
        """``3:00 Rec between reps``, ``R1:20``, ``Full rest``, ``200m jog recovery`` → (rest, scope)."""
        if self.peek().text == "r":
            recovery = self.r_rest()
        elif self.accept("full"):
            recovery = FullRest()
        else:
            recovery = self.timed_or_jog(self.amount("a rest"))
        self.accept(*_REST_WORDS)
        if not self.accept("between"):
            return recovery, None
        word = self.take()
        if word.text in ("rep", "reps"):
            return recovery, "reps"
        if word.text in ("set", "sets"):
            return recovery, "sets"
        raise self._error(word, word, "expected 'reps' or 'sets' after 'between'")

    def r_rest(self) -> Recovery:
        """``R1:20``, ``R35-45s``, ``R-Full``, ``R/1K jog``."""
        self.take()
        self.accept("-", "/")
        if self.accept("full"):
            return FullRest()
        return self.timed_or_jog(self.amount("a rest after R, as in R1:20, R35-45s or R-Full"))

    def timed_or_jog(self, first: _Amount) -> Recovery:
        if first.kind in ("distance", "bare") and self.accept("jog"):
            if first.value not in REP_DISTANCE_M:
                raise self._error(first.first, first.last, f"a jog recovery must be {REP_DISTANCE_M.describe()}")
            return JogRest(float(first.value))
        if first.kind not in ("time", "bare"):
            raise self._error(first.first, first.last, f"expected a rest time; {_UNITS_HINT}")
        low = high = first
        if self.accept("-"):
            high = self.amount("the end of a range, as in 35-45s")
            if high.kind not in ("time", "bare"):
                raise self._error(high.first, high.last, f"expected a rest time; {_UNITS_HINT}")
        # A bare number is in the unit of the other end of the range, or seconds.
        unit = high.unit_s or 1
        min_ns = int(low.value * (unit if low.kind == "bare" else 1) * NS_PER_S)
        max_ns = int(high.value * (unit if high.kind == "bare" else 1) * NS_PER_S)
        if not 0 < min_ns <= max_ns:
            raise self._error(low.first, high.last, "a rest must be longer than zero, shortest first")
        return Rest(min_ns, max_ns)

    # -- numbers with units

    def amount(self, expected: str) -> _Amount:
        """A number and its unit: ``400m``, ``3k``, ``3:00``, ``90s``, ``2min``, ``1'30"``, ``12 x``."""
        amount = self._amount(expected)
        # Any number is at most a race's metres or TIME_S's seconds: each one becomes integer ns or a float.
        if amount.kind != "count" and amount.value > (TIME_S.high if amount.kind == "time" else RACE_DISTANCE_M.high):
            raise self._error(amount.first, amount.last, f"{self._fragment(amount.first, amount.last)} is more than a workout can hold")
        return amount

    def _amount(self, expected: str) -> _Amount:
        token = self.take()
        if token.width > MAX_NUMBER_CHARS and token.kind in ("number", "clock"):
            raise self._error(token, token, f"a number has at most {MAX_NUMBER_CHARS} characters")
        if token.kind == "clock":
            return _Amount("time", self.clockseconds(token), None, token, token)
        if token.kind != "number":
            raise self._error(token, token, f"expected {expected}")
        value, after = Decimal(token.text), self.peek()
        if after.text == "'":  # 1'30" or 3'
            self.take()
            last = after
            if self.peek().kind == "number" and self.peek(1).text == '"':
                value = value * 60 + Decimal(self.take().text)
                last = self.take()
                return _Amount("time", value, None, token, last)
            return _Amount("time", value * 60, 60, token, last)
        if after.text == '"':
            return _Amount("time", value, 1, token, self.take())
        if after.kind == "word":
            if after.text in _DISTANCE_UNITS:
                return _Amount("distance", value * Decimal(_DISTANCE_UNITS[after.text]), None, token, self.take())
            if after.text in _TIME_UNITS:
                unit = _TIME_UNITS[after.text]
                return _Amount("time", value * unit, unit, token, self.take())
            if after.text == "x":
                return _Amount("count", value, None, token, self.take())
            if after.line == token.line and after.col == token.col + token.width:
                raise self._error(token, after, f"unknown unit {after.text!r}; {_UNITS_HINT}")
        return _Amount("bare", value, None, token, token)

    def clockseconds(self, token: _Token) -> Decimal:
        *whole, seconds = token.text.split(":")
        parts = [Decimal(w) for w in whole] + [Decimal(seconds)]
        if any(p >= 60 for p in parts[1:]):
            raise self._error(token, token, "minutes and seconds after a colon must be under 60, as in 3:00")
        total = Decimal(0)
        for p in parts:
            total = total * 60 + p
        return total


# ---- Running order ------------------------------------------------------------------------------

_Slot = tuple[Effort, Recovery | None]


def _slots(block: Block) -> list[_Slot]:
    """Every rep of a block in order, with the rest the notation gives after it within the block."""
    if isinstance(block, Effort):
        return [(block, block.recovery)]
    slots = [slot for part in block.body for slot in _slots(part)] * block.count
    last = len(slots) - 1
    filled = []
    for i, (effort, recovery) in enumerate(slots):
        if recovery is None:
            recovery = block.recovery
        if recovery is None and i < last:
            recovery = block.between_reps
        filled.append((effort, recovery))
    return filled


def _sets(line: tuple[Block, ...]) -> Iterator[list[_Slot]]:
    """A line's sets: each pass through a group is one, and so is a plain repeat or a run of loose reps."""
    loose: list[_Slot] = []
    for block in line:
        if isinstance(block, Effort):
            loose += _slots(block)
            continue
        if loose:
            yield loose
            loose = []
        slots = _slots(block)
        size = len(slots) // block.count if block.makes_sets else len(slots)
        for start in range(0, len(slots), size):
            chunk = slots[start : start + size]
            if block.between_sets is not None and start + size < len(slots):
                chunk[-1] = (chunk[-1][0], block.between_sets)
            yield chunk
    if loose:
        yield loose


def resolve_target(target: Target | None, distance_m: float, races: Mapping[float, int]) -> int | None:
    """The time in ns a target asks for over ``distance_m``; None when there is no time to give.

    ``races`` maps race distances in metres to race times in ns.

    >>> resolve_target(RacePace(10_000, offset_ns=10 * NS_PER_S), 400, {10_000: 35 * 60 * NS_PER_S})
    94000000000
    """
    if isinstance(target, TimeTarget):
        return target.time_ns
    if not isinstance(target, RacePace) or target.race_m not in races:
        return None
    time_ns = scale_to_distance(races[target.race_m], target.race_m, distance_m) + target.offset_ns
    if time_ns <= 0:
        raise WorkoutError(f"{target} leaves no time for {distance_m:g} m; make the offset smaller.")
    return time_ns


def _lengthen(recovery: Recovery | None, factor: float) -> Recovery | None:
    if isinstance(recovery, Rest):
        return Rest(round(recovery.min_ns * factor), round(recovery.max_ns * factor))
    return recovery


def expand(
    workout: Workout,
    races: Mapping[float, int] | None = None,
    *,
    sprinter400: bool = False,
    sprinter_factor: float = 1.5,
) -> tuple[Rep, ...]:
    """Every rep in running order, targets resolved from ``races`` (metres → ns).

    ``sprinter400`` lengthens timed rests after reps longer than 50 m by ``sprinter_factor``
    (1.0 to 2.0): 400 m sprinters work harder on each rep and need the extra time.

    >>> reps = expand(parse_workout("2 x 400 @ 10k pace /R1:00"), {10_000: 35 * 60 * NS_PER_S}, sprinter400=True)
    >>> [(r.target_ns // NS_PER_S, str(r.recovery)) for r in reps]
    [(84, '1:30'), (84, 'None')]
    """
    if not 1.0 <= sprinter_factor <= 2.0:
        raise WorkoutError(f"The sprinter factor must be between 1.0 and 2.0, not {sprinter_factor:g}.")
    races = races or {}
    reps = []
    for set_no, chunk in enumerate((c for line in workout.lines for c in _sets(line)), 1):
        for rep_no, (effort, recovery) in enumerate(chunk, 1):
            if sprinter400 and effort.distance_m > 50:
                recovery = _lengthen(recovery, sprinter_factor)
            target_ns = resolve_target(effort.target, effort.distance_m, races)
            reps.append(Rep(set_no, rep_no, effort.distance_m, effort.target, target_ns, recovery))
    reps[-1] = replace(reps[-1], recovery=None)  # nothing follows the final rep
    return tuple(reps)


def scale_rests(workout: Workout, factor: float) -> Workout:
    """The workout with every timed rest ``factor`` times as long; jogs and full rests as written.

    For demonstrations and tests, where a 6:00 rest is too long to watch.

    >>> reps = expand(scale_rests(parse_workout("2 x 30m. 3:00 Rec between reps"), 1 / 12))
    >>> str(reps[0].recovery)
    '15 s'
    """
    if not 0 < factor < math.inf:
        raise WorkoutError(f"Rests can be scaled by a positive factor only, not {factor!r}.")

    def rest(recovery: Recovery | None) -> Recovery | None:
        return _lengthen(recovery, factor)

    def block(part: Block) -> Block:
        if isinstance(part, Effort):
            return replace(part, recovery=rest(part.recovery))
        return replace(
            part, body=tuple(block(b) for b in part.body), recovery=rest(part.recovery),
            between_reps=rest(part.between_reps), between_sets=rest(part.between_sets),
        )  # fmt: skip

    return replace(workout, lines=tuple(tuple(block(b) for b in line) for line in workout.lines))


def total_distance_m(reps: tuple[Rep, ...]) -> float:
    """Metres run in the reps themselves (jog recoveries not counted)."""
    return sum((rep.distance_m for rep in reps), 0.0)


def reps_as_json(reps: tuple[Rep, ...]) -> dict[str, Any]:
    """The plan as JSON-ready data: ``{"reps": [...], "total_distance_m": d}``; times in seconds.

    ``recovery_after_s`` is the rest after the rep (the shortest, for a range; ``recovery_max_s``
    the longest); None for a full or jog recovery, after the final rep, or when none is given.
    """
    rows = []
    for rep in reps:
        rest = rep.recovery if isinstance(rep.recovery, Rest) else None
        rows.append({
            "set": rep.set_no,
            "rep": rep.rep_no,
            "distance_m": rep.distance_m,
            "target_s": to_seconds(rep.target_ns),
            "target": None if rep.target is None else str(rep.target),
            "recovery_after_s": None if rest is None else to_seconds(rest.min_ns),
            "recovery_max_s": None if rest is None else to_seconds(rest.max_ns),
            "recovery": None if rep.recovery is None else str(rep.recovery),
            "recovery_distance_m": rep.recovery.distance_m if isinstance(rep.recovery, JogRest) else None,
        })  # fmt: skip
    return {"reps": rows, "total_distance_m": total_distance_m(reps)}
