"""The Pi's own Wi-Fi on the dashboard: a QR code to join it and one to open the dashboard.

``gatectl setup --hotspot`` writes the network's name, key and the Pi's
address into the config's ``[network]`` section; ``gatectl run`` hands it to
the app. The codes are made here, offline (segno, pure Python), once per app,
and served inline as SVG: nothing is fetched from anywhere.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlunsplit

import segno
import segno.helpers
from flask import current_app

from gatectl.config import Network


@lru_cache(maxsize=4)
def join_codes(network: Network, port: int) -> dict:
    """What the page shows: the network, the dashboard's address, and both as SVG QR codes."""
    url = urlunsplit(("http", f"{network.address}:{port}", "/", "", ""))  # the Pi's own address: no name service on its Wi-Fi
    wifi = segno.helpers.make_wifi(ssid=network.ssid, password=network.password, security="WPA")
    return {
        "ssid": network.ssid,
        "password": network.password,
        "url": url,
        "wifi_svg": _svg(wifi),
        "url_svg": _svg(segno.make(url, error="m")),
    }


def _svg(code: segno.QRCode) -> str:
    # Black on white whatever the theme, with a quiet zone: what phone cameras read best. Sized by CSS.
    return code.svg_inline(omitsize=True, border=2, dark="#000", light="#fff", svgclass="qr", lineclass=None)


def current_join() -> dict | None:
    """The codes for this app's network, or None when the Pi makes no Wi-Fi of its own."""
    network = current_app.config.get("NETWORK")
    return join_codes(network, current_app.config["PORT"]) if network is not None else None
