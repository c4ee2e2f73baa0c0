"""Storage: one SQLite file, written through sqlite-utils.

``edges`` is the append-only raw log; everything else about a session
(``crossings``, ``runs``, ``anomalies``) is derived from it and can be rebuilt
with ``recompute``, which keeps what people decided about runs (the athlete a
run belongs to, a void and its reason, the workout rep it was). The coach's
``corrections`` are kept beside the raw log and folded over the rebuilt runs
again (``correct``, ``timing.corrections``).

A track session (``lap_gate`` and ``lap_m`` set) times lap reps on one gate;
the coach's arms and goes are kept in ``session_events`` so that its reps
rebuild exactly. ``workouts`` holds the workout run in a session and its summary.

One ``Store`` is one connection, used from one thread; the daemon writes
through its own, and each web request opens another.

The settings that make an acknowledged edge durable (``test_store`` checks
each):

* ``journal_mode=WAL``: a commit appends to the write-ahead log, so readers
  (every web request) never block the daemon's writes, nor it theirs;
* ``synchronous=FULL``: the log is fsynced at every commit, so an edge whose
  ``add_edges`` has returned survives a power cut, not just a crash (WAL's
  usual NORMAL may lose the last commits when the power goes);
* ``foreign_keys=ON``; every raw edge belongs to a session;
* ``busy_timeout``: how long a write waits for another connection's write
  lock. Web requests wait up to ``BUSY_TIMEOUT_MS``; the daemon sets a short
  one (``set_busy_timeout``), because its thread must not stall: when the lock
  or the disk refuses it, ``add_edges`` and ``add_derived`` raise
  ``StoreUnavailable`` having written nothing, and the daemon holds the
  edges and tries again (``daemon.loop``).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

from sqlite_utils import Database
from sqlite_utils.db import Table
from sqlite_utils.migrations import Migrations

if TYPE_CHECKING:
    from gatectl.daemon.workout import SummaryRow

from gatectl.coaching.laps import Command, GroupEntry, LapCommand, LapRep, LapReport, LapResult, StartKind, Track, time_laps
from gatectl.coaching.paces import RACE_TIME_KINDS
from gatectl.coaching.quality import check_pace
from gatectl.errors import StoreError
from gatectl.jsonable import jsonable
from gatectl.limits import check_name
from gatectl.sources import EdgeOrigin
from gatectl.timing.corrections import (
    Change,
    Corrected,
    Correction,
    CorrectionError,
    CrossingRef,
    apply_corrections,
    change_from_payload,
    change_payload,
)
from gatectl.timing.model import Anomaly, Crossing, DetectionSettings, Edge, Layout, Run, RunStatus
from gatectl.timing.pipeline import TimingResult, time_edges
from gatectl.timing.results import RunSync, RunView, report
from gatectl.timing.sync import DEFAULT_LIMIT_NS, BeamSync, SyncLog, crossed, run_sync

migrations = Migrations("gatectl")

BUSY_TIMEOUT_MS = 10_000  # a web request waits this long for the write lock
# SQLite's answers that mean "not now" rather than "never": locked, busy, full, I/O error, cannot open.
_UNAVAILABLE_CODES = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN}


class StoreUnavailable(StoreError):
    """The database refused a write for now (locked by another program, disk full); nothing was written."""


def _unavailable(exc: sqlite3.Error) -> StoreUnavailable | None:
    """``exc`` as a ``StoreUnavailable`` with a sentence, when it means the database will take writes later."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None or code & 0xFF not in _UNAVAILABLE_CODES:
        return None
    if code & 0xFF == sqlite3.SQLITE_FULL:
        return StoreUnavailable("The disk is full: free some space on the SD card.")
    if code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return StoreUnavailable("The database is locked by another program (a backup, a recompute?).")
    return StoreUnavailable(f"The database cannot be written ({exc}).")


@migrations()
def m001_initial(db: Database) -> None:
    db.table("athletes").create(
        {"id": int, "name": str, "notes": str, "archived": int, "created_at": str},
        pk="id",
        not_null={"name", "archived"},
        defaults={"notes": "", "archived": 0},
    )
    db.table("athletes").create_index(["name"], unique=True)
    db.table("race_times").create(
        {"id": int, "athlete_id": int, "distance_m": float, "kind": str, "time_ns": int},
        pk="id",
        foreign_keys=[("athlete_id", "athletes", "id")],
        not_null={"athlete_id", "distance_m", "kind", "time_ns"},
    )
    db.table("race_times").create_index(["athlete_id", "distance_m", "kind"], unique=True)
    db.table("sessions").create(
        {
            "id": int,
            "started_at": str,  # wall-clock label: the Pi's clock may be wrong at a track
            "date": str,
            "place": str,
            "layout": str,
            "method": str,
            "settings": str,  # detection thresholds, JSON
            "notes": str,
        },
        pk="id",
        not_null={"layout", "method"},
        defaults={"place": "", "notes": ""},
    )
    db.table("edges").create(
        {"id": int, "session_id": int, "beam": str, "t_ns": int, "broken": int},
        pk="id",
        foreign_keys=[("session_id", "sessions", "id")],
        not_null={"session_id", "beam", "t_ns", "broken"},
    )
    db.table("edges").create_index(["session_id", "t_ns"])
    # A crossing names the stretch of raw edges that made it rather than copying them.
    db.table("crossings").create(
        {
            "id": int,
            "session_id": int,
            "gate": str,
            "t_ns": int,
            "method": str,
            "edges_from_ns": int,
            "edges_to_ns": int,
            "edge_count": int,
        },
        pk="id",
        foreign_keys=[("session_id", "sessions", "id")],
        not_null={"session_id", "gate", "t_ns", "method"},
    )
    db.table("crossings").create_index(["session_id", "t_ns"])
    db.table("runs").create(
        {
            "id": int,
            "session_id": int,
            "number": int,
            "status": str,
            "reason": str,
            "started_ns": int,
            "crossings": str,  # {"M1": t_ns, ...}, JSON
            "athlete_id": int,
            "voided": int,
            "void_reason": str,
        },
        pk="id",
        foreign_keys=[("session_id", "sessions", "id"), ("athlete_id", "athletes", "id")],
        not_null={"session_id", "number", "status", "started_ns", "crossings", "voided"},
        defaults={"voided": 0},
    )
    db.table("runs").create_index(["session_id", "started_ns"])
    db.table("runs").create_index(["athlete_id"])
    db.table("anomalies").create(
        {"id": int, "session_id": int, "source": str, "t_ns": int, "reason": str},
        pk="id",
        foreign_keys=[("session_id", "sessions", "id")],
        not_null={"session_id", "source", "t_ns", "reason"},
    )
    db.table("settings").create({"key": str, "value": str}, pk="key")


