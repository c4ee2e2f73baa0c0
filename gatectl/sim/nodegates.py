"""Simulated gates behind simulated gate nodes, in real time: ``gatectl demo --nodes``.

Each gate of the layout gets a ``PtyNode`` (the firmware's own logic on a
pseudo-terminal, its crystal a few ppm off) and the simulated athletes break
its beams: the node stamps each edge on its own clock, keeps it in its ring
buffer and repeats it until acknowledged, while the real ``SerialSource``
reads the pseudo-terminals as it would a Pico's USB ports, syncs each node's
clock and delivers the edges on the Pi's. So the demo's runs come through the
whole node path, and the dashboard shows the nodes' links, sync and buffers.

>>> from gatectl.timing.model import Layout
>>> gates = SimNodeGates(SimSource(Layout.flying(), seed=1), seed=1)
>>> [port.spec.beams for port in gates.serial.ports]
[('M1',), ('M2',), ('M3',)]
"""

from __future__ import annotations

import random
import secrets
import shutil
import tempfile
from pathlib import Path

from gatectl.sim.network import PtyNode
from gatectl.sim.source import SimSource
from gatectl.sources import Emit
from gatectl.sources.mixed import MixedSource
from gatectl.sources.nodes.serial import NodePort, SerialSource
from gatectl.timing.model import Edge

CRYSTAL_PPM = 30.0  # a Pico's 12 MHz crystal: each node's is off by up to this


class SimNodeGates(MixedSource):
    """The simulated gates of ``sim`` as gate nodes; a ``MixedSource`` of the one ``SerialSource`` that reads them."""

    name = "sim-nodes"

    def __init__(self, sim: SimSource, *, seed: int = 0, drift_ppm: float = CRYSTAL_PPM) -> None:
        rng = random.Random(seed)
        self.sim = sim
        # Where the nodes' ports appear (as udev's names for real ones), made by ``start``.
        self.folder = Path(tempfile.gettempdir()) / f"gatectl-nodes-{secrets.token_hex(6)}"
        gates = sim.layout.gates
        self._made = [
            (gate.beams, f"E66141040000{i:04X}", rng.getrandbits(32), rng.uniform(-drift_ppm, drift_ppm)) for i, gate in enumerate(gates)
        ]
        self.serial = SerialSource([NodePort(beams, port=str(self.folder / f"node-{gate.name}"), node_id=node_id)
                                    for gate, (beams, node_id, _, _) in zip(gates, self._made)])  # fmt: skip
        super().__init__([self.serial])
        self._channel = {beam: (i, c) for i, (beams, _, _, _) in enumerate(self._made) for c, beam in enumerate(beams)}
        self.nodes: list[PtyNode] = []

    def start(self, emit: Emit) -> None:
        """Power the nodes up, open their ports, and let the athletes run."""
        self.folder.mkdir(mode=0o700)
        self.nodes = [
            PtyNode(str(self.folder / f"node-{gate.name}"), node_id, boot=boot, drift_ppm=drift, channels=len(beams))
            for gate, (beams, node_id, boot, drift) in zip(self.sim.layout.gates, self._made)
        ]
        super().start(emit)
        self.sim.start(self._break)

    def _break(self, edge: Edge) -> None:
        """An athlete breaks (or clears) a beam: its node stamps it now."""
        node, channel = self._channel[edge.beam]
        self.nodes[node].beam(channel, edge.broken)

    def stop(self) -> None:
        self.sim.stop()
        super().stop()
        for node in self.nodes:
            node.close()
        shutil.rmtree(self.folder, ignore_errors=True)
