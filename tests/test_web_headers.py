"""Security headers on every response, and pages the Content-Security-Policy does not break."""

import re

import pytest

from gatectl.web.headers import CONTENT_SECURITY_POLICY, THEME_SCRIPT

# Security headers ------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/", "/control", "/workouts", "/athletes", "/history", "/login", "/api/live", "/static/app.js", "/nowhere", "/athletes/99"])
def test_every_response_carries_the_security_headers(client, url):
    response = client.get(url)
    response.close()
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY and "http" not in CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("url", ["/", "/control", "/workouts", "/athletes", "/history", "/login", "/nowhere"])
def test_pages_have_no_inline_script_the_policy_would_block(coach, url):
    html = coach.get(url).get_data(as_text=True)
    for tag, body in re.findall(r"(<script[^>]*>)(.*?)</script>", html, re.S):
        assert "src=" in tag or 'type="application/json"' in tag or body == THEME_SCRIPT, tag + body
    assert "javascript:" not in html and " style=" not in html and not re.search(r" on[a-z]+=", html)
