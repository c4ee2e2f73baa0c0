"""The crash suite, small: 10 SIGKILLs of a real daemon process, most within a few ms of an edge.

``bench/bench_crash.py --kills 100`` is the full run (its figures are in the
README's Reliability section); this one runs on every test run.
"""

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_crash.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_crash", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ten_sigkills_lose_no_acknowledged_edge_and_time_as_if_uninterrupted(tmp_path):
    figures = load_bench().run_suite(kills=10, seed=7, workdir=tmp_path, log=lambda line: None)
    assert figures["kills"] == 10 and figures["near_edge"] >= 3
    assert figures["acked_missing"] == 0  # every acknowledged edge was on disk after every kill
    assert figures["integrity_failures"] == 0
    assert figures["doubled"] == 0 and figures["raw_log_is_the_trace"]
    assert figures["sessions"] == 1 and figures["sessions_in_db"] == 1  # each restart carried on with the session
    assert figures["live_equals_uninterrupted"] and figures["recompute_equals_uninterrupted"]
    assert figures["exit_code"] == 0
