"""The daemon: an edge source into the raw log, the timing core, the store and the live events."""
