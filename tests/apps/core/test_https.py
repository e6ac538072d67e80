"""HTTPS hardening, all switched by JAMONO_HTTPS: off for `make run` on http://localhost; on,
the proxy's scheme is trusted, cookies are Secure, HSTS and a Content-Security-Policy are sent.

The settings are evaluated in a child process with the variable set or unset, as a deployment
would read them; the requests then run in this process under the values it read."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
HTTPS_SETTINGS = (
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "CONTENT_SECURITY_POLICY",
)
LOGIN_URL = "/admin/login/"


def settings_read_with(https: str | None) -> dict:
    """The HTTPS settings as jamono/settings.py reads them from this environment."""
    env = {key: value for key, value in os.environ.items() if key != "JAMONO_HTTPS"}
    if https is not None:
        env["JAMONO_HTTPS"] = https
    script = (
        "import json, jamono.settings as s; "
        f"print(json.dumps({{name: getattr(s, name) for name in {HTTPS_SETTINGS!r}}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    if values["SECURE_PROXY_SSL_HEADER"] is not None:
        values["SECURE_PROXY_SSL_HEADER"] = tuple(values["SECURE_PROXY_SSL_HEADER"])
    return values


@pytest.fixture(scope="module")
def https_on() -> dict:
    return settings_read_with("true")


@pytest.fixture(scope="module")
def https_off() -> dict:
    return settings_read_with(None)


def test_https_hardening_is_off_by_default(https_off):
    assert https_off == {
        "SECURE_PROXY_SSL_HEADER": None,
        "SECURE_SSL_REDIRECT": False,
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "SECURE_HSTS_SECONDS": 0,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "CONTENT_SECURITY_POLICY": "",
    }


def test_jamono_https_switches_every_part_on(https_on):
    assert https_on["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert https_on["SECURE_SSL_REDIRECT"] is True
    assert https_on["SESSION_COOKIE_SECURE"] is https_on["CSRF_COOKIE_SECURE"] is True
    assert https_on["SECURE_HSTS_SECONDS"] >= 180 * 24 * 3600
    assert https_on["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert "default-src 'self'" in https_on["CONTENT_SECURITY_POLICY"]
    assert "frame-ancestors 'none'" in https_on["CONTENT_SECURITY_POLICY"]


def _apply(settings, values: dict) -> None:
    for name, value in values.items():
        setattr(settings, name, value)


def test_with_https_on_a_request_through_the_proxy_gets_hsts_csp_and_secure_cookies(
    client, db, settings, https_on
):
    _apply(settings, https_on)

    response = client.get(LOGIN_URL, HTTP_X_FORWARDED_PROTO="https")

    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert response["Content-Security-Policy"] == https_on["CONTENT_SECURITY_POLICY"]
    assert response.cookies["csrftoken"]["secure"] is True


def test_with_https_on_a_plain_http_request_is_redirected_to_https(client, db, settings, https_on):
    _apply(settings, https_on)

    response = client.get(LOGIN_URL)

    assert response.status_code == 301
    assert response["Location"] == f"https://testserver{LOGIN_URL}"


def test_with_https_on_the_session_cookie_is_secure(client, db, settings, https_on):
    from django.contrib.auth import get_user_model

    _apply(settings, https_on)
    get_user_model().objects.create_user(username="op", password="pw-123-456", is_staff=True)

    response = client.post(
        LOGIN_URL,
        {"username": "op", "password": "pw-123-456", "next": "/admin/"},
        HTTP_X_FORWARDED_PROTO="https",
    )

    assert response.status_code == 302
    assert response.cookies["sessionid"]["secure"] is True


def test_with_https_off_plain_http_is_served_without_hsts_csp_or_secure_cookies(
    client, db, settings, https_off
):
    _apply(settings, https_off)

    response = client.get(LOGIN_URL)

    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response
    assert "Content-Security-Policy" not in response
    assert not response.cookies["csrftoken"]["secure"]
