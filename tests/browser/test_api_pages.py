"""The API's pages on a company's site, in a browser: its docs (Swagger UI and ReDoc render
the schema from this site's own files, under the production Content-Security-Policy: no
inline script, nothing from a CDN), and its keys page (a key made, copied, revoked)."""

from __future__ import annotations

import os
import re
import urllib.error
import urllib.request

import pytest
from django.db import connection
from django.test import Client

from tests.browser.conftest import chromium_path
from tests.factories import tenant_browser, tenant_make

# The production policy, less upgrade-insecure-requests (the test server speaks plain HTTP).
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@pytest.fixture(scope="module")
def browser():
    """This module's own browser, closed when it ends: these tests use the database, so
    pytest-django runs them before the tests without one, which must not find Playwright's
    event loop still running in this thread (the session's browser would keep it)."""
    executable = chromium_path()
    if executable is None:
        if os.environ.get("JAMONO_REQUIRE_BROWSER"):
            pytest.fail("Debian's chromium is not installed")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with (
        pytest.MonkeyPatch.context() as patch,
        sync_playwright() as playwright,
    ):
        # Playwright's sync API runs an event loop in this thread, where Django refuses
        # database calls unless told that this thread only waits on it.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        try:
            yield launched
        finally:
            launched.close()
    # The pooled connections the live server's thread used would keep the test database open.
    connection.close_pool()


@pytest.fixture
def docs_tenant(transactional_db):
    return tenant_make()


@pytest.mark.parametrize(
    ("path", "rendered"),
    [("/api/v1/docs/", ".swagger-ui .info .title"), ("/api/v1/redoc/", "h1")],
    ids=["swagger-ui", "redoc"],
)
def test_the_api_docs_render_under_the_content_security_policy(
    docs_tenant, live_server, settings, page, screenshot, path, rendered
):
    settings.CONTENT_SECURITY_POLICY = POLICY
    tenant = docs_tenant
    port = re.search(r":(\d+)$", live_server.url).group(1)
    refused, outside = [], []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    page.on(
        "request",
        lambda r: outside.append(r.url) if f"localhost:{port}" not in r.url else None,
    )

    page.goto(f"http://{tenant.get_primary_domain().domain}:{port}{path}")

    assert page.locator(rendered).first.inner_text(timeout=20_000).startswith("Jamono API")
    screenshot("docs")
    # ReDoc's sidebar always tries Redocly's logo from their CDN: the page's policy refuses
    # it (the browser reports the attempt), and the image hides itself.
    assert [text for text in refused if REDOC_LOGO not in text] == []
    assert [url for url in outside if not url.startswith(("data:", "blob:", REDOC_LOGO))] == []


def _logged_in(page, tenant, base_url: str) -> None:
    """The browser holds a session of a superuser of ``tenant`` (made as the company's admin
    would be; logging in through the form is the sign-up flow's test)."""
    client = tenant_browser(Client(), tenant)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base_url}]
    )


def _api_status(port: str, host: str, key: str) -> int:
    """What the API answers a script holding ``key`` (Python does not resolve *.localhost as
    the browser does: the company's host goes in the Host header)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/agents/",
        headers={"Authorization": f"Api-Key {key}", "Host": host},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as refused:
        return refused.code


def test_a_person_makes_a_key_copies_it_and_revokes_it(docs_tenant, live_server, page, screenshot):
    port = re.search(r":(\d+)$", live_server.url).group(1)
    host = docs_tenant.get_primary_domain().domain
    base_url = f"http://{host}:{port}"
    _logged_in(page, docs_tenant, base_url)

    page.goto(f"{base_url}/api-keys/")
    page.get_by_label("Name").fill("nightly report")
    page.get_by_label("Read-only").check()
    page.get_by_role("button", name="Make the key").click()

    key = page.locator("#new-key-value").inner_text()
    screenshot("1-made")
    assert _api_status(port, host, key) == 200
    page.goto(f"{base_url}/api-keys/")
    assert key not in page.content()
    page.get_by_role("button", name="Revoke nightly report").click()
    assert page.get_by_role("status").first.inner_text() == "The key nightly report is revoked."
    screenshot("2-revoked")
    assert _api_status(port, host, key) == 401
