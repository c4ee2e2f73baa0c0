"""The real server's bounds: request bodies refused before they are stored, stream slots freed and shared."""

import socket
import threading
import time

import pytest

from gatectl.daemon.events import EventBus
from gatectl.web import MAX_BODY_BYTES, make_server
from gatectl.web.link import LiveLink
from gatectl.web.stream import event_stream


@pytest.fixture
def server(app):
    app.config["SSE_HEARTBEAT_S"] = 60.0  # no heartbeat will notice a closed tab for us
    srv = make_server(app, "127.0.0.1", 0, threads=8)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    yield srv
    srv.close()
    thread.join(timeout=5)


def _connect(server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.effective_port), timeout=5)
    return sock


def _read_until(sock: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def test_a_250_mb_anonymous_post_is_refused_before_its_body_is_read(server):
    sock = _connect(server)
    sock.sendall(b"POST /api/athletes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 250000000\r\n\r\n" + b"x" * 1000)  # fmt: skip
    started = time.perf_counter()
    answer = _read_until(sock, b"\r\n\r\n")
    sock.close()
    assert answer.startswith(b"HTTP/1.1 413")  # answered after the headers: nothing was written to disk
    assert time.perf_counter() - started < 2


def test_serve_refuses_big_bodies_at_the_server(monkeypatch, history_app):
    import waitress

    from gatectl.web import serve

    seen = {}
    monkeypatch.setattr(waitress, "serve", lambda app, **kw: seen.update(kw))
    serve(history_app)
    assert seen["max_request_body_size"] == MAX_BODY_BYTES == history_app.config["MAX_CONTENT_LENGTH"] <= 256 * 1024
    assert seen["channel_request_lookahead"] >= 1  # what lets a stream see its client leave


def test_a_body_just_under_the_limit_reaches_the_app(server):
    sock = _connect(server)
    body = b"{}" + b" " * (MAX_BODY_BYTES - 10)
    sock.sendall(b"POST /api/armed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)  # fmt: skip
    answer = _read_until(sock, b"}")
    sock.close()
    assert answer.startswith(b"HTTP/1.1 400") and b"security token" in answer  # the app's own answer


def test_a_closed_tab_frees_its_stream_slot_at_once(server, app):
    link = app.extensions["gatectl"]
    sock = _connect(server)
    sock.sendall(b"GET /api/stream HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
    assert b"event: hello" in _read_until(sock, b"event: hello")
    assert link.streams == 1
    sock.close()
    deadline = time.monotonic() + 3
    while link.streams and time.monotonic() < deadline:
        time.sleep(0.05)
    assert link.streams == 0  # not at the next heartbeat, a minute later


def test_one_address_cannot_take_every_stream_slot():
    link = LiveLink(None, max_streams=80, max_per_address=8)
    assert all(link.open_stream("10.0.0.9") for _ in range(8))
    assert not link.open_stream("10.0.0.9")
    assert link.open_stream("10.0.0.2")  # every other viewer still gets in
    link.close_stream("10.0.0.9")
    assert link.open_stream("10.0.0.9") and link.streams == 9


def test_stream_slots_per_address_over_http(app):
    app.config["SSE_HEARTBEAT_S"] = 60.0
    app.extensions["gatectl"] = LiveLink(app.extensions["gatectl"].daemon, max_streams=80, max_per_address=2)
    crowd = app.test_client()
    crowd.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    open_ = [crowd.get("/api/stream", buffered=False) for _ in range(2)]
    assert [r.status_code for r in open_] == [200, 200]
    refused = crowd.get("/api/stream")
    assert refused.status_code == 503 and "too many from this device" in refused.get_json()["error"]
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.0.0.2"
    response = other.get("/api/stream", buffered=False)
    assert response.status_code == 200
    for r in [*open_, response]:
        r.close()
    assert app.extensions["gatectl"].streams == 0


def test_stream_ends_when_the_client_is_gone_between_heartbeats():
    bus = EventBus()
    gone = threading.Event()
    stream = event_stream(bus, last_id=None, boot="b", heartbeat_s=60, disconnected=gone.is_set)
    next(stream)  # hello
    gone.set()
    started = time.perf_counter()
    with pytest.raises(StopIteration):
        next(stream)
    assert time.perf_counter() - started < 2