@migrations()
def m002_workouts(db: Database) -> None:
    """Track reps on one gate, workout reps, the coach's lap commands, workouts and their summaries."""
    db.table("sessions").add_column("lap_gate", str)  # set for a track session: the gate on the line
    db.table("sessions").add_column("lap_m", float)
    # A lap rep: its distance, splits (JSON list of ns), target, how it started, the rest before it.
    for column, kind in (
        ("distance_m", float), ("splits", str), ("target_ns", int), ("start_kind", str), ("recovery_ns", int),
        ("set_no", int), ("rep_no", int),  # the workout rep a run was (any session)
    ):  # fmt: skip
        db.table("runs").add_column(column, kind)
    db.table("session_events").create(
        {"id": int, "session_id": int, "t_ns": int, "kind": str, "data": str},
        pk="id",
        foreign_keys=[("session_id", "sessions", "id")],
        not_null={"session_id", "t_ns", "kind", "data"},
    )
    db.table("session_events").create_index(["session_id", "t_ns"])
    db.table("workouts").create(
        {"session_id": int, "text": str, "kind": str, "slug": str, "athletes": str, "options": str, "summary": str, "ended": int},
        pk="session_id",
        foreign_keys=[("session_id", "sessions", "id")],
        not_null={"text", "kind", "athletes", "options", "ended"},
        defaults={"ended": 0},
    )


@migrations()
def m003_ambiguous_runs(db: Database) -> None:
    """A run whose crossings another match fitted about as well: the coach should check it."""
    db.table("runs").add_column("ambiguous", int, not_null_default=0)


@migrations()
def m004_resume(db: Database) -> None:
    """A session the daemon has open names its boot: a restart after a crash carries on with it."""
    db.table("sessions").add_column("daemon_boot", str)  # /proc/sys/kernel/random/boot_id while a daemon has it open


@migrations()
def m005_corrections(db: Database) -> None:
    """The coach's corrections of runs, kept beside the raw log and applied in order (``timing.corrections``).

    ``applied``, ``undone_by`` and ``note`` (why one no longer applies) are what the last fold made of each.
    A run the corrections changed stays in ``runs`` as assembly gave it, ``replaced``; the corrected run is a
    row of its own (``corrected``), carrying on ``source_id``; ``history`` lists the corrections about a run.
    """
    db.table("corrections").create(
        {"id": int, "session_id": int, "kind": str, "payload": str, "who": str, "made_at": str, "undone_by": int, "applied": int, "note": str},
        pk="id",
        foreign_keys=[("session_id", "sessions", "id")],
        not_null={"session_id", "kind", "payload", "who", "made_at", "applied"},
        defaults={"applied": 1},
    )
    db.table("corrections").create_index(["session_id", "id"])
    db.table("runs").add_column("corrected", int, not_null_default=0)
    db.table("runs").add_column("replaced", int, not_null_default=0)
    db.table("runs").add_column("source_id", int)
    db.table("runs").add_column("history", str)  # JSON list of correction ids


@migrations()
def m006_run_sync(db: Database) -> None:
    """Gate nodes' clock-sync uncertainty: logged beside the raw edges, and with each run timed on it.

    ``beam_sync`` is raw data like ``edges``: from ``t_ns`` on, ``beam`` was
    mapped from node ``clock`` within ``uncertainty_ns`` (the daemon adds a row
    when that changes between the batches of edges it writes). A run's
    ``sync_gates`` (JSON, gate → ns) and ``sync_ns`` are derived from it, so a
    recompute rebuilds them; ``sessions.sync_limit_ns`` is the bound the
    session's runs are flagged above (NULL: a session from before: not measured).
    """
    db.table("beam_sync").create(
        {"id": int, "session_id": int, "beam": str, "t_ns": int, "clock": str, "uncertainty_ns": int},
        pk="id",
        foreign_keys=[("session_id", "sessions", "id")],
        not_null={"session_id", "beam", "t_ns", "clock", "uncertainty_ns"},
    )
    db.table("beam_sync").create_index(["session_id", "beam", "t_ns"])
    db.table("sessions").add_column("sync_limit_ns", int)
    db.table("runs").add_column("sync_gates", str)
    db.table("runs").add_column("sync_ns", int)


@migrations()
def m007_edge_origin(db: Database) -> None:
    """A gate node's edge keeps where it came from, (node id, boot, seq), in the same row: one the node
    repeats because a crash took its ACK is known by the database itself. NULL for GPIO and simulated edges."""
    edges = db.table("edges")
    edges.add_column("node_id", str)
    edges.add_column("node_boot", int)
    edges.add_column("node_seq", int)
    db.execute("create unique index edges_node_origin on edges (node_id, node_boot, node_seq) where node_id is not null")


# Why a run ended incomplete when a restart cut it short (the daemon, and a recompute after it, say so).
INTERRUPTED = "interrupted by a restart"

PASSWORD_SETTING = "coach_password_hash"  # the coach's password, hashed
COOKIE_SECRET_SETTING = "web_secret_key"  # where gatectl kept the cookie key before it moved to a file
PRIVATE_SETTINGS = (PASSWORD_SETTING, COOKIE_SECRET_SETTING)  # never in a backup


