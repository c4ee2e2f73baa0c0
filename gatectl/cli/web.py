"""``gatectl web`` (history from a copied database) and ``gatectl set-password``."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import sys

from gatectl.cli._common import add_db_option, db_path
from gatectl.coach_password import set_coach_password
from gatectl.errors import GatectlError
from gatectl.limits import PORT
from gatectl.store import Store

WEB_EXAMPLE = """example:
  ssh pi@gatectl.local gatectl backup --db /var/lib/gatectl/gatectl.db --out /tmp/club.db
  scp pi@gatectl.local:/tmp/club.db club.db
  gatectl web --db club.db          # then open http://127.0.0.1:8000/history
gatectl backup makes a consistent copy while the gates run (copying the .db file
alone misses what is still in its -wal file) and leaves the coach's password out.
The database is opened read-only: nothing on the dashboard can change it.
"""

PASSWORD_EXAMPLE = """examples:
  gatectl set-password --db /var/lib/gatectl/gatectl.db
  echo 2468 | gatectl set-password --password-stdin
Viewing the dashboard is open; changing anything (gates, athletes, runs) needs
this password or PIN. Changing it logs every device out.
"""


def register(commands: argparse._SubParsersAction) -> None:
    web = commands.add_parser(
        "web",
        help="browse a database's history in the dashboard, read-only",
        description="Serve the dashboard over a (copied) database, read-only and without gates.",
        epilog=WEB_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_db_option(web)
    web.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    web.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    web.set_defaults(run=web_command)

    password = commands.add_parser(
        "set-password",
        help="set the coach's password or PIN for the dashboard",
        description="Set the password (or PIN, 4 characters or more) the dashboard asks before any change; it is stored hashed.",
        epilog=PASSWORD_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_db_option(password)
    password.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin (for scripts)")
    password.set_defaults(run=set_password_command)


def web_command(args: argparse.Namespace) -> int:
    from gatectl.web import create_app, serve

    PORT.check(args.port, "--port", GatectlError)
    path = db_path(args)
    app = create_app(db_path=path, read_only=True)
    url_host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    print(f"gatectl: history of {path} on http://{url_host}:{args.port}/history  (read-only; Ctrl-C to stop)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how it stops
        serve(app, host=args.host, port=args.port)
    return 0


def set_password_command(args: argparse.Namespace) -> int:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("New coach password or PIN: ")
        if getpass.getpass("Again, to check: ") != password:
            raise GatectlError("The two entries differ; nothing was changed.")
    path = db_path(args)
    with Store(path) as store:
        set_coach_password(store, password)
    print(f"gatectl: coach password set in {path}; devices logged in before must log in again.")
    return 0
