"""``gatectl run`` and ``gatectl demo``: the daemon and the dashboard in one process."""

from __future__ import annotations

import argparse
import signal
import socket
import threading
from collections.abc import Callable
from pathlib import Path

from gatectl.cli._common import DEMO_DB, add_db_option, db_path, open_text
from gatectl.coach_password import has_coach_password, set_coach_password
from gatectl.coaching.group_laps import parse_waves
from gatectl.coaching.laps import StartKind, Track
from gatectl.coaching.library import LIBRARY, WorkoutKind
from gatectl.coaching.paces import format_duration_ns
from gatectl.config import Config, Network, load_config
from gatectl.daemon.daemon import Daemon
from gatectl.daemon.events import EventBus
from gatectl.daemon.workout import WorkoutPlan, group
from gatectl.demo import DemoClub, enrol
from gatectl.errors import GatectlError, WorkoutError
from gatectl.limits import PORT, SEED, argument, read_integer
from gatectl.sim.nodegates import SimNodeGates
from gatectl.sim.source import ROSTER, SimSource
from gatectl.sim.sprinters import SimOptions
from gatectl.store import Store
from gatectl.timing.model import Layout
from gatectl.timing.results import RunView
from gatectl.timing.trace import read_trace

DEMO_PIN = "1234"

RUN_EXAMPLE = """example:
  gatectl run --config /etc/gatectl/gatectl.toml
The config names the gates and their pins (or a simulator or a trace), the
detection method, the database and where the dashboard listens; see
gatectl/config.py or the README for a full example.
"""

DEMO_EXAMPLE = """examples:
  gatectl demo                 # dashboard on http://127.0.0.1:8000
  gatectl demo --port 8080 --db /tmp/demo.db
  gatectl demo --workout "3 x 3 x 30m. 3:00 Rec between reps. 6:00 Rec between sets." --fast-rests 6
  gatectl demo --track --fast-rests 4   # 12 x 400m @ 3K pace on one gate
  gatectl demo --nodes         # each gate a simulated gate node on a pseudo-terminal
  gatectl demo --track --group "waves 3 s apart" --fast-rests 4   # the group runs each rep at once
Simulated athletes run flying 30s (30 m build-up, 30 m fly), a rep every 25 s or so.
Once a workout is started (here, or on the dashboard's Workouts page) they run
when it calls them; the last of the group tires in the second rep of each set.
With --nodes the edges reach the daemon as from real gate nodes: the nodes'
link, clock sync and buffer show on the live and Check pages.
"""
DEMO_TRACK_WORKOUT = "12 x 400m @ 3K pace, 200m jog recovery"
DEMO_GROUP = 3  # --workout is for the first three simulated athletes


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
    demo.add_argument("--seed", type=argument(read_integer, SEED), default=None, help="simulator seed (default: different every time)")
    demo.add_argument("--workout", metavar="TEXT", help="start this workout at once for the first three athletes (workout notation)")
    demo.add_argument("--track", action="store_true", help=f"track reps on one gate (M1 on the line, 400 m lap); the workout defaults to {DEMO_TRACK_WORKOUT!r}")
    demo.add_argument(
        "--group", metavar="HOW", default=None,
        help='with --track: the group runs each rep at once, "together" or in "waves 3 s apart" (queue order), leaving at the go',
    )  # fmt: skip
    demo.add_argument("--fast-rests", type=float, default=1.0, metavar="N", help="make every workout rest N times shorter (6: 3:00 becomes 30 s), to watch a session go by")
    demo.add_argument("--nodes", action="store_true", help="time each gate through a simulated gate node (the firmware's logic) on a pseudo-terminal, as over USB")
    add_db_option(demo, DEMO_DB)
    demo.set_defaults(run=demo_command)


