"""Storage: one SQLite file, written through sqlite-utils.

``edges`` is the append-only raw log; everything else about a session
(``crossings``, ``runs``, ``anomalies``) is derived from it and can be rebuilt
with ``recompute``, which keeps what people decided about runs (the athlete a
run belongs to, a void and its reason, the workout rep it was).

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

from gatectl.coaching.laps import Command, LapCommand, LapRep, LapReport, LapResult, StartKind, Track, time_laps
from gatectl.coaching.paces import RACE_TIME_KINDS
from gatectl.coaching.quality import check_pace
from gatectl.errors import StoreError
from gatectl.jsonable import jsonable
from gatectl.limits import check_name
from gatectl.timing.model import Anomaly, Crossing, DetectionSettings, Edge, Layout, Run, RunStatus
from gatectl.timing.pipeline import TimingResult, time_edges
from gatectl.timing.results import RunView, report

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
        daemon_boot: str | None = None,
    ) -> int:
        """A new session on ``layout``; with ``track``, one of its gates times lap reps.

        ``daemon_boot``: a daemon opens it (on that boot) and keeps it open until ``close_session``.
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
            "select s.*, (select count(*) from runs r where r.session_id = s.id and r.status = 'complete' and not r.voided) as complete_runs"
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
        data = {"distance_m": command.distance_m, "target_ns": command.target_ns, "start_ns": command.start_ns, "reason": command.reason}
        self.db.table("session_events").insert({"session_id": session_id, "t_ns": command.t_ns, "kind": command.kind.value, "data": json.dumps(data)})

    def lap_commands(self, session_id: int) -> list[LapCommand]:
        kinds = [c.value for c in Command]
        rows = self.db["session_events"].rows_where(f"session_id = ? and kind in ({','.join('?' * len(kinds))})", [session_id, *kinds], order_by="t_ns, id")
        return [LapCommand(row["t_ns"], Command(row["kind"]), **json.loads(row["data"])) for row in rows]

    def update_session(self, session_id: int, *, date: str | None = None, place: str | None = None, notes: str | None = None) -> None:
        changes = {k: v for k, v in {"date": date, "place": place, "notes": notes}.items() if v is not None}
        if changes:
            self.session(session_id)
            self.db.table("sessions").update(session_id, changes)

    # The raw log --------------------------------------------------------------

    def add_edges(self, session_id: int, edges: Sequence[Edge]) -> None:
        """Append raw edges durably, in one transaction, before anything is derived.

        When it returns they are on disk (see the module's settings); a
        ``StoreUnavailable`` means none of them was written.
        """
        with self._writing():
            self.db.conn.executemany(
                "insert into edges (session_id, beam, t_ns, broken) values (?, ?, ?, ?)",
                [(session_id, e.beam, e.t_ns, int(e.broken)) for e in edges],
            )

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
        with self._writing():
            self._insert_crossings(session_id, [e for e in events if isinstance(e, Crossing)])
            self._insert_anomalies(session_id, [e for e in events if isinstance(e, Anomaly)])
            for run in (e for e in events if isinstance(e, (Run, LapRep))):
                decided = {"id": None, "athlete_id": owners.get(run.number), "voided": int(run.number in voided),
                           "void_reason": voided.get(run.number), "set_no": None, "rep_no": None}  # fmt: skip
                run_id = self.db.conn.execute(_INSERT_RUN, _run_values(session_id, run, decided)).lastrowid
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
        coach's lap commands. A rebuilt run that starts at the same instant as
        an old one keeps its id (links to it still work), its athlete, its void
        and the workout rep it was.
        """
        layout = self.layout(session_id)
        kept: dict[tuple, dict] = {}
        old_runs = self.db.execute(f"select started_ns, status, {', '.join(_KEPT)} from runs where session_id = ? order by id", [session_id])
        for started_ns, status, *decided in old_runs:  # a plain cursor: a session may have tens of thousands
            if (started_ns, status) not in kept:
                kept[started_ns, status] = dict(zip(_KEPT, decided))
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
            for table in ("crossings", "runs", "anomalies"):
                self.db.execute(f"delete from {table} where session_id = ?", [session_id])
            self._insert_crossings(session_id, result.crossings)
            self._insert_anomalies(session_id, result.anomalies)
            rows = [_run_values(session_id, run, kept.pop((run.started_ns, run.status.value), None)) for run in runs]
            # Runs keeping their id go in first, so a new run's fresh id cannot take one of theirs.
            rows.sort(key=lambda row: row[0] is None)
            self.db.conn.executemany(_INSERT_RUN, rows)
        return {"edges": len(edges), "crossings": len(result.crossings), "runs": len(runs), "anomalies": len(result.anomalies)}

    def reconcile(self, session_id: int, events: Iterable[object]) -> StoredAhead:
        """At a restart: store what a rebuild from the raw log derived and the store lacks (the daemon died
        between writing edges and what it derived from them); return what the store holds beyond the rebuild
        (derived before the crash as the clock ran on: a closed window, a timed-out run), not to be stored twice.
        """
        events = list(events)
        crossings = {(g, t) for g, t in self.db.execute("select gate, t_ns from crossings where session_id = ?", [session_id])}
        anomalies = {tuple(r) for r in self.db.execute("select source, t_ns, reason from anomalies where session_id = ?", [session_id])}
        runs = {(r["started_ns"], r["status"]): r["id"] for r in self.db["runs"].rows_where("session_id = ?", [session_id])}
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
            if key in pool:
                pool.remove(key) if isinstance(pool, set) else pool.pop(key)
            else:
                new.append(event)
        self.add_derived(session_id, new)
        return StoredAhead(crossings, anomalies, runs)

    # Runs ---------------------------------------------------------------------

    def run(self, run_id: int) -> RunView:
        rows = self._run_rows("r.id = ?", [run_id])
        if not rows:
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
            "select r.*, a.name as athlete from runs r left join athletes a on a.id = r.athlete_id "
            f"where {where} order by r.started_ns desc, r.id desc" + (f" limit {int(limit)}" if limit else "")
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
        self.run(run_id)
        if athlete_id is not None:
            self.athlete(athlete_id)
        self.db.table("runs").update(run_id, {"athlete_id": athlete_id})

    def void_run(self, run_id: int, reason: str) -> None:
        if not reason.strip():
            raise StoreError("Say why the run is voided (e.g. 'false start', 'wrong athlete').")
        self.run(run_id)
        self.db.table("runs").update(run_id, {"voided": 1, "void_reason": reason.strip()})

    def unvoid_run(self, run_id: int) -> None:
        self.run(run_id)
        self.db.table("runs").update(run_id, {"voided": 0, "void_reason": None})

    def set_run_rep(self, run_id: int, set_no: int | None, rep_no: int | None) -> None:
        """Label a run with the workout rep it was (set and rep numbers)."""
        self.run(run_id)
        self.db.table("runs").update(run_id, {"set_no": set_no, "rep_no": rep_no})

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
    runs: dict[tuple[int, str], int]  # (started_ns, status) → the stored run's id


_INSERT_RUN = (
    "insert into runs (id, session_id, number, status, reason, started_ns, crossings, athlete_id, voided, void_reason,"
    " set_no, rep_no, distance_m, splits, target_ns, start_kind, recovery_ns, ambiguous)"
    " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _row_id(table: Table) -> int:
    """The id of the row ``table`` just inserted: sqlite-utils sets it on every insert that is not ignored."""
    assert isinstance(table.last_pk, int)
    return table.last_pk


# What a recompute carries over from a run to the run rebuilt in its place (``_run_values`` reads them).
_KEPT = ("id", "reason", "athlete_id", "voided", "void_reason", "set_no", "rep_no")


def _run_values(session_id: int, run: Run | LapRep, kept: dict | None = None) -> tuple:
    """A run's (or lap rep's) row; ``kept`` carries over its id and what people decided about it before a recompute."""
    lap: tuple[float | None, str | None, int | None, str | None, int | None, int]
    if isinstance(run, LapRep):
        crossings = {}  # one gate crossed lap after lap: the splits say when
        lap = (run.distance_m, json.dumps(run.splits_ns), run.target_ns, run.start.value, run.recovery_ns, 0)
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
        kept["athlete_id"] if kept else None,
        kept["voided"] if kept else 0,
        kept["void_reason"] if kept else None,
        kept["set_no"] if kept else None,
        kept["rep_no"] if kept else None,
        *lap,
    )


def run_view(row: dict, layout: Layout, paces: dict[float, int]) -> RunView:
    """A stored run as the API shows it: the replay report (or a lap rep's) plus who, where and whether voided.

    ``set_no`` and ``rep_no`` say which workout rep it was (None outside a workout).
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
    result = report(run, layout, paces if lap is None else None)  # a lap rep crossed one gate: no segments
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
