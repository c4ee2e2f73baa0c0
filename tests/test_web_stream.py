"""The live event stream: SSE formatting, resume with Last-Event-ID, heartbeats."""

import json

from helpers import run_once

from gatectl.daemon.events import EventBus
from gatectl.web.stream import event_stream, format_event, parse_last_id


def messages(chunks):
    """Parse SSE text into a list of {field: value} dicts (comments under ':')."""
    out = []
    text = "".join(c.decode() if isinstance(c, bytes) else c for c in chunks)
    for block in text.split("\n\n"):
        if not block:
            continue
        message = {}
        for line in block.split("\n"):
            field, _, value = line.partition(": ") if not line.startswith(":") else (":", "", line[2:])
            message[field] = value if field != "data" else json.loads(value)
        out.append(message)
    return out


def take(stream, n):
    return [next(stream) for _ in range(n)]


def test_format_event_has_id_event_and_data():
    assert format_event(7, "run", '{"id":3}') == 'id: 7\nevent: run\ndata: {"id":3}\n\n'


def test_stream_opens_with_retry_and_hello():
    bus = EventBus()
    bus.publish("gate", {"gate": "M1"})
    stream = event_stream(bus, last_id=None, boot="b1", heartbeat_s=0.01)
    first = next(stream)
    assert first.startswith("retry: 2000\n")
    hello = messages([first])[0]
    assert hello["event"] == "hello" and hello["id"] == "1"
    assert hello["data"] == {"boot": "b1", "resume": 1, "latest": 1, "heartbeat_s": 0.01}
    stream.close()


def test_events_carry_their_bus_id_and_json_data():
    bus = EventBus()
    stream = event_stream(bus, last_id=None, boot="b", heartbeat_s=5)
    next(stream)  # hello; the subscription exists from here
    bus.publish("run", {"id": 4, "fly": {"time_s": 3.1}})
    bus.publish("crossing", {"gate": "M2", "t_ns": 5})
    run, crossing = messages(take(stream, 2))
    assert run == {"id": "1", "event": "run", "data": {"id": 4, "fly": {"time_s": 3.1}}}
    assert crossing["id"] == "2" and crossing["event"] == "crossing"
    stream.close()


def test_heartbeat_is_a_comment_with_a_ping_that_keeps_the_id():
    bus = EventBus()
    bus.publish("gate", {})
    stream = event_stream(bus, last_id=None, boot="b", heartbeat_s=0.01)
    next(stream)
    beat = next(stream)
    assert beat.startswith(": heartbeat\n")
    ping = messages([beat])[0]
    assert ping[":"] == "heartbeat" and ping["event"] == "ping" and ping["id"] == "1"
    stream.close()


def test_last_event_id_replays_what_was_missed():
    bus = EventBus()
    for n in range(5):
        bus.publish("crossing", {"n": n})
    stream = event_stream(bus, last_id=3, boot="b", heartbeat_s=5)
    hello, fourth, fifth = messages(take(stream, 3))
    assert hello["id"] == "3" and hello["data"]["resume"] == 3 and hello["data"]["latest"] == 5
    assert (fourth["id"], fourth["data"]) == ("4", {"n": 3})
    assert (fifth["id"], fifth["data"]) == ("5", {"n": 4})
    stream.close()


def test_a_gap_the_bus_cannot_replay_sends_reset_first():
    bus = EventBus(history=2)
    for n in range(6):
        bus.publish("crossing", {"n": n})
    stream = event_stream(bus, last_id=1, boot="b", heartbeat_s=5)
    _, reset, event = messages(take(stream, 3))
    assert reset["event"] == "reset" and reset["data"] == {"expected": 2, "got": 5}
    assert event["id"] == "5"
    stream.close()


def test_ids_from_before_a_restart_send_reset():
    bus = EventBus()  # a new server: ids start again at 1
    stream = event_stream(bus, last_id=900, boot="new", heartbeat_s=5)
    next(stream)
    bus.publish("run", {"id": 1})
    reset, run = messages(take(stream, 2))
    assert reset["event"] == "reset" and run["id"] == "1"
    stream.close()


def test_closing_the_stream_unsubscribes_and_reports():
    bus = EventBus()
    closed = []
    stream = event_stream(bus, last_id=None, boot="b", heartbeat_s=5, on_close=lambda: closed.append(True))
    next(stream)
    assert bus.subscriber_count == 1
    stream.close()  # what waitress does when the client went away
    assert bus.subscriber_count == 0 and closed == [True]


def test_a_subscriber_too_slow_to_keep_up_is_ended():
    bus = EventBus(subscriber_queue=2)
    stream = event_stream(bus, last_id=None, boot="b", heartbeat_s=0.01)
    next(stream)
    for n in range(5):
        bus.publish("gate", {"n": n})
    rest = list(stream)  # two queued events, then the end: the browser reconnects and catches up
    assert len(messages(rest)) == 2


def test_parse_last_id_prefers_the_header():
    assert parse_last_id("12", "3") == 12
    assert parse_last_id(None, "3") == 3
    assert parse_last_id("x", None) is None
    assert parse_last_id(" 8 ", None) == 8
    assert parse_last_id(None, "-1") is None


# The route -------------------------------------------------------------------------------


def test_stream_route_is_an_event_stream(client, daemon):
    daemon.bus.publish("gate", {"gate": "M1"})
    response = client.get("/api/stream", headers={"Last-Event-ID": "0"})
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"].startswith("no-cache")
    chunks = iter(response.response)
    parsed = messages([next(chunks) for _ in range(2)])
    assert parsed[0]["event"] == "hello"
    assert any(m.get("event") in ("gate", "session") for m in parsed[1:])
    response.close()
    assert client.application.extensions["gatectl"].streams == 0


def test_a_viewer_that_leaves_before_the_first_event_is_counted_out(client, daemon):
    response = client.get("/api/stream")
    assert client.application.extensions["gatectl"].streams == 1
    response.close()  # nothing was read: the generator never started
    assert client.application.extensions["gatectl"].streams == 0
    assert daemon.bus.subscriber_count == 0


def test_stream_route_resumes_from_since(client, daemon):
    position = daemon.bus.last_id
    daemon.bus.publish("armed", {"armed": False})
    response = client.get(f"/api/stream?since={position}")
    chunks = iter(response.response)
    hello, armed = messages([next(chunks), next(chunks)])
    assert hello["id"] == str(position)
    assert armed["event"] == "armed" and armed["data"] == {"armed": False}
    response.close()


def test_stream_without_gates_tells_the_browser_to_stop(history_app):
    response = history_app.test_client().get("/api/stream")
    assert response.status_code == 204


def test_too_many_streams_are_refused_with_a_sentence(db_path, daemon):
    from gatectl.web import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "t", "MAX_STREAMS": 0}, db_path=db_path, daemon=daemon)
    response = app.test_client().get("/api/stream")
    assert response.status_code == 503
    assert "Too many live viewers" in response.get_json()["error"]


def test_a_run_reaches_the_stream(client, gates, daemon):
    response = client.get(f"/api/stream?since={daemon.bus.last_id}")
    chunks = iter(response.response)
    next(chunks)
    run = run_once(gates, daemon)
    for _ in range(50):
        message = messages([next(chunks)])[0]
        if message.get("event") == "run":
            break
    response.close()
    assert message["data"]["id"] == run["id"]
    assert message["data"]["fly"]["time_s"] == run["fly"]["time_s"]
    assert {"id", "athlete", "session", "segments", "vs_pace", "status"} <= set(message["data"])