def run_command(args: argparse.Namespace) -> int:
    from gatectl.web import listen

    config = load_config(args.config)
    source = _source(config)
    daemon = Daemon(source, lambda: Store(config.database), config.layout, place=config.place, sync_limit_ns=config.sync_limit_ns)
    intro = [f"gates: {config.source}, layout {config.layout.describe()} ({config.layout.method})"]
    sock = listen(config.host, config.port)  # a busy port is told before the daemon starts and opens a session
    return _serve(daemon, config.database, sock, config.host, intro=intro, network=config.network)


def demo_command(args: argparse.Namespace) -> int:
    if not 1 <= args.fast_rests <= 60:
        raise WorkoutError(f"--fast-rests: give a number from 1 (real rests) to 60, not {args.fast_rests:g}.")
    PORT.check(args.port, "--port", GatectlError)  # before the database is made; listen (below) binds it
    path = db_path(args, DEMO_DB)
    layout = Layout.flying(30, 30)
    with Store(path) as store:
        athlete_ids = enrol(store)
        _set_demo_pin(store)
        plan = _demo_plan(args, store, athlete_ids)  # a typo in --workout is told before anything starts
    seed = args.seed if args.seed is not None else _fresh_seed()
    club = DemoClub(athlete_ids, seed=seed, options=SimOptions(limbs=True), free_running=plan is None)
    sim = SimSource(layout, seed=seed, options=SimOptions(limbs=True), script=club)
    source = SimNodeGates(sim, seed=seed) if args.nodes else sim
    daemon = Daemon(source, lambda: Store(path), layout, place="Demo track", rest_scale=1 / args.fast_rests)
    club.follow(daemon)
    intro = ["simulated athletes run flying 30s (M1=0, M2=30, M3=60, torso detection); a new rep every ~25 s"]
    if plan is not None:
        intro = [f"workout: {plan.text!r} for {', '.join(a.name for a in plan.athletes)}" + (f"; {plan.track.describe()}" if plan.track else "")]
    if isinstance(source, SimNodeGates):
        intro.append(f"gate nodes: {', '.join(p.spec.where for p in source.serial.ports)} (simulated Picos, read as USB serial ports)")
    if args.fast_rests != 1:
        intro.append(f"fast rests: every rest {args.fast_rests:g} times shorter")
    start = None if plan is None else lambda: daemon.start_workout(plan)
    from gatectl.web import listen

    sock = listen(args.host, args.port)  # so is a busy port: before the daemon starts and opens a session
    return _serve(daemon, path, sock, args.host, intro=intro + [f"coach PIN: {DEMO_PIN}"], then=start)


def _demo_plan(args: argparse.Namespace, store: Store, athlete_ids: dict[str, int]) -> WorkoutPlan | None:
    """The workout of --workout / --track, for the first three athletes; None for the free-running demo."""
    if args.group is not None and not args.track:
        raise WorkoutError('--group runs track reps as a group: add --track, e.g. gatectl demo --track --group together.')
    if args.workout is None and not args.track:
        return None
    text = args.workout or DEMO_TRACK_WORKOUT
    known = next((w for w in LIBRARY if w.text == text), None)
    kind = known.kind if known else WorkoutKind.TRACK_REPS if args.track else WorkoutKind.MAX_VELOCITY
    athletes = group(store, [athlete_ids[a.name] for a in ROSTER[:DEMO_GROUP]])
    waves = None if args.group is None else parse_waves(args.group)
    plan = WorkoutPlan(
        text, kind, athletes, slug=known.slug if known else None, track=Track("M1", 400) if args.track else None,
        start=StartKind.GO if waves is not None else StartKind.ROLLING, waves_ns=waves,
    )  # fmt: skip
    plan.runner()  # targets the group cannot run ("leaves no time") are told now too
    return plan


def _fresh_seed() -> int:
    import secrets

    return secrets.randbelow(2**31)


def _set_demo_pin(store: Store) -> None:
    if not has_coach_password(store):
        set_coach_password(store, DEMO_PIN)


