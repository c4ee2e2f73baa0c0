"""Gate nodes: beams stamped by a small timer in each gate, sent over a serial link.

``protocol`` reads and writes the node's lines (firmware/PROTOCOL.md), ``clock``
maps a node's microseconds onto the host's nanoseconds, ``link`` is one node's
conversation without I/O, and ``serial`` is the edge source over pyserial.
The simulated node and link are in ``gatectl.sim.node`` and ``gatectl.sim.network``.
"""