class Store:
    """The gatectl database. ``Store(":memory:")`` for tests."""

    def __init__(self, path: str | Path, *, read_only: bool = False, migrate: bool = True) -> None:
        self.path = str(path)
        try:
            if read_only:
                if not Path(path).exists():
                    raise StoreError(f"There is no database at {path}.")
                # as_uri() escapes the path: a raw '#' or '?' in it would end the file name.
                conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
            else:
                if self.path != ":memory:":
                    Path(path).parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
            self.db = Database(conn)
            self.db.execute("PRAGMA foreign_keys = ON")
            if not read_only:
                if self.path != ":memory:":
                    self.db.enable_wal()
                self.db.execute("PRAGMA synchronous = FULL")
                if migrate:
                    migrations.apply(self.db)
            elif migrations.pending(self.db):
                raise StoreError(f"{path} is not a gatectl database, or is from an older gatectl: open it once with gatectl recompute.")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"Cannot open the database {path}: {exc}.") from None
        except OSError as exc:  # its folder cannot be made (a file in the way, no permission)
            raise StoreError(f"Cannot open the database {path}: {exc.strerror}: {exc.filename}.") from None

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One transaction; a refusal for now (locked, full) is a ``StoreUnavailable``, and nothing of it is written."""
        try:
            with self.db.atomic():
                yield
        except sqlite3.OperationalError as exc:
            raise _unavailable(exc) or exc from exc

    def set_busy_timeout(self, ms: int) -> None:
        """Wait at most ``ms`` for another connection's write lock, then refuse (``StoreUnavailable``)."""
        self.db.execute(f"PRAGMA busy_timeout = {int(ms)}")

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Sessions ---------------------------------------------------------------

    def start_session(
        self, layout: Layout, *, place: str = "", notes: str = "", started_at: datetime | None = None, track: Track | None = None,
        daemon_boot: str | None = None, sync_limit_ns: int = DEFAULT_LIMIT_NS,
    ) -> int:
        """A new session on ``layout``; with ``track``, one of its gates times lap reps.

        ``daemon_boot``: a daemon opens it (on that boot) and keeps it open until ``close_session``.
        ``sync_limit_ns``: its runs are flagged when clock sync may have moved their times by more.
        """
        started = started_at or datetime.now().astimezone()
        if track is not None:
            track.timing(layout)  # the gate must be one of the layout's
        return _row_id(self.db.table("sessions").insert(
            {
                "started_at": started.isoformat(timespec="seconds"),
                "date": started.date().isoformat(),
                "place": place,
                "layout": layout.describe(),
                "method": layout.method.value,
                "settings": json.dumps(asdict(layout.settings)),
                "notes": notes,
                "lap_gate": track.gate if track else None,
                "lap_m": track.lap_m if track else None,
                "daemon_boot": daemon_boot,
                "sync_limit_ns": sync_limit_ns,
            }
        ))

    def close_session(self, session_id: int) -> None:
        """The daemon finished the session: a restart opens a new one."""
        self.claim_session(session_id, None)

    def claim_session(self, session_id: int, daemon_boot: str | None) -> None:
        """A daemon on boot ``daemon_boot`` has the session open (None: nobody has)."""
        with self._writing():
            self.db.execute("update sessions set daemon_boot = ? where id = ?", [daemon_boot, session_id])

    def interrupted_session(self) -> dict | None:
        """The newest session a daemon had open and did not close (it crashed, or the power went), or None."""
        row = next(self.db.query("select * from sessions where daemon_boot is not null order by id desc limit 1"), None)
        return dict(row) if row else None

    def last_instant(self, session_id: int) -> int | None:
        """The latest instant the session's raw log and events reached, on the gates' clock."""
        return self.db.execute(
            "select max(t) from (select max(t_ns) as t from edges where session_id = ?"
            " union all select max(t_ns) from session_events where session_id = ?)", [session_id, session_id]
        ).fetchone()[0]

    def add_session_event(self, session_id: int, t_ns: int, kind: str, data: dict) -> None:
        """Something that happened in a session besides edges (a restart, a workout input), kept to replay it."""
        with self._writing():
            self.db.execute(
                "insert into session_events (session_id, t_ns, kind, data) values (?, ?, ?, ?)", [session_id, t_ns, kind, json.dumps(data)]
            )

    def session_events(self, session_id: int, kind: str) -> list[dict]:
        """The session's events of one kind, in the order they happened: ``{"t_ns": ..., **data}``."""
        rows = self.db.execute("select t_ns, data from session_events where session_id = ? and kind = ? order by id", [session_id, kind])
        return [{"t_ns": t_ns, **json.loads(data)} for t_ns, data in rows]

    def session(self, session_id: int) -> dict:
        rows = list(self.db["sessions"].rows_where("id = ?", [session_id]))
        if not rows:
            raise StoreError(f"There is no session {session_id}.")
        return rows[0]

    def sessions(self) -> list[dict]:
        return list(self.db.query(
            "select s.*, (select count(*) from runs r where r.session_id = s.id and r.status = 'complete' and not r.voided and not r.replaced) as complete_runs"
            " from sessions s order by s.id desc"
        ))

    def latest_session_id(self) -> int | None:
        row = next(self.db.query("select max(id) as id from sessions"), None)
        return row["id"] if row else None

    def layout(self, session_id: int) -> Layout:
        row = self.session(session_id)
        settings = DetectionSettings(**json.loads(row["settings"])) if row["settings"] else None
        return Layout.parse(row["layout"], row["method"], settings)

    def track(self, session_id: int) -> Track | None:
        """The track of a session timing lap reps; None for runs along a line of gates."""
        row = self.session(session_id)
        return Track(row["lap_gate"], row["lap_m"]) if row["lap_gate"] else None

    def add_lap_command(self, session_id: int, command: LapCommand) -> None:
        """Keep a lap command (a group's go with who leaves when; a coach's mark with whose crossing) to replay it."""
        data: dict = {"distance_m": command.distance_m, "target_ns": command.target_ns, "start_ns": command.start_ns, "reason": command.reason}
        if command.group:
            data["group"] = [asdict(entry) for entry in command.group]
        if command.kind is Command.MARK:
            data |= {"crossing_ns": command.crossing_ns, "athlete_id": command.athlete_id}
        self.db.table("session_events").insert({"session_id": session_id, "t_ns": command.t_ns, "kind": command.kind.value, "data": json.dumps(data)})

    def lap_commands(self, session_id: int) -> list[LapCommand]:
        kinds = [c.value for c in Command]
        rows = self.db["session_events"].rows_where(f"session_id = ? and kind in ({','.join('?' * len(kinds))})", [session_id, *kinds], order_by="t_ns, id")
        commands = []
        for row in rows:
            data = json.loads(row["data"])
            group = tuple(GroupEntry(**entry) for entry in data.pop("group", ()))
            commands.append(LapCommand(row["t_ns"], Command(row["kind"]), group=group, **data))
        return commands

    def lap_marks(self, session_id: int) -> list[LapCommand]:
        """The coach's marks on group reps' crossings ("this was Ama"), in the order they were made."""
        return [c for c in self.lap_commands(session_id) if c.kind is Command.MARK]

    def update_session(self, session_id: int, *, date: str | None = None, place: str | None = None, notes: str | None = None) -> None:
        changes = {k: v for k, v in {"date": date, "place": place, "notes": notes}.items() if v is not None}
        if changes:
            self.session(session_id)
            self.db.table("sessions").update(session_id, changes)

    # The raw log --------------------------------------------------------------

    def add_edges(self, session_id: int, edges: Sequence[Edge], origins: Sequence[EdgeOrigin | None] | None = None) -> list[Edge]:
        """Append raw edges durably, in one transaction, before anything is derived; the new ones, in order.

        ``origins`` gives, edge by edge, where a gate node's edge came from
        (node id, boot, seq; None for any other edge), kept in the same row.
        An edge whose origin is already stored is the node's repeat (the ACK
        was lost, to the link or to a crash between this commit and the ACK):
        it is not stored again and not returned. When it returns the edges
        are on disk (see the module's settings); a ``StoreUnavailable`` means
        none of them was written.
        """
        with self._writing():
            if origins is None or not any(origins):
                self.db.conn.executemany(
                    "insert into edges (session_id, beam, t_ns, broken) values (?, ?, ?, ?)",
                    [(session_id, e.beam, e.t_ns, int(e.broken)) for e in edges],
                )
                return list(edges)
            if len(origins) != len(edges):
                raise ValueError(f"{len(edges)} edges with {len(origins)} origins")
            new = []
            for edge, origin in zip(edges, origins):
                node_id, boot, seq = origin if origin is not None else (None, None, None)
                inserted = self.db.conn.execute(
                    "insert into edges (session_id, beam, t_ns, broken, node_id, node_boot, node_seq) values (?, ?, ?, ?, ?, ?, ?)"
                    " on conflict do nothing",
                    (session_id, edge.beam, edge.t_ns, int(edge.broken), node_id, boot, seq),
                ).rowcount
                if inserted:
                    new.append(edge)
            return new

    def edges(self, session_id: int) -> list[Edge]:
        return [Edge(beam, t_ns, broken == 1) for beam, t_ns, broken in self._edge_rows(session_id)]

    def _edge_rows(self, session_id: int) -> list[tuple[str, int, int]]:
        """The raw log as rows shaped like ``Edge`` (beam, t_ns, broken as 1/0), in time order.

        The timing core unpacks an edge as a tuple, so it takes these rows as
        they are: a recompute of a million edges builds no objects for them.
        """
        return self.db.execute(
            "select beam, t_ns, broken from edges where session_id = ? order by t_ns, id", [session_id]
        ).fetchall()

    def add_sync(self, session_id: int, entries: Sequence[BeamSync]) -> None:
        """Log node beams' clock-sync uncertainty (``gatectl.timing.sync``), raw data beside the edges."""
        with self._writing():
            self.db.conn.executemany(
                "insert into beam_sync (session_id, beam, t_ns, clock, uncertainty_ns) values (?, ?, ?, ?, ?)",
                [(session_id, *entry) for entry in entries],
            )

    def sync_log(self, session_id: int) -> SyncLog:
        """The session's whole clock-sync log."""
        rows = self.db.execute("select beam, t_ns, clock, uncertainty_ns from beam_sync where session_id = ?", [session_id])
        return SyncLog(BeamSync(*row) for row in rows)

    def _run_sync(self, session_id: int, layout: Layout, limit_ns: int | None, run: Run | LapRep, log: SyncLog | None = None) -> RunSync | None:
        """A run's sync bounds from the log (``log``, or the entries it needs read now); None for a lap rep or an older session."""
        if limit_ns is None or isinstance(run, LapRep):
            return None
        crossings, beams = crossed(run, layout)
        if log is None:  # only the entries it needs: SyncLog.at answers the same from them as from the whole log
            log = SyncLog(entry for gate, t_ns in crossings.items() for beam in beams[gate] for entry in self._sync_entries(session_id, beam, t_ns))
        return run_sync(crossings, beams, log, limit_ns)

    def _sync_entries(self, session_id: int, beam: str, t_ns: int) -> list[BeamSync]:
        """The beam's log entry in force at ``t_ns`` (the last from before it) and its first one."""
        select = "select beam, t_ns, clock, uncertainty_ns from beam_sync where session_id = ? and beam = ?"
        before = self.db.execute(f"{select} and t_ns <= ? order by t_ns desc limit 1", [session_id, beam, t_ns]).fetchall()
        first = self.db.execute(f"{select} order by t_ns limit 1", [session_id, beam]).fetchall()
        return [BeamSync(*row) for row in before + first]

    def edge_count(self, session_id: int | None = None) -> int:
        if session_id is None:
            return self.db.execute("select count(*) from edges").fetchone()[0]
        return self.db.execute("select count(*) from edges where session_id = ?", [session_id]).fetchone()[0]

    # What the core derived ----------------------------------------------------

    def add_derived(
        self, session_id: int, events: Iterable[object], *, owners: Mapping[int, int] | None = None, voided: Mapping[int, str] | None = None,
    ) -> list[int]:
        """Store crossings, anomalies and finished runs (or lap reps); returns the ids of the runs, in order.

        ``owners`` (run number → athlete id) and ``voided`` (run number → why) are
        stored in the same transaction as the runs: a reader never sees a run
        without its athlete or its void. Other events (a lap rep starting, a lap
        split) are live news only: the rep's row has them.
        """
        owners, voided = owners or {}, voided or {}
        run_ids = []
        events = list(events)
        timed = any(isinstance(e, (Run, LapRep)) for e in events)
        layout, limit_ns = (self.layout(session_id), self.session(session_id)["sync_limit_ns"]) if timed else (None, None)
        with self._writing():
            self._insert_crossings(session_id, [e for e in events if isinstance(e, Crossing)])
            self._insert_anomalies(session_id, [e for e in events if isinstance(e, Anomaly)])
            for run in (e for e in events if isinstance(e, (Run, LapRep))):
                decided = {"id": None, "athlete_id": owners.get(run.number), "voided": int(run.number in voided),
                           "void_reason": voided.get(run.number), "set_no": None, "rep_no": None}  # fmt: skip
                assert layout is not None  # read above: there are runs
                sync = self._run_sync(session_id, layout, limit_ns, run)
                run_id = self.db.conn.execute(_INSERT_RUN, _run_values(session_id, run, sync, decided)).lastrowid
                assert run_id is not None  # an insert sets it
                run_ids.append(run_id)
        return run_ids

    def _insert_crossings(self, session_id: int, crossings: Sequence[Crossing]) -> None:
        # A crossing's edges may be rows from _edge_rows: index them as the tuples they all are.
        self.db.conn.executemany(
            "insert into crossings (session_id, gate, t_ns, method, edges_from_ns, edges_to_ns, edge_count)"
            " values (?, ?, ?, ?, ?, ?, ?)",
            [
                (session_id, c.gate, c.t_ns, c.method.value, c.edges[0][1] if c.edges else None,
                 c.edges[-1][1] if c.edges else None, len(c.edges))
                for c in crossings
            ],
        )

    def _insert_anomalies(self, session_id: int, anomalies: Sequence[Anomaly]) -> None:
        self.db.conn.executemany(
            "insert into anomalies (session_id, source, t_ns, reason) values (?, ?, ?, ?)",
            [(session_id, a.source, a.t_ns, a.reason) for a in anomalies],
        )

    def recompute(self, session_id: int) -> dict[str, int]:
        """Rebuild a session's crossings, runs and anomalies from its edges.

        A track session's lap reps are rebuilt too, from its edges and the
        coach's lap commands; each run's clock-sync bounds from the session's
        sync log. A rebuilt run that starts at the same instant as
        an old one keeps its id (links to it still work), its athlete, its void
        and the workout rep it was.
        """
        layout = self.layout(session_id)
        kept: dict[tuple, list[dict]] = {}  # a group rep's athletes share a start: one row each
        old_runs = self.db.execute(f"select started_ns, status, {', '.join(_KEPT)} from runs where session_id = ? and corrected = 0 order by id", [session_id])
        for started_ns, status, *decided in old_runs:  # a plain cursor: a session may have tens of thousands
            kept.setdefault((started_ns, status), []).append(dict(zip(_KEPT, decided)))
        track = self.track(session_id)
        edges = cast("list[Edge]", self._edge_rows(session_id))  # rows shaped like Edge: the core unpacks edges as tuples
        result: TimingResult | LapResult
        runs: tuple[Run, ...] | tuple[LapRep, ...]
        if track is None:
            result = time_edges(edges, layout)
            runs = result.runs
        else:  # lap reps: the edges and the coach's arms and goes, replayed as the daemon applied them
            result = time_laps(edges, self.lap_commands(session_id), track.timing(layout))
            runs = result.reps
        with self.db.atomic():
            for table in ("crossings", "anomalies"):
                self.db.execute(f"delete from {table} where session_id = ?", [session_id])
            self.db.execute("delete from runs where session_id = ? and corrected = 0", [session_id])
            self._insert_crossings(session_id, result.crossings)
            self._insert_anomalies(session_id, result.anomalies)
            limit_ns, log = self.session(session_id)["sync_limit_ns"], self.sync_log(session_id)
            rows = [
                _run_values(session_id, run, self._run_sync(session_id, layout, limit_ns, run, log), _kept_row(kept, run))
                for run in runs
            ]
            # Runs keeping their id go in first, so a new run's fresh id cannot take one of theirs.
            rows.sort(key=lambda row: row[0] is None)
            self.db.conn.executemany(_INSERT_RUN, rows)
            corrected = self._apply_corrections(session_id) if track is None else None
        counts = {"edges": len(edges), "crossings": len(result.crossings), "runs": len(runs), "anomalies": len(result.anomalies)}
        if corrected is not None and corrected.verdicts:
            counts["corrections"] = len(corrected.verdicts)
            counts["not_applied"] = sum(1 for v in corrected.verdicts if not v.applied and v.undone_by is None)
        return counts

    def reconcile(self, session_id: int, events: Iterable[object]) -> StoredAhead:
        """At a restart: store what a rebuild from the raw log derived and the store lacks (the daemon died
        between writing edges and what it derived from them); return what the store holds beyond the rebuild
        (derived before the crash as the clock ran on: a closed window, a timed-out run), not to be stored twice.
        """
        events = list(events)
        crossings = {(g, t) for g, t in self.db.execute("select gate, t_ns from crossings where session_id = ?", [session_id])}
        anomalies = {tuple(r) for r in self.db.execute("select source, t_ns, reason from anomalies where session_id = ?", [session_id])}
        runs: dict[tuple[int, str], list[int]] = {}  # a group rep's athletes share a start: one id each
        for r in self.db["runs"].rows_where("session_id = ? and corrected = 0", [session_id], order_by="id"):
            runs.setdefault((r["started_ns"], r["status"]), []).append(r["id"])
        new: list[object] = []
        for event in events:
            if isinstance(event, Crossing):
                key: tuple = (event.gate, event.t_ns)
                pool: set | dict = crossings
            elif isinstance(event, Anomaly):
                key, pool = (event.source, event.t_ns, event.reason), anomalies
            elif isinstance(event, (Run, LapRep)):
                key, pool = (event.started_ns, event.status.value), runs
            else:
                continue
            if isinstance(pool, set) and key in pool:
                pool.remove(key)
            elif isinstance(pool, dict) and pool.get(key):
                pool[key].pop(0)
            else:
                new.append(event)
        self.add_derived(session_id, new)
        return StoredAhead(crossings, anomalies, runs)

    # Runs ---------------------------------------------------------------------

    def run(self, run_id: int) -> RunView:
        rows = self._run_rows("r.id = ?", [run_id])
        if not rows:
            if self.db.execute("select 1 from runs where id = ? and replaced", [run_id]).fetchone():
                raise StoreError(f"Run {run_id} was changed by a correction: open the run that carries it on from its session.")
            raise StoreError(f"There is no run {run_id}.")
        return rows[0]

    def runs(self, *, session_id: int | None = None, athlete_id: int | None = None, statuses: Sequence[str] | None = None, limit: int | None = None) -> list[RunView]:
        """Runs with their results (``report``), newest first."""
        where: list[str] = ["1 = 1"]
        params: list[int | str] = []
        if session_id is not None:
            where.append("r.session_id = ?")
            params.append(session_id)
        if athlete_id is not None:
            where.append("r.athlete_id = ?")
            params.append(athlete_id)
        if statuses:
            where.append(f"r.status in ({','.join('?' * len(statuses))})")
            params += list(statuses)
        return self._run_rows(" and ".join(where), params, limit)

    def _run_rows(self, where: str, params: list, limit: int | None = None) -> list[RunView]:
        sql = (
            "select r.*, a.name as athlete, s.sync_limit_ns from runs r left join athletes a on a.id = r.athlete_id "
            "join sessions s on s.id = r.session_id "
            f"where r.replaced = 0 and {where} order by r.started_ns desc, r.id desc" + (f" limit {int(limit)}" if limit else "")
        )
        layouts: dict[int, Layout] = {}
        paces: dict[int | None, dict[float, int]] = {None: {}}
        rows = []
        for row in self.db.query(sql, params):
            layout = layouts.get(row["session_id"]) or layouts.setdefault(row["session_id"], self.layout(row["session_id"]))
            if row["athlete_id"] not in paces:
                paces[row["athlete_id"]] = self.paces(row["athlete_id"])
            rows.append(run_view(row, layout, paces[row["athlete_id"]]))
        return rows

    def assign_run(self, run_id: int, athlete_id: int | None) -> None:
        """Who ran the run. A corrected run's athlete comes from its corrections (``SetAthlete``)."""
        run = self.run(run_id)
        if athlete_id is not None:
            self.athlete(athlete_id)
        if self.is_corrected(run_id):
            raise StoreError(f"Run {run.number} was corrected: say who ran it with a set-athlete correction.")
        self.db.table("runs").update(run_id, {"athlete_id": athlete_id})

    def void_run(self, run_id: int, reason: str) -> None:
        if not reason.strip():
            raise StoreError("Say why the run is voided (e.g. 'false start', 'wrong athlete').")
        self.run(run_id)
        self._update_run(run_id, {"voided": 1, "void_reason": reason.strip()})

    def unvoid_run(self, run_id: int) -> None:
        self.run(run_id)
        self._update_run(run_id, {"voided": 0, "void_reason": None})

    def revise_lap_reps(self, session_id: int, reps: Sequence[LapRep]) -> list[int]:
        """A group rep assigned again (the coach's mark): each athlete's row as it is now, found by its number; their ids."""
        ids = []
        with self._writing():
            for rep in reps:
                row = self.db.execute("select id from runs where session_id = ? and number = ?", [session_id, rep.number]).fetchone()
                if row is None:
                    continue  # not stored yet: it will be as it is now
                self.db.execute(
                    "update runs set status = ?, reason = ?, started_ns = ?, splits = ?, athlete_id = ?, ambiguous = ? where id = ?",
                    [rep.status.value, rep.reason, rep.started_ns, json.dumps(rep.splits_ns), rep.athlete_id, int(rep.ambiguous), row[0]],
                )
                ids.append(row[0])
        return ids

    def set_run_rep(self, run_id: int, set_no: int | None, rep_no: int | None) -> None:
        """Label a run with the workout rep it was (set and rep numbers)."""
        self.run(run_id)
        self._update_run(run_id, {"set_no": set_no, "rep_no": rep_no})

    def _update_run(self, run_id: int, changes: dict) -> None:
        """Change a run; a corrected run's source too, so a fold of the corrections keeps the change."""
        columns = ", ".join(f"{name} = ?" for name in changes)
        with self._writing():
            self.db.execute(
                f"update runs set {columns} where id = ? or id = (select source_id from runs where id = ?)", [*changes.values(), run_id, run_id]
            )

    def correction(self, correction_id: int) -> dict:
        """One correction as stored (``correction_rows``)."""
        row = self.db.execute("select session_id from corrections where id = ?", [correction_id]).fetchone()
        if row is None:
            raise StoreError(f"There is no correction {correction_id}.")
        return self.correction_rows(row[0], [correction_id])[0]

    def run_history(self, run_id: int) -> list[int]:
        """The ids of the corrections about a run, in order."""
        row = self.db.execute("select history from runs where id = ?", [run_id]).fetchone()
        return json.loads(row[0]) if row and row[0] else []

    def crossing_ref(self, session_id: int, gate: str, t_ns: int) -> CrossingRef | None:
        """How a correction names the session's crossing at ``gate`` and ``t_ns`` (None: there is none)."""
        row = self.db.execute(
            "select edges_from_ns from crossings where session_id = ? and gate = ? and t_ns = ? limit 1", [session_id, gate, t_ns]
        ).fetchone()
        if row is None:
            return None
        return CrossingRef(gate, t_ns if row[0] is None else row[0], t_ns)

    def run_with_crossing(self, session_id: int, gate: str, t_ns: int) -> RunView | None:
        """The run shown now that holds the crossing (a crossing set aside: its own entry), or None."""
        rows = self._run_rows(
            "r.session_id = ? and exists (select 1 from json_each(r.crossings) where key = ? and value = ?)", [session_id, gate, t_ns], 1
        )
        return rows[0] if rows else None

    def runs_of_correction(self, session_id: int, correction_id: int) -> list[RunView]:
        """The runs shown now whose history names the correction (the ones it made or changed, or that an undo gave back)."""
        return self._run_rows("r.session_id = ? and exists (select 1 from json_each(r.history) where value = ?)", [session_id, correction_id])

    def carried(self, run_id: int) -> RunView | None:
        """The run shown now that carries run ``run_id`` on after the coach's corrections (itself, if none changed
        it): of the runs now holding its crossings, a complete one, else the first; None if there is no such run."""
        row = self.db.execute("select session_id, crossings, replaced from runs where id = ?", [run_id]).fetchone()
        if row is None:
            return None
        if not row[2]:
            return self._run_rows("r.id = ?", [run_id])[0]  # shown as it is (a lap rep too: it has no crossings)
        holding = (self.run_with_crossing(row[0], gate, t_ns) for gate, t_ns in json.loads(row[1]).items())
        return min(
            (r for r in holding if r is not None),
            key=lambda r: (r.status is RunStatus.REJECTED, r.status is not RunStatus.COMPLETE, min(r.crossings.values(), default=0), r.id),
            default=None,
        )

    def is_corrected(self, run_id: int) -> bool:
        """Whether corrections made the run (rather than assembly)."""
        row = self.db.execute("select corrected from runs where id = ?", [run_id]).fetchone()
        return bool(row and row[0])

    # Corrections ----------------------------------------------------------------

    def corrections(self, session_id: int) -> list[Correction]:
        """The session's corrections, in the order they were made."""
        return [
            Correction(row["id"], change_from_payload(row["kind"], json.loads(row["payload"])), row["who"], row["made_at"])
            for row in self.db["corrections"].rows_where("session_id = ?", [session_id], order_by="id")
        ]

    def correction_rows(self, session_id: int, ids: Sequence[int] | None = None) -> list[dict]:
        """The session's corrections as stored (``ids``: only those), with what the last fold made of them."""
        where, params = "session_id = ?", [session_id]
        if ids is not None:
            where += f" and id in ({', '.join('?' * len(ids))})"
            params += list(ids)
        return [
            {**row, "payload": json.loads(row["payload"]), "applied": bool(row["applied"])}
            for row in self.db["corrections"].rows_where(where, params, order_by="id")
        ]

    def correct(self, session_id: int, change: Change, who: str, made_at: datetime | None = None) -> tuple[int, Corrected]:
        """Keep a correction and apply the session's corrections again; its id and the runs after it.

        ``CorrectionError`` (nothing kept) if it does not apply to the runs as they are.
        """
        if self.track(session_id) is not None:
            raise CorrectionError(f"Session {session_id} times lap reps on one gate: corrections are for runs through the gates.")
        made = (made_at or datetime.now().astimezone()).isoformat(timespec="seconds")
        with self._writing():
            correction_id = self.db.conn.execute(
                "insert into corrections (session_id, kind, payload, who, made_at, applied) values (?, ?, ?, ?, ?, 1)",
                [session_id, change.KIND.value, json.dumps(change_payload(change)), who, made],
            ).lastrowid
            assert correction_id is not None  # an insert sets it
            done = self._apply_corrections(session_id)
            assert done is not None  # the session has a correction now
            verdict = next(v for v in done.verdicts if v.id == correction_id)
            if not verdict.applied:
                raise CorrectionError(verdict.reason or "The correction does not apply.")  # rolled back: nothing kept
        return correction_id, done

    def _assembled(self, session_id: int) -> tuple[list[dict], list[Run], dict[tuple[str, int], tuple[int, int]]]:
        """The assembly's runs (rows and values, in the order they started) and each crossing's first and last raw edge."""
        layout = self.layout(session_id)
        rows = list(self.db.query("select * from runs where session_id = ? and corrected = 0 order by started_ns, number, id", [session_id]))
        runs = [
            Run(
                row["number"], tuple(sorted((Crossing(g, t, layout.method) for g, t in json.loads(row["crossings"]).items()), key=lambda c: c.t_ns)),
                RunStatus(row["status"]), row["reason"], bool(row["ambiguous"]),
            )
            for row in rows
        ]  # fmt: skip
        spans = {
            (gate, t_ns): (first, last)
            for gate, t_ns, first, last in self.db.execute(
                "select gate, t_ns, edges_from_ns, edges_to_ns from crossings where session_id = ? and edges_from_ns is not null", [session_id]
            )
        }
        return rows, runs, spans

    def _apply_corrections(self, session_id: int) -> Corrected | None:
        """Fold the session's corrections over the assembly's runs and store the runs they give (in a transaction).

        A corrected run keeps the id, void and workout rep of the corrected run with the same crossings
        before (else its source's), and its source's athlete unless a correction says who ran it.
        None when the session has no corrections and nothing corrected: nothing to do.
        """
        corrections = self.corrections(session_id)
        touched = self.db.execute("select 1 from runs where session_id = ? and (corrected or replaced or history is not null) limit 1", [session_id])
        if not corrections and touched.fetchone() is None:
            return None
        rows, runs, spans = self._assembled(session_id)
        layout, limit_ns, log = self.layout(session_id), self.session(session_id)["sync_limit_ns"], self.sync_log(session_id)
        done = apply_corrections(runs, corrections, layout, lambda c: spans.get((c.gate, c.t_ns), (c.t_ns, c.t_ns)))
        before = {row["crossings"]: row for row in self.db["runs"].rows_where("session_id = ? and corrected = 1", [session_id])}
        self.db.execute("delete from runs where session_id = ? and corrected = 1", [session_id])
        shown = {r.source: r for r in done.runs if not r.changed and r.source is not None}
        marks = [(int(k not in shown), json.dumps(shown[k].history) if k in shown and shown[k].history else None, row) for k, row in enumerate(rows)]
        self.db.conn.executemany(  # only the rows whose mark changes: most of a session's runs are never corrected
            "update runs set replaced = ?, history = ? where id = ?",
            [(replaced, history, row["id"]) for replaced, history, row in marks if (replaced, history) != (row["replaced"], row["history"])],
        )
        inserts = []
        for fixed in (r for r in done.runs if r.changed):
            source = rows[fixed.source] if fixed.source is not None else None
            same = before.get(_run_values(session_id, fixed.run, None)[6])  # the crossings, as stored
            real = fixed.run.status is not RunStatus.REJECTED
            kept = same or (source if real else None)
            decided = {
                "id": same["id"] if same else None, "athlete_id": fixed.athlete_id if fixed.athlete_set else source["athlete_id"] if source and real else None,
                "voided": kept["voided"] if kept else 0, "void_reason": kept["void_reason"] if kept else None,
                "set_no": kept["set_no"] if kept else None, "rep_no": kept["rep_no"] if kept else None,
            }  # fmt: skip
            history = json.dumps(fixed.history) if fixed.history else None
            inserts.append((*_run_values(session_id, fixed.run, self._run_sync(session_id, layout, limit_ns, fixed.run, log), decided), source["id"] if source else None, history))
        inserts.sort(key=lambda row: row[0] is None)  # runs keeping their id first: a fresh id cannot take one of theirs
        self.db.conn.executemany(_INSERT_CORRECTED, inserts)
        self.db.conn.executemany(
            "update corrections set applied = ?, undone_by = ?, note = ? where id = ?",
            [(int(v.applied), v.undone_by, v.reason, v.id) for v in done.verdicts],
        )
        return done

    # Workouts -------------------------------------------------------------------

    def save_workout(self, session_id: int, *, text: str, kind: str, slug: str | None, athletes: list[dict], options: dict) -> None:
        """The workout run in a session, as the coach chose it; its summary comes with ``update_workout``."""
        self.session(session_id)
        self.db.table("workouts").insert({
            "session_id": session_id, "text": text, "kind": kind, "slug": slug,
            "athletes": json.dumps(athletes), "options": json.dumps(options), "summary": None, "ended": 0,
        })  # fmt: skip

    def update_workout(self, session_id: int, summary: Sequence[SummaryRow], *, ended: bool) -> None:
        with self._writing():
            self.db.execute("update workouts set summary = ?, ended = ? where session_id = ?", [json.dumps(jsonable(summary)), int(ended), session_id])

    def workout(self, session_id: int) -> dict | None:
        """The session's workout (JSON fields decoded), or None."""
        rows = list(self.db["workouts"].rows_where("session_id = ?", [session_id]))
        if not rows:
            return None
        row = rows[0]
        return {
            **row, "ended": bool(row["ended"]), "athletes": json.loads(row["athletes"]), "options": json.loads(row["options"]),
            "summary": json.loads(row["summary"]) if row["summary"] else None,
        }  # fmt: skip

    def anomalies(self, session_id: int) -> list[dict]:
        return list(self.db["anomalies"].rows_where("session_id = ?", [session_id], order_by="t_ns"))

    # Athletes -----------------------------------------------------------------

    def add_athlete(self, name: str, *, notes: str = "") -> int:
        name = check_name(name, "An athlete's name", StoreError)
        if not name:
            raise StoreError("An athlete needs a name.")
        if self.find_athlete(name) is not None:
            raise StoreError(f"There is already an athlete called {name!r}.")
        return _row_id(self.db.table("athletes").insert({"name": name, "notes": notes, "archived": 0, "created_at": datetime.now().astimezone().isoformat(timespec="seconds")}))

    def update_athlete(self, athlete_id: int, *, name: str | None = None, notes: str | None = None, archived: bool | None = None) -> None:
        self.athlete(athlete_id)
        changes: dict = {}
        if name is not None:
            name = check_name(name, "An athlete's name", StoreError)
            if not name:
                raise StoreError("An athlete needs a name.")
            other = self.find_athlete(name)
            if other is not None and other["id"] != athlete_id:
                raise StoreError(f"There is already an athlete called {name!r}.")
            changes["name"] = name
        if notes is not None:
            changes["notes"] = notes
        if archived is not None:
            changes["archived"] = int(archived)
        if changes:
            self.db.table("athletes").update(athlete_id, changes)

    def athlete(self, athlete_id: int) -> dict:
        rows = list(self.db["athletes"].rows_where("id = ?", [athlete_id]))
        if not rows:
            raise StoreError(f"There is no athlete {athlete_id}.")
        return {**rows[0], "race_times": self.race_times(athlete_id)}

    def find_athlete(self, name: str) -> dict | None:
        rows = list(self.db["athletes"].rows_where("name = ? collate nocase", [name.strip()]))
        return rows[0] if rows else None

    def athletes(self, *, include_archived: bool = False) -> list[dict]:
        where = None if include_archived else "archived = 0"
        return [{**row, "race_times": self.race_times(row["id"])} for row in self.db["athletes"].rows_where(where, order_by="name collate nocase")]

    def set_race_time(self, athlete_id: int, distance_m: float, time_ns: int | None, kind: str = "best") -> None:
        """Set (or with ``None`` clear) an athlete's best or goal time over a distance."""
        if kind not in RACE_TIME_KINDS:
            raise StoreError(f"A race time is a 'best' or a 'goal', not {kind!r}.")
        if not distance_m > 0:
            raise StoreError(f"A race distance must be more than 0 m, not {distance_m}.")
        if time_ns is not None and (not isinstance(time_ns, int) or isinstance(time_ns, bool) or time_ns <= 0):
            # A zero time would divide by zero in every result of the athlete's runs.
            raise StoreError(f"A race time must be a whole number of nanoseconds above 0, not {time_ns!r}.")
        self.athlete(athlete_id)
        with self.db.atomic():
            self.db.execute("delete from race_times where athlete_id = ? and distance_m = ? and kind = ?", [athlete_id, distance_m, kind])
            if time_ns is not None:
                self.db.table("race_times").insert({"athlete_id": athlete_id, "distance_m": float(distance_m), "kind": kind, "time_ns": time_ns})

    def race_times(self, athlete_id: int) -> list[dict]:
        return list(self.db["race_times"].rows_where("athlete_id = ?", [athlete_id], order_by="distance_m, kind", select="distance_m, kind, time_ns"))

    def paces(self, athlete_id: int | None, kind: str = "best") -> dict[float, int]:
        """The athlete's race times of one kind: ``{distance_m: time_ns}``."""
        if athlete_id is None:
            return {}
        return {r["distance_m"]: r["time_ns"] for r in self.race_times(athlete_id) if r["kind"] == kind}

    # Settings -----------------------------------------------------------------

    def setting(self, key: str) -> str | None:
        rows = list(self.db["settings"].rows_where("key = ?", [key]))
        return rows[0]["value"] if rows else None

    def set_setting(self, key: str, value: str) -> None:
        self.db.table("settings").upsert({"key": key, "value": value}, pk="key")


    def delete_setting(self, key: str) -> None:
        self.db.execute("delete from settings where key = ?", [key])
        self.db.conn.commit()

    def backup(self, out: str | Path) -> None:
        """A consistent copy of the database in the new file ``out``, without secrets.

        SQLite's backup API copies what readers see, the WAL included, while the
        daemon keeps writing; copying the ``.db`` file alone would miss what is
        still in the WAL. The copy has no password hash or cookie key
        (``PRIVATE_SETTINGS``), vacuumed so no page still holds them.
        """
        out = Path(out)
        if out.exists():
            raise StoreError(f"{out} already exists: give a new file for the copy.")
        partial = out.with_name(out.name + ".partial")
        partial.unlink(missing_ok=True)
        try:
            copy = sqlite3.connect(partial)
            try:
                self.db.conn.backup(copy)
                copy.execute(f"delete from settings where key in ({', '.join('?' * len(PRIVATE_SETTINGS))})", PRIVATE_SETTINGS)
                copy.commit()
                copy.execute("pragma journal_mode = delete")  # one self-contained file
                copy.execute("vacuum")
            finally:
                copy.close()
            os.replace(partial, out)
        except (sqlite3.Error, OSError) as exc:
            partial.unlink(missing_ok=True)
            raise StoreError(f"Cannot write the copy {out}: {exc}.") from None


