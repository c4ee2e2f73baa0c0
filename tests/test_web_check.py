"""The Check page and /api/check over a real daemon with gates the test drives; the join QR codes; gatectl check."""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import datetime, timedelta

import pytest
from helpers import app_config, free_port, set_pin

from gatectl.cli import main
from gatectl.cli.check import all_well, format_check
from gatectl.config import Network
from gatectl.store import Store
from gatectl.timing.check import FLICKER_BREAKS, STUCK_NS
from gatectl.timing.model import NS_PER_MS, NS_PER_S, Edge
from gatectl.web import create_app, listen, serve

NETWORK = Network("Track", "sprint-fast-9", "10.42.0.1")


def hand(gates, beam: str, after_s: float = 1.0) -> None:
    t = gates.now_ns() + round(after_s * NS_PER_S)
    gates.emit(Edge(beam, t, True))
    gates.emit(Edge(beam, t + 80 * NS_PER_MS, False))


def check_json(client, since=None) -> dict:
    response = client.get("/api/check" + (f"?since={since}" if since is not None else ""))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def wait_for(client, since, condition, timeout=5.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        data = check_json(client, since)
        if condition(data) or time.monotonic() > deadline:
            return data
        time.sleep(0.02)


def test_the_check_follows_the_beams_and_the_walk(client, gates):
    for beam in ("M1", "M2", "M3"):
        gates.emit(Edge(beam, gates.now_ns(), False))
    first = check_json(client)
    since = first["check"]["since_ns"]
    assert first["connected"] and first["check"]["walk"] == {"next": "M1", "done": False}
    assert first["nodes"] == [] and "No gate nodes" in first["nodes_message"]
    hand(gates, "M1")
    data = wait_for(client, since, lambda d: d["check"]["gates"][0]["ticked"])
    assert [g["ticked"] for g in data["check"]["gates"]] == [True, False, False]
    assert [g["breaks"] for g in data["check"]["gates"]] == [1, 0, 0]
    assert data["check"]["walk"]["next"] == "M2"
    hand(gates, "M2")
    hand(gates, "M3")
    data = wait_for(client, since, lambda d: d["check"]["walk"]["done"])
    assert data["check"]["walk"]["done"] and data["check"]["aligned"]
    assert check_json(client)["check"]["gates"][0]["breaks"] == 0  # a check begun now has counted nothing


def test_a_stuck_and_a_flickering_beam(client, gates):
    gates.emit(Edge("M1", gates.now_ns(), True))
    t = gates.now_ns()
    for i in range(FLICKER_BREAKS):
        gates.emit(Edge("M2", t + i * 100 * NS_PER_MS, True))
        gates.emit(Edge("M2", t + i * 100 * NS_PER_MS + 2 * NS_PER_MS, False))
    gates.set_now(t + STUCK_NS)
    data = wait_for(client, 0, lambda d: d["check"]["gates"][1]["flickering"])
    m1, m2, m3 = data["check"]["gates"]
    assert m1["state"] == "stuck" and m2["flickering"] and m3["state"] == "unknown"
    assert not data["check"]["aligned"] and not all_well(data)
    table = format_check(data, "http://127.0.0.1:8000")
    assert "STUCK" in table and "FLICKERS" in table and "no signal" in table


def test_since_must_be_a_whole_number(client):
    response = client.get("/api/check?since=soon")
    assert response.status_code == 400 and "since must be a whole number" in response.get_json()["error"]


def test_without_gates_the_check_says_so(history_app):
    data = history_app.test_client().get("/api/check").get_json()
    assert data["connected"] is False and data["check"] is None and "no gates" in data["message"]
    page = history_app.test_client().get("/check").get_data(as_text=True)
    assert "no gates connected" in page


def test_the_date_is_wrong_before_the_newest_session(client, db_path, app):
    with Store(db_path, migrate=False) as store:
        store.start_session(store.layout(1), started_at=datetime.now().astimezone() + timedelta(days=400))
    clock = check_json(client)["clock"]
    assert clock["ok"] is False and "before the newest session stored" in clock["reason"]
    assert clock["fix_url"] == "/control#clock"


def test_the_date_is_right_otherwise(client):
    data = check_json(client)
    assert data["clock"]["ok"] is True and data["clock"]["reason"] is None
    assert data["disk"]["free_gb"] > 0


def test_the_check_page(client):
    html = client.get("/check").get_data(as_text=True)
    assert "Pass a hand through each gate" in html and 'id="beams"' in html and "check.js" in html
    state = json.loads(re.search(r'<script id="check-state" type="application/json">(.*?)</script>', html, re.S).group(1))
    assert [g["gate"] for g in state["check"]["gates"]] == ["M1", "M2", "M3"]
    assert 'href="/check" aria-current="page"' in html


def test_the_check_page_gives_the_sessions_sync_bound(client, db_path, history_app):
    """The note under the gate nodes says the bound the session's runs are flagged above (``[sync] limit_ms``)."""
    assert '<strong id="sync-limit">5 ms</strong>' in client.get("/check").get_data(as_text=True)  # the default
    with Store(db_path, migrate=False) as store:
        store.db.execute("update sessions set sync_limit_ns = 1500000")
        store.db.conn.commit()
    assert '<strong id="sync-limit">1.5 ms</strong>' in client.get("/check").get_data(as_text=True)
    assert '<strong id="sync-limit">5 ms</strong>' in history_app.test_client().get("/check").get_data(as_text=True)  # no gates


# The Pi's Wi-Fi as QR codes -----------------------------------------------------------


def test_the_live_and_check_pages_show_the_join_codes(db_path, daemon):
    set_pin(db_path)
    app = create_app(app_config(), db_path=db_path, daemon=daemon, network=NETWORK, port=8080)
    for url in ("/", "/check"):
        html = app.test_client().get(url).get_data(as_text=True)
        assert html.count('<svg viewBox="0 0') >= 2 and 'class="qr"' in html, url
        assert "http://10.42.0.1:8080/" in html and "sprint-fast-9" in html
        assert "http://www" not in html and "https://" not in html  # nothing fetched from elsewhere


def test_no_codes_without_a_network(client):
    assert 'class="qr"' not in client.get("/").get_data(as_text=True)


def test_the_wifi_code_says_what_a_phone_needs():
    import segno.helpers

    from gatectl.web.join import join_codes

    codes = join_codes(NETWORK, 8000)
    assert codes["url"] == "http://10.42.0.1:8000/"
    assert segno.helpers.make_wifi_data(ssid="Track", password="sprint-fast-9", security="WPA") == "WIFI:T:WPA;S:Track;P:sprint-fast-9;;"
    assert codes["wifi_svg"].startswith("<svg") and codes["url_svg"].startswith("<svg")


# gatectl check, against a served dashboard ---------------------------------------------------


@pytest.fixture
def served(app):
    port = free_port()
    thread = threading.Thread(target=serve, args=(app, listen("127.0.0.1", port)), kwargs={"threads": 4}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    import urllib.request

    while True:
        try:
            urllib.request.urlopen(base + "/api/check", timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    return base


def test_gatectl_check_prints_every_gate(served, gates, capsys):
    for beam in ("M1", "M2", "M3"):
        gates.emit(Edge(beam, gates.now_ns(), False))
    assert main(["check", "--url", served, "--once"]) == 1  # no gate has seen a hand yet
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.startswith("M")]
    assert [r[:3] for r in rows] == [["M1", "M1", "clear"], ["M2", "M2", "clear"], ["M3", "M3", "clear"]]
    assert "Pass a hand through M1." in out and "nodes: No gate nodes" in out and "disk:" in out and "date:" in out


def test_gatectl_check_says_when_no_service_runs(capsys, tmp_path):
    assert main(["check", "--url", "http://127.0.0.1:9", "--once"]) == 2
    err = capsys.readouterr().err
    assert "No gatectl service answers at http://127.0.0.1:9/" in err and "sudo systemctl start gatectl" in err
    config = tmp_path / "gatectl.toml"
    config.write_text('[[gates]]\nname = "A"\nposition_m = 0\n[[gates]]\nname = "B"\nposition_m = 10\n[source]\nkind = "sim"\n'
                      '[database]\npath = "x.db"\n[web]\nport = 9\n')  # fmt: skip
    assert main(["check", "--config", str(config), "--once"]) == 2
    assert "http://127.0.0.1:9/" in capsys.readouterr().err


def test_format_without_gates():
    text = format_check({"connected": False, "message": "History only — no gates connected."}, "http://pi:8000")
    assert "no gates connected" in text and "sudo systemctl start gatectl" in text

