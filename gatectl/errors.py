"""One error hierarchy for gatectl.

Every error a user can cause is a ``GatectlError`` whose message is a sentence
that names what to fix. Each subclass is also the matching builtin, so callers
that only know Python's exceptions still catch it.
"""


class GatectlError(Exception):
    """Root of every error gatectl raises on purpose."""


class LayoutError(GatectlError, ValueError):
    """A gate layout that cannot be timed (names, positions, order)."""


class TraceError(GatectlError, ValueError):
    """A bad line in an edge trace; the message names the line."""


class ConfigError(GatectlError, ValueError):
    """A config file field that is missing or wrong; the message names it."""


class PaceError(GatectlError, ValueError):
    """A race time or pace that cannot be read."""


class WorkoutError(GatectlError, ValueError):
    """Workout notation that cannot be read; the message points at the part."""


class StoreError(GatectlError, RuntimeError):
    """A database that cannot be opened or holds something unexpected."""


class SourceError(GatectlError, RuntimeError):
    """An edge source that cannot start (pin busy, serial port missing...)."""


class PasswordError(GatectlError, ValueError):
    """A coach password or PIN that cannot be used (too short, too long)."""