@dataclass(slots=True)
class StoredAhead:
    """Derived rows stored before a crash that a rebuild from the raw log has not reached yet (``reconcile``)."""

    crossings: set[tuple[str, int]]  # (gate, t_ns)
    anomalies: set[tuple[str, int, str]]  # (source, t_ns, reason)
    runs: dict[tuple[int, str], list[int]]  # (started_ns, status) → the stored runs' ids (a group rep's share a start)


_RUN_COLUMNS = (
    "id, session_id, number, status, reason, started_ns, crossings, athlete_id, voided, void_reason,"
    " set_no, rep_no, distance_m, splits, target_ns, start_kind, recovery_ns, ambiguous, sync_gates, sync_ns"
)
_INSERT_RUN = f"insert into runs ({_RUN_COLUMNS}) values ({', '.join('?' * 20)})"
# A run the coach's corrections made: flagged, with the assembly run it carries on and its history.
_INSERT_CORRECTED = f"insert into runs ({_RUN_COLUMNS}, corrected, source_id, history) values ({', '.join('?' * 20)}, 1, ?, ?)"


def _row_id(table: Table) -> int:
    """The id of the row ``table`` just inserted: sqlite-utils sets it on every insert that is not ignored."""
    assert isinstance(table.last_pk, int)
    return table.last_pk


