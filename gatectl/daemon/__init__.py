"""The daemon: an edge source into the raw log, the timing core, the store and the live events.

``daemon.Daemon`` puts the parts together; the web and the CLI hold it as a
``control.DaemonControl`` and read ``control.DaemonSnapshot`` values. The parts:
``loop`` (the thread, its inbox, the latency hold), ``timekeeper`` (what the
thread does with each batch), ``sessions`` (line or track timing, who ran, the
athlete queue), ``gates`` (clear, blocked, stuck), ``driver`` (a workout under
way), ``workout`` (the plan and the live page's state), ``events`` (the bus),
``faults`` (what is wrong now, for the dashboard), ``watchdog`` (systemd's
notify socket, fed by the loop) and ``resume`` (carrying on with a session
after a crash or a power cut).
"""
