"""A company's own login page: its people log in and out there, every page of its site sends a
visitor there, wrong passwords are locked out as on the admin, and a person of one company
cannot log in on another's site."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django_tenants.utils import schema_context

from apps.accounts.models import Role
from tests.apps.accounts.conftest import PASSWORD, browser_of, host_of, logged_in, person_make


@pytest.fixture
def mia(tenant_a):
    return person_make(tenant_a, "mia@a.test", role=Role.MEMBER)


def _login(client, tenant, username: str, password: str, **extra):
    return client.post(
        "/login/", {"username": username, "password": password, **extra}, HTTP_HOST=host_of(tenant)
    )


def test_the_login_page_is_the_companys_own(client, tenant_a):
    page = client.get("/login/", HTTP_HOST=host_of(tenant_a))

    assert page.status_code == 200
    text = page.content.decode()
    assert 'name="username"' in text and 'name="password"' in text
    assert 'href="/password-reset/"' in text


def test_the_right_password_logs_in_and_lands_on_the_dashboard(client, tenant_a, mia):
    response = _login(client, tenant_a, "mia@a.test", PASSWORD)

    assert response.status_code == 302 and response["Location"] == "/"
    assert logged_in(client)


def test_a_visitor_of_a_page_is_sent_to_the_login_and_back(client, tenant_a, mia):
    page = client.get("/agents/", HTTP_HOST=host_of(tenant_a))
    assert page.status_code == 302 and page["Location"] == "/login/?next=/agents/"

    response = _login(client, tenant_a, "mia@a.test", PASSWORD, next="/agents/")

    assert response["Location"] == "/agents/"
    assert client.get("/agents/", HTTP_HOST=host_of(tenant_a)).status_code == 200


def test_a_wrong_password_shows_the_form_again_with_its_error(client, tenant_a, mia):
    response = _login(client, tenant_a, "mia@a.test", "wrong")

    assert response.status_code == 200
    assert "errorlist nonfield" in response.content.decode()
    assert not logged_in(client)


def test_logging_out_is_a_post_and_ends_the_session(client, tenant_a, mia):
    client = browser_of(client, tenant_a, mia)

    assert client.get("/logout/").status_code == 405
    assert logged_in(client)
    response = client.post("/logout/")

    assert response.status_code == 302 and response["Location"] == "/login/"
    assert not logged_in(client)
    assert client.get("/team/").status_code == 302


def test_the_menu_offers_to_log_out(client, tenant_a, mia):
    page = browser_of(client, tenant_a, mia).get("/team/")

    assert 'action="/logout/"' in page.content.decode()


def test_a_deactivated_person_cannot_log_in(client, tenant_a, mia):
    with schema_context(tenant_a.schema_name):
        mia.is_active = False
        mia.save()

    response = _login(client, tenant_a, "mia@a.test", PASSWORD)

    assert response.status_code == 200
    assert not logged_in(client)


def test_a_person_of_one_company_cannot_log_in_on_another(client, tenant_a, tenant_b, mia):
    response = _login(client, tenant_b, "mia@a.test", PASSWORD)

    assert response.status_code == 200
    assert not logged_in(client)


@override_settings(AXES_FAILURE_LIMIT=3)
def test_wrong_passwords_lock_the_login_out_with_a_429(client, tenant_a, mia):
    statuses = [_login(client, tenant_a, "mia@a.test", f"wrong {n}").status_code for n in range(4)]
    response = _login(client, tenant_a, "mia@a.test", PASSWORD)

    assert statuses[0] == 200  # the form again, with its error
    assert statuses[-1] == 429
    assert response.status_code == 429
    assert not logged_in(client)


@override_settings(AXES_FAILURE_LIMIT=3)
def test_a_lockout_on_one_company_leaves_another_companys_login_open(
    client, tenant_a, tenant_b, mia
):
    person_make(tenant_b, "mia@a.test", role=Role.MEMBER)
    for n in range(4):
        _login(client, tenant_a, "mia@a.test", f"wrong {n}")

    response = _login(client, tenant_b, "mia@a.test", PASSWORD)

    assert response.status_code == 302
    assert logged_in(client)


def test_the_early_lockout_and_the_flood_guard_watch_the_companys_login_page():
    from django.urls import reverse

    from apps.core.login_flood import LOGIN_PATHS as FLOOD_PATHS
    from apps.core.middleware import LOGIN_PATHS

    login_path = reverse("login", urlconf="jamono.urls_tenants")
    assert login_path in LOGIN_PATHS
    assert login_path in FLOOD_PATHS
