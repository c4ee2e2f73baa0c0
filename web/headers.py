"""Security headers on every response: nothing from elsewhere, no framing, no sniffing.

Every script, style and font is served by the Pi itself (the dashboard works
offline), so the Content-Security-Policy allows only 'self': an injected
``<script>`` or ``style=`` would not run, and no page can be framed by another
site to trick a tap on Void. The one inline script, which sets the light or
dark theme before the first paint, is allowed by its hash.
"""

from __future__ import annotations

import base64
import hashlib

from flask import Flask, Response
from markupsafe import Markup

THEME_SCRIPT = Markup('try{var t=localStorage.getItem("gatectl.theme");if(t)document.documentElement.dataset.theme=t}catch(e){}')
_THEME_HASH = base64.b64encode(hashlib.sha256(THEME_SCRIPT.encode()).digest()).decode()

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    f"script-src 'self' 'sha256-{_THEME_HASH}'",
    "style-src 'self'",
    "img-src 'self' data:",  # the empty favicon is a data: URL
    "connect-src 'self'",  # fetch() and the event stream
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))  # fmt: skip
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers older than CSP 2
    "Referrer-Policy": "same-origin",  # errors.py reads the referrer of our own pages
}


def init_app(app: Flask) -> None:
    app.jinja_env.globals["theme_script"] = THEME_SCRIPT

    @app.after_request
    def secure(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response
