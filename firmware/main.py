# The gate node on a Raspberry Pi Pico (RP2040), MicroPython: the hardware around gatenode.Node.
#
# Copy this file and gatenode.py to the Pico (see hardware/README.md):
#     mpremote cp firmware/gatenode.py firmware/main.py :
# The settings below are the only lines a builder edits.

import os
import select
import sys
import time
from array import array

import gatenode
import machine
import micropython

BEAM_PINS = (15,)  # GP numbers, one per beam; a dual gate: (15, 14), lower beam first
ACTIVE_LOW = True  # behind an optocoupler the line reads low while the beam is broken
UART_ID = None  # None: the USB serial port; 0 or 1: a UART (RS-485 transceiver, serial radio)
UART_TX, UART_RX, UART_BAUD = 0, 1, 9600
RS485_DE = None  # the GP driving an RS-485 transceiver's DE/RE pins, if any
RING = 256  # edges the interrupt can hold before the main loop numbers them

micropython.alloc_emergency_exception_buf(100)


def node_id():
    return "".join("%02X" % b for b in machine.unique_id())


def main():
    clock = gatenode.Clock64(time.ticks_us, time.ticks_diff)
    ring = gatenode.EdgeRing(RING, array)
    pins = [machine.Pin(n, machine.Pin.IN, machine.Pin.PULL_UP) for n in BEAM_PINS]
    invert = 1 if ACTIVE_LOW else 0

    def handler_for(channel):
        ticks_us = time.ticks_us
        push = ring.push

        # A hard interrupt: runs within tens of µs of the edge and must not allocate.
        def handler(pin):
            push(channel, pin.value() ^ invert, ticks_us())

        return handler

    for channel, pin in enumerate(pins):
        pin.irq(handler_for(channel), machine.Pin.IRQ_RISING | machine.Pin.IRQ_FALLING, hard=True)

    def levels():
        mask = 0
        for channel, pin in enumerate(pins):
            mask |= (pin.value() ^ invert) << channel
        return mask

    if UART_ID is None:
        stream_in, write = sys.stdin.buffer, sys.stdout.buffer.write
    else:
        uart = machine.UART(UART_ID, UART_BAUD, tx=machine.Pin(UART_TX), rx=machine.Pin(UART_RX))
        stream_in = uart
        if RS485_DE is None:
            write = uart.write
        else:
            de = machine.Pin(RS485_DE, machine.Pin.OUT, value=0)

            def write(data):
                de.value(1)
                uart.write(data)
                uart.flush()  # the last byte has left the shift register
                de.value(0)

    boot = int.from_bytes(os.urandom(4), "big")
    node = gatenode.Node(node_id(), boot, clock, ring, write, levels, channels=len(pins))
    node.hello()
    poller = select.poll()
    poller.register(stream_in, select.POLLIN)
    line = bytearray()
    while True:
        # Woken at once by a byte from the host, so a SYNC's arrival stamp is tight.
        if poller.poll(1):
            raw = time.ticks_us()
            while poller.poll(0):
                byte = stream_in.read(1)
                if not byte:
                    break
                if byte == b"\n":
                    node.receive(bytes(line), raw)
                    line = bytearray()
                elif len(line) < gatenode.MAX_LINE:
                    line.extend(byte)
        node.poll()


main()
