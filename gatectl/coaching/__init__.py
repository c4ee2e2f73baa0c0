"""The coaching core, pure: workouts, paces, targets and one-gate lap timing.

``notation`` (a coach's session text), ``library`` (the built-in sessions),
``paces`` (race times and pace conversions), ``quality`` (targets, drop-offs,
the top-speed hint), ``runner`` (the ``WorkoutRunner`` state machine that walks
a group through a workout) and ``laps`` (track reps on one gate).
"""
