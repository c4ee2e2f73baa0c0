"""The daemon's faults on the dashboard: the live page's state and banner, the control page, the stream, 503s that say what happened."""

import sqlite3
import threading
import time

from gatectl.timing.model import Edge


def wait_for(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_a_locked_database_is_shown_on_the_live_and_control_pages_until_it_clears(client, gates, daemon, db_path):
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("begin immediate")
    gates.emit(Edge("M1", gates.now_ns(), True))
    wait_for(lambda: daemon.snapshot().faults)
    state = client.get("/api/live").get_json()
    [fault] = state["faults"]
    assert fault["kind"] == "store" and "locked by another program" in fault["message"] and "1 edges wait" in fault["message"]
    live = client.get("/").get_data(as_text=True)
    assert 'id="faults"' in live and "locked by another program" in live  # in the page's state: the banner shows it
    control = client.get("/control").get_data(as_text=True)
    assert "The daemon has a fault" in control and "1 edges wait" in control
    assert 'data-reload-on="session fault"' in control  # a fault (or its end) reloads Control; runs and the queue refresh in place
    other.execute("commit")
    other.close()
    wait_for(lambda: not daemon.snapshot().faults)
    assert client.get("/api/live").get_json()["faults"] == []
    assert "The daemon has a fault" not in client.get("/control").get_data(as_text=True)


def test_the_stream_carries_fault_events(client, daemon):
    daemon.faults.raise_fault("timing", "Timing error: a test.")
    response = client.get("/api/stream", headers={"Last-Event-ID": "0"})
    chunks, text = iter(response.response), ""
    while "event: fault" not in text:
        chunk = next(chunks)
        text += chunk.decode() if isinstance(chunk, bytes) else chunk
    response.close()
    assert '"message":"Timing error: a test."' in text


def test_a_control_the_busy_daemon_did_not_take_is_a_503_saying_nothing_changed(coach, daemon):
    release, busy = threading.Event(), threading.Event()
    threading.Thread(target=daemon.call, args=(lambda: (busy.set(), release.wait(10)), 20), daemon=True).start()
    busy.wait(5)
    daemon.call_timeout_s = 0.2
    response = coach.post("/api/armed", json={"armed": False}, headers={"X-CSRF-Token": coach.token})
    release.set()
    daemon.call_timeout_s = 10
    assert response.status_code == 503
    assert "nothing was changed" in response.get_json()["error"]
    assert daemon.snapshot().armed is True  # and it was not, after the daemon got free