# What a recompute carries over from a run to the run rebuilt in its place (``_run_values`` reads them).
_KEPT = ("id", "reason", "athlete_id", "voided", "void_reason", "set_no", "rep_no")


def _kept_row(kept: dict[tuple, list[dict]], run: Run | LapRep) -> dict | None:
    """The stored row a rebuilt run takes over: same start and status (a group rep's: the same athlete first)."""
    rows = kept.get((run.started_ns, run.status.value))
    if not rows:
        return None
    athlete = run.athlete_id if isinstance(run, LapRep) else None
    row = next((r for r in rows if athlete is not None and r["athlete_id"] == athlete), rows[0])
    rows.remove(row)
    return row


def _run_values(session_id: int, run: Run | LapRep, sync: RunSync | None, kept: dict | None = None) -> tuple:
    """A run's (or lap rep's) row, with its sync bounds; ``kept`` carries over its id and what people decided about it before a recompute."""
    lap: tuple[float | None, str | None, int | None, str | None, int | None, int]
    if isinstance(run, LapRep):
        crossings = {}  # one gate crossed lap after lap: the splits say when
        lap = (run.distance_m, json.dumps(run.splits_ns), run.target_ns, run.start.value, run.recovery_ns, int(run.ambiguous))
    else:
        crossings = {c.gate: c.t_ns for c in run.crossings}
        lap = (None, None, None, None, None, int(run.ambiguous))
    return (
        kept["id"] if kept else None,
        session_id,
        run.number,
        run.status.value,
        # A recompute keeps what the daemon knew: a restart cut the run short.
        INTERRUPTED if kept and kept.get("reason") == INTERRUPTED and run.status is RunStatus.INCOMPLETE else run.reason,
        run.started_ns,
        json.dumps(crossings),
        # A group rep's athlete is whose the lap timing took its crossings to be (the coach's marks settle doubts).
        run.athlete_id if isinstance(run, LapRep) and run.athlete_id is not None else kept["athlete_id"] if kept else None,
        kept["voided"] if kept else 0,
        kept["void_reason"] if kept else None,
        kept["set_no"] if kept else None,
        kept["rep_no"] if kept else None,
        *lap,
        None if sync is None else json.dumps(dict(sync.gates)),
        None if sync is None else sync.uncertainty_ns,
    )


