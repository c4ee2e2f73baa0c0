"""Carry a plan out: on this system, under another root, or only print it.

Modes: ``live`` (root of a real system: write, chown, run), ``root`` (write
every file under a directory standing in for ``/``, own them by nobody in
particular, and list the commands without running any), ``dry_run`` (change
nothing, say what would change). Every step reports ``changed``,
``unchanged``, ``would change`` or ``listed``; a file whose text and mode are
already right is unchanged, so running setup again changes nothing.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from gatectl.setup.answers import SetupError
from gatectl.setup.password import store_coach_password
from gatectl.setup.plan import Command, MakeDir, RemoveFile, Step, StorePassword, WriteFile

CHANGED, UNCHANGED, WOULD, LISTED = "changed", "unchanged", "would change", "listed"


@dataclass(frozen=True, slots=True)
class Outcome:
    step: Step
    status: str
    what: str  # the change, in words


def describe(step: Step) -> str:
    if isinstance(step, WriteFile):
        return f"write {step.path} ({step.mode:04o} {step.owner}:{step.group})"
    if isinstance(step, MakeDir):
        return f"directory {step.path} ({step.mode:04o} {step.owner}:{step.group})"
    if isinstance(step, RemoveFile):
        return f"remove {step.path}"
    if isinstance(step, StorePassword):
        return "store the coach's password (hashed) in " + str(step.database) if step.password else "keep the coach's password"
    return f"run {shlex.join(step.argv)}  # {step.why}"


class Applier:
    """Applies steps in order, remembering which changed (a command ``after`` one runs then)."""

    def __init__(self, root: Path | None = None, *, dry_run: bool = False, run: Callable[[tuple[str, ...]], None] | None = None) -> None:
        self.root = root
        self.dry_run = dry_run
        self._run = run or _run
        self._changed: set[str] = set()

    @property
    def live(self) -> bool:
        return self.root is None and not self.dry_run

    def target(self, path: PurePosixPath) -> Path:
        return Path(path) if self.root is None else self.root / path.relative_to("/")

    def apply(self, steps: tuple[Step, ...] | list[Step], report: Callable[[Outcome], None] = lambda o: None) -> list[Outcome]:
        outcomes = []
        for step in steps:
            outcome = self._apply(step)
            if outcome.status in (CHANGED, WOULD) or (outcome.status == LISTED and isinstance(step, Command) and step.needed):
                self._changed.add(step.key)
            outcomes.append(outcome)
            report(outcome)
        return outcomes

    def _apply(self, step: Step) -> Outcome:
        if isinstance(step, WriteFile):
            return self._write(step)
        if isinstance(step, MakeDir):
            return self._mkdir(step)
        if isinstance(step, RemoveFile):
            return self._remove(step)
        if isinstance(step, StorePassword):
            return self._password(step)
        return self._command(step)

    def _done(self, step: Step, what: str) -> Outcome:
        return Outcome(step, WOULD if self.dry_run else CHANGED, what)

    def _write(self, step: WriteFile) -> Outcome:
        path = self.target(step.path)
        try:
            old = path.read_text(encoding="utf-8") if path.exists() else None
        except (OSError, UnicodeDecodeError):
            old = ""
        if old == step.content:
            if _mode(path) == step.mode:
                return Outcome(step, UNCHANGED, describe(step))
            if not self.dry_run:
                path.chmod(step.mode)
            return self._done(step, f"mode of {step.path} to {step.mode:04o}")
        if self.dry_run:
            return self._done(step, describe(step) + (" (new)" if old is None else " (its text changes)"))
        path.parent.mkdir(parents=True, exist_ok=True)
        if old is not None and step.backup:
            shutil.copy2(path, path.with_name(path.name + ".bak"))
        temporary = path.with_name(f".{path.name}.gatectl-new")
        with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, step.mode), "w", encoding="utf-8") as out:
            out.write(step.content)
        temporary.chmod(step.mode)  # whatever the umask
        self._own(temporary, step.owner, step.group)
        temporary.replace(path)
        return self._done(step, describe(step))

    def _mkdir(self, step: MakeDir) -> Outcome:
        path = self.target(step.path)
        if path.is_dir() and _mode(path) == step.mode and (not self.live or _owner(path) == (step.owner, step.group)):
            return Outcome(step, UNCHANGED, describe(step))
        if not self.dry_run:
            path.mkdir(parents=True, exist_ok=True)
            path.chmod(step.mode)
            self._own(path, step.owner, step.group)
        return self._done(step, describe(step))

    def _remove(self, step: RemoveFile) -> Outcome:
        path = self.target(step.path)
        if not path.exists():
            return Outcome(step, UNCHANGED, f"no {step.path}")
        if not self.dry_run:
            path.unlink()
        return self._done(step, describe(step))

    def _password(self, step: StorePassword) -> Outcome:
        database = self.target(step.database)
        if step.password is None:
            return Outcome(step, UNCHANGED, describe(step))
        if self.dry_run:
            return self._done(step, describe(step))
        database.parent.mkdir(parents=True, exist_ok=True)
        changed = store_coach_password(database, step.password)
        for path in database.parent.glob(database.name + "*"):  # the database and its -wal/-shm
            self._own(path, step.owner, step.owner)
        return Outcome(step, CHANGED if changed else UNCHANGED, describe(step) if changed else "the coach's password is already this one")

    def _command(self, step: Command) -> Outcome:
        if not step.needed and not any(key in self._changed for key in step.after):
            return Outcome(step, UNCHANGED, f"{describe(step)}  (not needed)")
        if self.dry_run:
            return Outcome(step, WOULD, describe(step))
        if self.root is not None:
            return Outcome(step, LISTED, describe(step) + "  (not run: --root)")
        self._run(step.argv)
        return Outcome(step, CHANGED, describe(step))

    def _own(self, path: Path, owner: str, group: str) -> None:
        if self.live:
            shutil.chown(path, owner, group)


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o7777


def _owner(path: Path) -> tuple[str, str]:
    import grp
    import pwd

    stat = path.stat()
    try:
        return pwd.getpwuid(stat.st_uid).pw_name, grp.getgrgid(stat.st_gid).gr_name
    except KeyError:
        return "", ""


def _run(argv: tuple[str, ...]) -> None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    except FileNotFoundError:
        raise SetupError(f"{argv[0]} is not installed here, and setup needs it for: {shlex.join(argv)}") from None
    except subprocess.TimeoutExpired:
        raise SetupError(f"{shlex.join(argv)} did not finish in 10 minutes.") from None
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()
        raise SetupError(f"{shlex.join(argv)} failed (exit {done.returncode}): {said[-1] if said else 'no message'}. Fix that and run setup again.")

