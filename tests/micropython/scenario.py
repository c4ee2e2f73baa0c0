# One node through a scripted session, the same under CPython and MicroPython.
#
# ``ticks`` has ticks_us(), ticks_diff(a, b) and advance(us); under MicroPython
# advance() moves the count with the real time.ticks_add. Returns the node's lines.

import gatenode

NODE_ID = "E6614104035B2A2B"
BOOT = 0x0A1B2C3D
START = (1 << 30) - 5000000  # five seconds before ticks_us() wraps


def run(ticks, array_type):
    out = []
    levels = [0]
    clock = gatenode.Clock64(ticks.ticks_us, ticks.ticks_diff)
    ring = gatenode.EdgeRing(8, array_type)
    node = gatenode.Node(NODE_ID, BOOT, clock, ring, out.append, lambda: levels[0], channels=2, capacity=8)

    def edge(channel, broken):
        levels[0] = levels[0] | (1 << channel) if broken else levels[0] & ~(1 << channel)
        ring.push(channel, broken, ticks.ticks_us())

    node.hello()
    node.poll()
    ticks.advance(1000)
    edge(0, 1)
    ticks.advance(30)
    edge(1, 1)
    ticks.advance(200)
    node.poll()  # EDGE 1 and 2
    ticks.advance(150)
    node.receive(gatenode.frame("SYNC 7").rstrip(b"\n"), ticks.ticks_us())
    ticks.advance(20)
    node.receive(gatenode.frame("ACK 0A1B2C3D 1").rstrip(b"\n"), ticks.ticks_us())
    node.receive(b"ACK 0A1B2C3D 2*0000", ticks.ticks_us())  # a garbled ack: counted, ignored
    node.receive(b"\xff\xfe garbage", ticks.ticks_us())
    node.receive(gatenode.frame("ACK 0A1B2C3D 99"), ticks.ticks_us())  # an unknown seq: harmless
    ticks.advance(500000)
    node.poll()  # EDGE 2 again: its ack was garbled
    for _ in range(30):  # 50 minutes, across three wraps of ticks_us()
        ticks.advance(100000000)
        node.poll()
    edge(0, 0)
    ticks.advance(40)
    node.receive(gatenode.frame("WHO"), ticks.ticks_us())  # HELLO, and every unacked edge at once
    node.poll()
    for _ in range(12):  # more edges than the ring holds: the rest are counted as lost
        edge(1, 0)
        ticks.advance(10)
    node.poll()
    ticks.advance(1000000)
    node.poll()
    return out