def run_view(row: dict, layout: Layout, paces: dict[float, int]) -> RunView:
    """A stored run as the API shows it: the replay report (or a lap rep's) plus who, where and whether voided.

    ``set_no`` and ``rep_no`` say which workout rep it was (None outside a workout); ``sync_limit_ns``
    is its session's (the flag's bound).
    """
    crossings = json.loads(row["crossings"])
    run = Run(
        row["number"],
        tuple(Crossing(gate, t_ns, layout.method) for gate, t_ns in crossings.items()),
        RunStatus(row["status"]),
        row["reason"],
        bool(row["ambiguous"]),
    )
    lap = None if row["splits"] is None else lap_report(row)
    sync = None if row["sync_gates"] is None else RunSync(json.loads(row["sync_gates"]), row["sync_ns"], row["sync_limit_ns"])
    result = report(run, layout, paces if lap is None else None, sync)  # a lap rep crossed one gate: no segments
    return RunView.of(
        result, lap=lap, id=row["id"], session=row["session_id"], athlete=row.get("athlete"), athlete_id=row["athlete_id"],
        voided=bool(row["voided"]), void_reason=row["void_reason"], set_no=row["set_no"], rep_no=row["rep_no"],
    )  # fmt: skip


def lap_report(row: dict) -> LapReport:
    """A stored lap rep: its time, splits and the difference from its target."""
    splits = tuple(json.loads(row["splits"]))
    time_ns = sum(splits) if row["status"] == RunStatus.COMPLETE else None
    check = None
    if time_ns is not None and row["target_ns"] is not None:
        check = check_pace(time_ns, row["target_ns"], row["distance_m"])
    return LapReport(
        row["distance_m"], StartKind(row["start_kind"]), row["started_ns"], time_ns, splits, row["target_ns"], check, row["recovery_ns"]
    )
