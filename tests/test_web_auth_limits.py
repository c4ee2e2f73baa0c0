"""The coach's password under load: Pi-sized hashes, and a limiter that holds when 90 guesses arrive at once."""

import base64
import threading
import time

from helpers import PIN
from werkzeug.security import generate_password_hash

import gatectl.web.auth as auth
from gatectl.coach_password import MAX_CHECK_MEMORY, check_coach_password, check_memory, set_coach_password
from gatectl.store import PASSWORD_SETTING, Store


def basic(password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"coach:{password}".encode()).decode()}


def test_ninety_wrong_pins_at_once_get_ten_checks_and_two_at_a_time(app, monkeypatch):
    checks, running, most = [], [0], [0]
    lock = threading.Lock()

    def slow_check(store, password):
        with lock:
            checks.append(password)
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.02)  # a hash takes time: the burst overlaps it
        with lock:
            running[0] -= 1
        return False

    monkeypatch.setattr(auth, "check_coach_password", slow_check)
    statuses = []
    start = threading.Barrier(90)

    def guess(n: int) -> None:
        client = app.test_client()
        start.wait()
        statuses.append(client.post("/api/armed", json={"armed": False}, headers=basic(f"{n:04d}")).status_code)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(90)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(checks) == app.config["LOGIN_ATTEMPTS"] == 10
    assert most[0] <= auth.CONCURRENT_CHECKS == 2
    assert sorted(set(statuses)) == [401, 429] and statuses.count(401) == 10


def test_the_stored_hash_costs_a_few_mib_at_most(tmp_path):
    with Store(tmp_path / "p.db") as store:
        set_coach_password(store, "1357")
        stored = store.setting(PASSWORD_SETTING)
    assert stored.startswith("scrypt:1024:8:1$")
    assert check_memory(stored) == 1024 * 1024 <= MAX_CHECK_MEMORY
    assert check_memory(generate_password_hash("1357")) == 32 * 1024 * 1024  # werkzeug's default


def test_an_old_32_mib_hash_still_verifies_and_is_replaced_at_the_next_good_login(app, db_path):
    with Store(db_path, migrate=False) as store:
        store.set_setting(PASSWORD_SETTING, generate_password_hash(PIN))  # as gatectl stored it before
    c = app.test_client()
    assert c.post("/api/armed", json={"armed": False}, headers=basic("0000")).status_code == 401
    with Store(db_path, migrate=False) as store:
        assert check_memory(store.setting(PASSWORD_SETTING)) == 32 * 1024 * 1024  # a wrong PIN changes nothing
    assert c.post("/api/armed", json={"armed": False}, headers=basic(PIN)).status_code == 200
    with Store(db_path, migrate=False) as store:
        stored = store.setting(PASSWORD_SETTING)
        assert stored.startswith("scrypt:1024:8:1$") and check_coach_password(store, PIN)
