"""The gate node's firmware (MicroPython), installed as ``gatectl.firmware`` so the host can run it.

``gatenode`` is the node's logic, free of hardware; ``main`` is the Pico's
hardware around it and runs only on the Pico. The simulated node of
``gatectl replay --via-nodes`` runs ``gatenode`` with stand-in hardware.
"""
