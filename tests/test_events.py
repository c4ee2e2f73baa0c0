import threading
import time

from gatectl.daemon.events import EventBus


def test_ids_increase_from_one():
    bus = EventBus()
    ids = [bus.publish("gate", {"n": n}).id for n in range(3)]
    assert ids == [1, 2, 3]


def test_last_id_is_the_newest_id():
    bus = EventBus()
    assert bus.last_id == 0
    bus.publish("gate", {})
    bus.publish("queue", {})
    assert bus.last_id == 2


def test_subscriber_gets_events_in_order():
    bus = EventBus()
    sub = bus.subscribe()
    bus.publish("crossing", {"gate": "M1"})
    bus.publish("run", {"id": 1})
    got = [sub.get(timeout=0), sub.get(timeout=0)]
    assert [(e.id, e.kind, e.data) for e in got] == [(1, "crossing", {"gate": "M1"}), (2, "run", {"id": 1})]
    assert sub.get(timeout=0) is None


def test_subscribe_without_last_id_gets_only_new_events():
    bus = EventBus()
    bus.publish("gate", {})
    sub = bus.subscribe()
    assert sub.get(timeout=0) is None
    bus.publish("run", {})
    assert sub.get(timeout=0).id == 2


def test_subscribe_with_last_id_replays_what_was_missed():
    # A browser reconnecting with Last-Event-ID: 2 gets 3 and 4, then live events.
    bus = EventBus()
    for n in range(4):
        bus.publish("gate", {"n": n})
    sub = bus.subscribe(last_id=2)
    bus.publish("run", {})
    assert [sub.get(timeout=0).id for _ in range(3)] == [3, 4, 5]
    assert sub.get(timeout=0) is None


def test_resume_from_the_latest_id_replays_nothing():
    bus = EventBus()
    last = bus.publish("gate", {}).id
    sub = bus.subscribe(last_id=last)
    assert sub.get(timeout=0) is None


def test_replay_is_limited_to_the_history_kept():
    bus = EventBus(history=3)
    for n in range(10):
        bus.publish("gate", {"n": n})
    sub = bus.subscribe(last_id=0)
    assert [sub.get(timeout=0).id for _ in range(3)] == [8, 9, 10]  # the gap tells the client to reload


def test_slow_subscriber_is_dropped_without_blocking_publish():
    bus = EventBus(subscriber_queue=2)
    slow, fast = bus.subscribe(), bus.subscribe()
    done = threading.Event()

    def publish_many():
        for n in range(10):
            bus.publish("gate", {"n": n})
            fast.get(timeout=1)
        done.set()

    threading.Thread(target=publish_many, daemon=True).start()
    assert done.wait(timeout=2), "publish blocked on a slow subscriber"
    assert slow.dropped and not fast.dropped
    assert bus.subscriber_count == 1


def test_dropped_subscriber_drains_then_gets_none_at_once():
    bus = EventBus(subscriber_queue=2)
    sub = bus.subscribe()
    for n in range(3):
        bus.publish("gate", {"n": n})
    assert sub.dropped
    assert [sub.get(timeout=0).id for _ in range(2)] == [1, 2]
    # Nothing more will come: no waiting out the timeout (nor forever without one).
    started = time.monotonic()
    assert sub.get(timeout=1) is None
    assert time.monotonic() - started < 0.5


def test_resume_with_more_missed_than_a_queue_holds_does_not_deadlock():
    bus = EventBus(history=50, subscriber_queue=10)
    for n in range(30):
        bus.publish("gate", {"n": n})
    result = []
    thread = threading.Thread(target=lambda: result.append(bus.subscribe(last_id=0)), daemon=True)
    thread.start()
    thread.join(timeout=2)
    assert not thread.is_alive(), "subscribe deadlocked"
    sub = result[0]
    # It gets what fits and is dropped; resuming from the last id it saw gets the rest.
    got = [e.id for e in iter(lambda: sub.get(timeout=0), None)]
    assert got == list(range(1, 11)) and sub.dropped
    assert bus.publish("gate", {}).id == 31  # the bus still works
    again = bus.subscribe(last_id=got[-1])
    assert [e.id for e in iter(lambda: again.get(timeout=0), None)] == list(range(11, 21))


def test_latest_by_kind():
    bus = EventBus()
    assert bus.latest("run") is None
    bus.publish("run", {"id": 1})
    bus.publish("gate", {"gate": "M1"})
    bus.publish("run", {"id": 2})
    assert bus.latest("run").data == {"id": 2}
    assert bus.latest("gate").id == 2
    assert bus.latest("session") is None


def test_unsubscribe_stops_delivery():
    bus = EventBus()
    sub = bus.subscribe()
    assert bus.subscriber_count == 1
    bus.unsubscribe(sub)
    bus.publish("run", {})
    assert sub.get(timeout=0) is None
    assert bus.subscriber_count == 0
    bus.unsubscribe(sub)  # twice is fine


def test_close_unsubscribes():
    bus = EventBus()
    sub = bus.subscribe()
    sub.close()
    assert bus.subscriber_count == 0


def test_get_waits_for_an_event_from_another_thread():
    bus = EventBus()
    sub = bus.subscribe()
    timer = threading.Timer(0.02, bus.publish, args=("run", {"id": 7}))
    timer.start()
    event = sub.get(timeout=2)
    timer.join()
    assert event.data == {"id": 7}
