"""The timing core, pure: edges → torso crossings → runs → results.

``model`` (edges, gates, layouts, crossings, runs), ``detect`` (crossings from
a gate's raw edges), ``assemble`` (runs from crossings), ``pipeline`` (the two
together, live or over a whole log), ``results`` (segment and fly times,
velocity, race-pace comparisons) and ``trace`` (edge traces as CSV).
Every instant and interval is integer nanoseconds on the source's clock.
"""
