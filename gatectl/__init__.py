"""gatectl: flying-sprint timing on Raspberry Pi beam gates.

Every instant and interval is an integer number of nanoseconds on the clock of
the source that produced it; seconds appear only when a result is displayed.
"""

__version__ = "0.1.0"
