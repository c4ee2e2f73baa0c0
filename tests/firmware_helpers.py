"""Shared by the firmware tests: the firmware folder, the stepped ticks, and the scenario both interpreters run."""

from __future__ import annotations

import importlib.util
import sys
from array import array
from pathlib import Path

from gatectl.firmware import gatenode
from gatectl.sim.node import TICKS_PERIOD, WrappingTicks

ROOT = Path(__file__).resolve().parent.parent
FIRMWARE = ROOT / "firmware"

# The scenario runs under both interpreters, so it imports the firmware by its flashed name.
sys.modules.setdefault("gatenode", gatenode)
_spec = importlib.util.spec_from_file_location("firmware_scenario", Path(__file__).parent / "micropython" / "scenario.py")
scenario = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scenario)


class SteppedTicks(WrappingTicks):
    """The scenario's ticks: moved by ``advance``, in the steps ticks_add allows, as on the Pico."""

    def advance(self, us: int) -> None:
        while us:
            step = min(us, TICKS_PERIOD // 2 - 1)
            self.now_us += step
            us -= step


def run_scenario() -> list[bytes]:
    ticks = SteppedTicks()
    ticks.now_us = scenario.START
    return scenario.run(ticks, array)