def _source(config: Config):
    if config.source == "sim":
        return SimSource(config.layout, seed=config.sim_seed, options=SimOptions(limbs=config.sim_limbs))
    if config.source == "replay":
        from gatectl.sources.replay import ReplaySource

        with open_text(str(config.trace)) as lines:
            edges = read_trace(lines, beams=set(config.layout.beams))
        return ReplaySource(edges, speed=config.replay_speed)
    from gatectl.sources.gpio import GpioSource
    from gatectl.sources.mixed import MixedSource
    from gatectl.sources.nodes.serial import SerialSource

    sources: list = [GpioSource(config.wiring)] if config.wiring else []
    if config.nodes:
        sources.append(SerialSource(config.nodes))
    return sources[0] if len(sources) == 1 else MixedSource(sources)


def _serve(
    daemon: Daemon,
    path: Path,
    sock: socket.socket,
    host: str,
    intro: list[str],
    then: Callable[[], object] | None = None,
    network: Network | None = None,
) -> int:
    """Start the daemon and serve the dashboard on ``sock`` (bound by ``listen``) until stopped."""
    from gatectl.web import create_app, serve

    port = sock.getsockname()[1]

    def terminate(signum, frame):
        daemon.bus.close()  # every live page's stream ends now: waitress need not wait for them
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGINT, terminate)
    daemon.start()
    if then is not None:
        try:
            then()
        except BaseException:
            daemon.stop()
            sock.close()
            raise
    printer = threading.Thread(target=_print_runs, args=(daemon.bus,), daemon=True)
    printer.start()
    url_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    print(f"gatectl: dashboard on http://{url_host}:{port}/  (Ctrl-C to stop)")
    for line in intro:
        print(f"gatectl: {line}")
    print(f"gatectl: database {path}, session {daemon.snapshot().session_id}", flush=True)
    try:
        serve(create_app(db_path=path, daemon=daemon, network=network, port=port), sock)
    finally:
        daemon.stop()
        session_id = daemon.snapshot().session_id  # as it stopped
        with Store(path, migrate=False) as store:
            edges = store.edge_count(session_id)
        print(f"gatectl: stopped; {edges} edges of session {session_id} are in {path}", flush=True)
    return 0


def _print_runs(bus: EventBus) -> None:
    sub = bus.subscribe()
    while True:
        event = sub.get()
        if event is None:
            return
        if event.kind == "run" and isinstance(event.data, RunView):
            print(format_run(event.data), flush=True)


def format_run(run: RunView) -> str:
    who = run.athlete or "unassigned"
    fly, lap = run.fly, run.lap
    if run.voided:  # a voided run comes again on the bus: said so, not reprinted as complete
        return f"run {run.number:>3}  voided      {who:<12}  {run.void_reason or 'no reason given'} (does not count)"
    if run.status == "complete" and lap and lap.time_ns is not None:
        check = lap.check
        against = f"  {check.diff_s:+.2f} s vs {format_duration_ns(check.target_ns, 1)} ({check.verdict})" if check else ""
        return f"run {run.number:>3}  complete    {who:<12}  {lap.distance_m:g} m {format_duration_ns(lap.time_ns, 2)}  {lap.velocity_mps:.2f} m/s{against}"
    if run.status != "complete" or not fly:
        return f"run {run.number:>3}  {run.status:<10}  {who:<12}  {run.reason}"
    pace = run.vs_pace.get("400m")
    vs = f"  {pace.percent:.0f}% of 400 m pace" if pace else ""
    flag = f"  ⚠ {run.sync.why}" if run.sync is not None and run.sync.flagged else ""
    return (
        f"run {run.number:>3}  complete    {who:<12}  fly {fly.distance_m:g} m {fly.time_s:.3f} s  "
        f"{fly.velocity_mps:.2f} m/s  {fly.kmh:.1f} km/h{vs}{flag}"
    )
