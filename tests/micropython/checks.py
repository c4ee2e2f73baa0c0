# Under the MicroPython WebAssembly port: the scenario's lines, the real ticks functions'
# answers to a table of inputs, and whether an interrupt's push allocates.
import time
from array import array

import gatenode
import micropython
import scenario


class Ticks:
    def __init__(self, start):
        self.raw = time.ticks_add(0, start - (1 << 30)) if start >= 1 << 29 else start

    def ticks_us(self):
        return self.raw

    def ticks_diff(self, end, start):
        return time.ticks_diff(end, start)

    def advance(self, us):
        while us:
            step = min(us, (1 << 29) - 1)  # the largest delta ticks_add takes
            self.raw = time.ticks_add(self.raw, step)
            us -= step


for line in scenario.run(Ticks(scenario.START), array):
    print("LINE", line.decode().rstrip())

for a, b in ((0, 1), (1, 0), (5, (1 << 30) - 5), ((1 << 30) - 5, 5), (1 << 29, 0), (0, 1 << 29), ((1 << 29) - 1, 0)):
    print("DIFF", a, b, time.ticks_diff(a, b))
for t, d in ((0, 1), ((1 << 30) - 1, 1), (5, -10), (0, (1 << 29) - 1), (0, 1 << 29), (0, -(1 << 29)), (0, -(1 << 29) + 1)):
    try:
        print("ADD", t, d, time.ticks_add(t, d))
    except OverflowError:
        print("ADD", t, d, "OverflowError")

ring = gatenode.EdgeRing(4, array)
push = ring.push
raw = time.ticks_us()

def six_pushes():  # two more than the ring holds: the overflow is counted without allocating
    push(0, 1, raw)
    push(1, 1, raw)
    push(0, 0, raw)
    push(1, 0, raw)
    push(0, 1, raw)
    push(1, 1, raw)


def allocates(function):
    micropython.heap_lock()
    try:
        function()
    except MemoryError:
        micropython.heap_unlock()
        return True
    micropython.heap_unlock()
    return False


assert allocates(lambda: [1])  # the check sees an allocation
allocated = allocates(six_pushes)
print("PUSH", "allocates" if allocated else "no-allocation", ring.fill(), ring.overflow)
print("CRC", "%04X" % gatenode.crc16(b"123456789"))
print("DONE")
