"""``gatectl setup``: from a fresh Raspberry Pi OS to timing at boot.

A functional core and an imperative shell, like the rest of gatectl:

- ``facts``: what the machine has (Pi model, users and groups, NetworkManager,
  a desktop or Lite, chromium, cage, the current hotspot), read from the
  system or from a directory standing in for ``/``;
- ``answers``: the coach's answers (gates, layout, place, password, hotspot,
  kiosk), from flags, the existing config and questions;
- ``files``: the text of every file setup writes (the systemd units, the udev
  rule, the config, the kiosk's autostart entry), the one source of each;
- ``plan``: facts + answers -> a list of typed steps (files to write, commands
  to run, the password to store), pure and tested as data;
- ``apply``: carries the steps out, or prints them (``--dry-run``), or writes
  the files under another root and lists the commands (``--root DIR``); every
  step reports whether it changed anything.
"""
