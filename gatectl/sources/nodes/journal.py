"""Which node edges the host has stored, kept on disk: a restarted host knows a node's repeats.

A node repeats an edge until it hears ACK, and the host sends ACK only once the
edge is in the database. If the host stops (or is killed) after storing an edge
and before the node heard its ACK, the node sends it again to the next run of
the host. This journal, written after the database and before the ACK, lets that
run recognise the repeat and acknowledge it without storing it twice.

One line a stored edge, ``<node id> <boot hex> <seq>``; read back at start, and
written again compactly (a boot's contiguous run as one line, ``<node> <boot>
1-<n>``). A line cut short by a crash is ignored. The window it cannot cover is
between the database's commit and this file's flush: microseconds, not the ACK's
round trip.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path

from gatectl.sources.nodes.link import EdgeKey, SeqSet

log = logging.getLogger(__name__)

_LINE = re.compile(r"([0-9A-F]{2,32}) ([0-9A-F]{8}) (?:1-([0-9]{1,20})|([0-9]{1,20}))")


class StoredJournal:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._stored: dict[str, dict[int, SeqSet]] = {}
        if self.path.exists():
            for line in self.path.read_text(encoding="ascii", errors="replace").splitlines(keepends=True):
                match = _LINE.fullmatch(line.rstrip("\n"))
                if match is None or not line.endswith("\n"):
                    continue  # the last line of a crash, cut short: "12" may have been "123"
                node, boot, through, seq = match.groups()
                seqs = self._stored.setdefault(node, {}).setdefault(int(boot, 16), SeqSet())
                if through is not None:
                    seqs.merge(_through(int(through)))
                else:
                    seqs.add(int(seq))
        self._compact()

    def stored_before(self, node_id: str) -> dict[int, SeqSet]:
        return self._stored.get(node_id, {})

    def add(self, keys: Iterable[EdgeKey]) -> None:
        """Record stored edges durably (flushed and synced) before their ACKs go out."""
        lines = [f"{node} {boot:08X} {seq}\n" for node, boot, seq in keys]
        if lines:
            with open(self.path, "a", encoding="ascii") as out:
                out.write("".join(lines))
                out.flush()
                os.fsync(out.fileno())

    def _compact(self) -> None:
        temporary = self.path.with_suffix(self.path.suffix + ".tmp")
        with open(temporary, "w", encoding="ascii") as out:
            for node, boots in self._stored.items():
                for boot, seqs in boots.items():
                    if seqs.through:
                        out.write(f"{node} {boot:08X} 1-{seqs.through}\n")
                    out.writelines(f"{node} {boot:08X} {seq}\n" for seq in sorted(seqs.above))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self.path)


def _through(n: int) -> SeqSet:
    seqs = SeqSet()
    seqs.through = n
    return seqs
