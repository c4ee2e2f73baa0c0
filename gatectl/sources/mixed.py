"""Several edge sources as one: GPIO gates and gate nodes in one layout.

Every source must stamp on the same clock (the host's CLOCK_MONOTONIC: the
kernel's GPIO stamps and the serial source's mapping of node time both are).
The clock is the earliest any of them will vouch for, the latency the longest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from gatectl.sources import EdgeOrigin, EdgeSource, Emit
from gatectl.timing.model import Edge


class MixedSource:
    name = "mixed"

    def __init__(self, sources: Sequence[EdgeSource]) -> None:
        self.sources = tuple(sources)
        self.latency_ns = max(source.latency_ns for source in self.sources)

    def start(self, emit: Emit) -> None:
        started: list[EdgeSource] = []
        try:
            for source in self.sources:
                source.start(emit)
                started.append(source)
        except BaseException:
            for source in started:
                source.stop()
            raise

    def stop(self) -> None:
        for source in self.sources:
            source.stop()

    def now_ns(self) -> int:
        return min(source.now_ns() for source in self.sources)

    def edges_stored(self, edges: Iterable[Edge]) -> None:
        batch = list(edges)
        for source in self.sources:
            stored = getattr(source, "edges_stored", None)
            if stored is not None:
                stored(batch)

    def origins(self, edges: Sequence[Edge]) -> list[EdgeOrigin | None]:
        """Where each edge came from, as the source that delivered it says; None from one that does not say."""
        out: list[EdgeOrigin | None] = [None] * len(edges)
        for source in self.sources:
            told = getattr(source, "origins", None)
            if told is not None:
                out = [mine or theirs for mine, theirs in zip(out, told(edges))]
        return out
