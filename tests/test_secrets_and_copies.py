"""Secrets and copies: the cookie key outside the database, backups without secrets."""

import shutil
import sqlite3
import stat

from flask.sessions import SecureCookieSessionInterface
from helpers import set_pin

from gatectl.cli import main
from gatectl.store import PASSWORD_SETTING, Store
from gatectl.web import create_app
from gatectl.web.auth import SECRET_FILE, SECRET_SETTING, _fingerprint


def gatectl(*argv) -> int:
    try:
        return main([str(a) for a in argv])
    except SystemExit as exc:
        return exc.code


def _settings(path) -> dict:
    with sqlite3.connect(path) as conn:
        return dict(conn.execute("select key, value from settings"))


# The cookie key ------------------------------------------------------------------------------------


def test_the_cookie_key_lives_in_a_0600_file_beside_the_database_not_in_it(db_path):
    app = create_app({"TESTING": True}, db_path=db_path)
    key_file = db_path.parent / SECRET_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert app.secret_key == key_file.read_text().strip() and len(app.secret_key) >= 32
    assert SECRET_SETTING not in _settings(db_path)
    assert create_app({"TESTING": True}, db_path=db_path).secret_key == app.secret_key  # logins survive restarts


def test_a_key_kept_in_the_database_moves_out_and_logins_survive(db_path):
    with Store(db_path) as store:
        store.set_setting(SECRET_SETTING, "k" * 64)  # as gatectl kept it before
    app = create_app({"TESTING": True}, db_path=db_path)
    assert app.secret_key == "k" * 64
    assert SECRET_SETTING not in _settings(db_path)
    assert (db_path.parent / SECRET_FILE).read_text().strip() == "k" * 64


def test_a_copy_of_the_database_forges_no_coach_cookie(db_path, daemon):
    set_pin(db_path)
    live = create_app({"TESTING": True}, db_path=db_path, daemon=daemon)
    copy = db_path.parent / "copy.db"
    with sqlite3.connect(db_path) as source, sqlite3.connect(copy) as target:
        source.backup(target)  # the whole database, hash included, as a thief would take it
    stolen = _settings(copy)
    assert SECRET_SETTING not in stolen  # nothing in the copy signs a cookie
    guessed = create_app({"TESTING": True, "SECRET_KEY": "from the copy"}, db_path=copy)
    forged = SecureCookieSessionInterface().get_signing_serializer(guessed).dumps({"coach": _fingerprint(stolen[PASSWORD_SETTING])})
    client = live.test_client()
    client.set_cookie("gatectl_session", forged)
    response = client.post("/api/armed", json={"armed": False}, headers={"X-CSRF-Token": "x"})
    assert response.status_code in (400, 401)
    assert daemon.snapshot().armed is True


# Backups -----------------------------------------------------------------------------------------------


def test_backup_copies_what_is_still_in_the_wal_and_leaves_secrets_out(tmp_path, capsys):
    db = tmp_path / "live.db"
    writer = Store(db)  # the daemon: its connection stays open, so its writes sit in the WAL
    writer.set_setting(PASSWORD_SETTING, "scrypt:1024:8:1$salt$secret-hash-bytes")
    writer.set_setting(SECRET_SETTING, "legacy-cookie-key-" * 3)
    writer.add_athlete("Ana Silva")
    assert (tmp_path / "live.db-wal").stat().st_size > 0
    shutil.copy(db, tmp_path / "naive.db")  # what "scp gatectl.db" did
    with sqlite3.connect(tmp_path / "naive.db") as naive:
        try:
            naive_names = naive.execute("select name from athletes").fetchall()
        except sqlite3.OperationalError:  # even the tables are still in the WAL
            naive_names = []
    assert naive_names == []  # the athlete is missing from a plain copy

    assert gatectl("backup", "--db", db, "--out", tmp_path / "copy.db") == 0
    writer.close()
    copy = tmp_path / "copy.db"
    with sqlite3.connect(copy) as conn:
        assert conn.execute("select name from athletes").fetchall() == [("Ana Silva",)]
        assert conn.execute("pragma integrity_check").fetchone() == ("ok",)
        assert conn.execute("pragma journal_mode").fetchone() == ("delete",)
    assert PASSWORD_SETTING not in _settings(copy) and SECRET_SETTING not in _settings(copy)
    raw = copy.read_bytes()
    assert b"secret-hash-bytes" not in raw and b"legacy-cookie-key" not in raw  # not even in a free page
    assert [p.name for p in tmp_path.glob("copy.db*")] == ["copy.db"]  # one file, no -wal, no .partial
    with Store(copy, read_only=True) as store:
        assert [a["name"] for a in store.athletes()] == ["Ana Silva"]


def test_backup_refuses_to_overwrite_and_needs_a_database(tmp_path, capsys):
    (tmp_path / "there.db").write_text("keep me")
    Store(tmp_path / "g.db").close()
    assert gatectl("backup", "--db", tmp_path / "g.db", "--out", tmp_path / "there.db") == 2
    assert "already exists" in capsys.readouterr().err and (tmp_path / "there.db").read_text() == "keep me"
    assert gatectl("backup", "--db", tmp_path / "missing.db", "--out", tmp_path / "c.db") == 2
    assert "There is no database" in capsys.readouterr().err


def test_web_help_suggests_backup_not_copying_the_file(capsys):
    assert gatectl("web", "--help") == 0
    text = capsys.readouterr().out
    assert "gatectl backup --db /var/lib/gatectl/gatectl.db --out" in text
    assert "scp pi@gatectl.local:/var/lib/gatectl/gatectl.db" not in text
