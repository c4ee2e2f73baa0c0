"""The gate simulator: sprinters through beam gates, with limbs, dual beams and faults.

``sprinters`` models the bodies and writes their edges with the truth;
``source`` plays them in real time as an edge source (the demo's gates, and a
stand-in for hardware in anyone's tests); ``node`` runs the gate node's
firmware on stand-in hardware and ``network`` puts such nodes behind simulated
serial links, over pseudo-terminals into the serial source.
"""
