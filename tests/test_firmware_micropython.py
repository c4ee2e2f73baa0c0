"""The node firmware under a real MicroPython: the WebAssembly port from npm, run by node.

It catches what CPython stand-ins can miss: ``time.ticks_add`` refusing a delta
of 2**29, a heap allocation in the interrupt's path, a feature MicroPython lacks.
The package is installed on first use into ``.cache/npm`` (git-ignored).
"""

from __future__ import annotations

import shutil
import subprocess
from array import array
from pathlib import Path

import pytest
from firmware_helpers import FIRMWARE, SteppedTicks, run_scenario, scenario

from gatectl.sim.node import WrappingTicks

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent / "micropython"
NPM_PACKAGE = "@micropython/micropython-webassembly-pyscript"
NPM_VERSION = "1.27.0"
CACHE = ROOT / ".cache" / "npm"


@pytest.fixture(scope="module")
def micropython_output() -> list[str]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the MicroPython (WebAssembly) tests need node 18 or later")
    package = CACHE / "node_modules" / NPM_PACKAGE
    if not (package / "micropython.mjs").exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail(f"node is here but npm is not: install npm, or {NPM_PACKAGE}@{NPM_VERSION} into {CACHE}")
        subprocess.run(
            [npm, "install", "--prefix", str(CACHE), "--no-audit", "--no-fund", "--silent", f"{NPM_PACKAGE}@{NPM_VERSION}"],
            check=True, timeout=300,
        )  # fmt: skip
    done = subprocess.run(
        [node, str(HERE / "run.mjs"), str(package), str(HERE / "checks.py"), str(FIRMWARE / "gatenode.py"), str(HERE / "scenario.py")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert lines[-1] == "DONE", lines[-5:]
    return lines


def _tagged(lines: list[str], tag: str) -> list[list[str]]:
    return [line.split(" ")[1:] for line in lines if line.startswith(tag + " ")]


def test_the_firmware_sends_the_same_lines_under_micropython_as_under_cpython(micropython_output):
    lines = [" ".join(fields) for fields in _tagged(micropython_output, "LINE")]
    assert lines == [line.decode().rstrip("\n") for line in run_scenario()]


def test_the_stand_in_ticks_answer_as_micropythons(micropython_output):
    ticks = WrappingTicks()
    diffs = _tagged(micropython_output, "DIFF")
    adds = _tagged(micropython_output, "ADD")
    assert len(diffs) == 7 and len(adds) == 7
    for a, b, result in diffs:
        assert ticks.ticks_diff(int(a), int(b)) == int(result)
    for t, d, result in adds:
        if result == "OverflowError":  # 2**29 and -2**29: the delta a naive simulation would use
            with pytest.raises(OverflowError):
                ticks.ticks_add(int(t), int(d))
        else:
            assert ticks.ticks_add(int(t), int(d)) == int(result)


def test_the_interrupts_push_allocates_nothing(micropython_output):
    assert _tagged(micropython_output, "PUSH") == [["no-allocation", "4", "2"]]


def test_crc_under_micropython(micropython_output):
    assert _tagged(micropython_output, "CRC") == [["29B1"]]


def test_the_scenario_advances_in_steps_ticks_add_takes():
    ticks = SteppedTicks()
    ticks.now_us = scenario.START
    ticks.advance(3 * 2**29)
    assert ticks.now_us == scenario.START + 3 * 2**29
    assert array("i", [ticks.ticks_us()])[0] == (scenario.START + 3 * 2**29) % 2**30
