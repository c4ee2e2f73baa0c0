"""Gate nodes: beams stamped by a small timer in each gate, sent over a serial link.

``protocol`` reads and writes the node's lines (firmware/PROTOCOL.md), ``clock``
maps a node's microseconds onto the host's nanoseconds, ``link`` is one node's
conversation without I/O, ``serial`` the edge source over pyserial, and
``simnode`` runs the firmware's own logic on stand-in hardware.
"""
