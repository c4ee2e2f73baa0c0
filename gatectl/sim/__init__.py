"""The gate simulator: sprinters through beam gates, with limbs, dual beams and faults.

``sprinters`` models the bodies and writes their edges with the truth;
``source`` plays them in real time as an edge source (the demo's gates, and a
stand-in for hardware in anyone's tests).
"""
