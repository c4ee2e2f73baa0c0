"""``gatectl run`` and ``gatectl demo``: the daemon and the dashboard in one process."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from ..config import Config, load_config
from ..daemon import Daemon
from ..events import EventBus
from ..model import NS_PER_S, Layout
from ..sim import SimOptions
from ..sources.sim import ROSTER, SimSource
from ..store import Store
from ..trace import read_trace
from ._common import add_db_option, db_path, open_text

DEMO_PIN = "1234"

RUN_EXAMPLE = """example:
  gatectl run --config /etc/gatectl/gatectl.toml
The config names the gates and their pins (or a simulator or a trace), the
detection method, the database and where the dashboard listens; see
gatectl/config.py or the README for a full example.
"""

DEMO_EXAMPLE = """example:
  gatectl demo                 # dashboard on http://127.0.0.1:8000
  gatectl demo --port 8080 --db /tmp/demo.db
Simulated athletes run flying 30s (30 m build-up, 30 m fly) every 15 s or so.
"""


def register(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser(
        "run",
        help="time real gates (or a configured simulator) and serve the dashboard",
        description="Start the timing daemon and the dashboard from a config file (TOML).",
        epilog=RUN_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("--config", required=True, type=Path, help="the config file (TOML)")
    run.set_defaults(run=run_command)

    demo = commands.add_parser(
        "demo",
        help="simulated gates, a database and the dashboard: try gatectl without hardware",
        description="Run simulated athletes through flying-30 gates in real time and serve the dashboard.",
        epilog=DEMO_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument("--port", type=int, default=8000, help="dashboard port (default 8000)")
    demo.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 for phones on the same Wi-Fi)")
    demo.add_argument("--seed", type=int, default=None, help="simulator seed (default: different every time)")
    add_db_option(demo, "demo.db")
    demo.set_defaults(run=demo_command)


def run_command(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    source = _source(config)
    daemon = Daemon(source, lambda: Store(config.database), config.layout, place=config.place)
    return _serve(daemon, config.database, config.host, config.port, intro=[f"gates: {config.source}, layout {config.layout.describe()} ({config.layout.method})"])


def demo_command(args: argparse.Namespace) -> int:
    path = db_path(args, "demo.db")
    layout = Layout.flying(30, 30)
    store = Store(path)
    athlete_ids = {}
    for athlete in ROSTER:
        found = store.find_athlete(athlete.name)
        athlete_ids[athlete.name] = found["id"] if found else store.add_athlete(athlete.name, notes="simulated demo athlete")
        if not store.paces(athlete_ids[athlete.name]):
            # 400 m best of a sprinter with this top speed, roughly: 400 m at 79 % of it.
            store.set_race_time(athlete_ids[athlete.name], 400, round(400 * NS_PER_S / (athlete.vmax_mps * 0.79)))
            store.set_race_time(athlete_ids[athlete.name], 800, round(800 * NS_PER_S / (athlete.vmax_mps * 0.66)))
    _set_demo_pin(store)
    store.close()

    daemon: Daemon | None = None

    def queue_athlete(rep) -> None:  # the sim says who runs next; a coach would tap the name
        if daemon is not None:
            daemon.call(lambda: daemon.athlete_queue.append(athlete_ids[rep.athlete.name]))

    source = SimSource(layout, seed=args.seed if args.seed is not None else _fresh_seed(), options=SimOptions(limbs=True), on_rep=queue_athlete)
    daemon = Daemon(source, lambda: Store(path), layout, place="Demo track")
    return _serve(daemon, path, args.host, args.port, intro=[
        "simulated athletes run flying 30s (M1=0, M2=30, M3=60, torso detection); a new rep every ~15 s",
        f"coach PIN: {DEMO_PIN}",
    ])


def _fresh_seed() -> int:
    import secrets

    return secrets.randbelow(2**31)


def _set_demo_pin(store: Store) -> None:
    from web.auth import has_coach_password, set_coach_password

    if not has_coach_password(store):
        set_coach_password(store, DEMO_PIN)


def _source(config: Config):
    if config.source == "sim":
        return SimSource(config.layout, seed=config.sim_seed, options=SimOptions(limbs=config.sim_limbs))
    if config.source == "replay":
        from ..sources.replay import ReplaySource

        with open_text(str(config.trace)) as lines:
            edges = read_trace(lines, beams=set(config.layout.beams))
        return ReplaySource(edges, speed=config.replay_speed)
    from ..sources.gpio import GpioSource

    return GpioSource(config.wiring)


def _serve(daemon: Daemon, path: Path, host: str, port: int, intro: list[str]) -> int:
    from web import create_app, serve

    def terminate(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, terminate)
    daemon.start()
    printer = threading.Thread(target=_print_runs, args=(daemon.bus,), daemon=True)
    printer.start()
    url_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    print(f"gatectl: dashboard on http://{url_host}:{port}/  (Ctrl-C to stop)")
    for line in intro:
        print(f"gatectl: {line}")
    print(f"gatectl: database {path}, session {daemon.session_id}", flush=True)
    try:
        serve(create_app(db_path=path, daemon=daemon), host=host, port=port)
    except KeyboardInterrupt:
        pass
    finally:
        daemon.stop()
        with Store(path, migrate=False) as store:
            edges = store.edge_count(daemon.session_id)
        print(f"gatectl: stopped; {edges} edges of session {daemon.session_id} are in {path}", flush=True)
    return 0


def _print_runs(bus: EventBus) -> None:
    sub = bus.subscribe()
    while True:
        event = sub.get()
        if event is None:
            return
        if event.kind == "run":
            print(format_run(event.data), flush=True)


def format_run(run: dict) -> str:
    who = run.get("athlete") or "unassigned"
    fly = run.get("fly")
    if run["status"] != "complete" or not fly:
        return f"run {run['number']:>3}  {run['status']:<10}  {who:<12}  {run['reason']}"
    pace = run["vs_pace"].get("400m")
    vs = f"  {pace['percent']:.0f}% of 400 m pace" if pace else ""
    return (
        f"run {run['number']:>3}  complete    {who:<12}  fly {fly['distance_m']:g} m {fly['time_s']:.3f} s  "
        f"{fly['velocity_mps']:.2f} m/s  {fly['kmh']:.1f} km/h{vs}"
    )
