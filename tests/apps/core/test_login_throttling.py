"""Logins are throttled (django-axes): wrong passwords lock the account and the client's address
out for a while, on the operators' admin (public schema) and on each tenant's own admin (its
schema), and the API takes no password at all (sessions only)."""

import base64
import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

PASSWORD = "correct horse battery staple"
WRONG_PASSWORDS = 30
LOGIN_URL = "/admin/login/"


def _staff_user_make(username: str = "operator"):
    return get_user_model().objects.create_user(
        username=username, password=PASSWORD, is_staff=True, is_superuser=True
    )


def _login(client, password: str, *, host: str = "testserver", username: str = "operator"):
    return client.post(
        LOGIN_URL,
        {"username": username, "password": password, "next": "/admin/"},
        HTTP_HOST=host,
    )


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def _wrong_passwords_sent(client, *, host: str = "testserver", username: str = "operator"):
    return [
        _login(client, f"wrong {n}", host=host, username=username).status_code
        for n in range(WRONG_PASSWORDS)
    ]


def test_the_right_password_logs_in_on_the_operators_admin(client, db):
    _staff_user_make()

    response = _login(client, PASSWORD)

    assert response.status_code == 302
    assert _logged_in(client)


def test_thirty_wrong_passwords_lock_the_operators_admin_login(client, db):
    _staff_user_make()

    statuses = _wrong_passwords_sent(client)
    response = _login(client, PASSWORD)

    assert statuses[0] == 200  # the login form again, with its error
    assert statuses[-1] == 429
    assert response.status_code == 429
    assert not _logged_in(client)


def test_the_lockout_holds_for_another_account_from_the_same_address(client, db):
    _staff_user_make()
    _staff_user_make("second")

    _wrong_passwords_sent(client)
    response = _login(client, PASSWORD, username="second")

    assert response.status_code == 429
    assert not _logged_in(client)


def test_the_lockout_holds_for_the_account_from_another_address(client, db):
    _staff_user_make()

    _wrong_passwords_sent(client)
    response = client.post(
        LOGIN_URL,
        {"username": "operator", "password": PASSWORD, "next": "/admin/"},
        REMOTE_ADDR="192.0.2.77",
    )

    assert response.status_code == 429
    assert not _logged_in(client)


def test_the_lockout_ends_after_the_cool_off_time(client, db, settings):
    settings.AXES_COOLOFF_TIME = timedelta(seconds=1)
    _staff_user_make()
    _wrong_passwords_sent(client)

    time.sleep(1.2)
    response = _login(client, PASSWORD)

    assert response.status_code == 302
    assert _logged_in(client)


@pytest.fixture
def tenant_admin_host(tenant_a):
    with schema_context(tenant_a.schema_name):
        _staff_user_make()
    return tenant_a.get_primary_domain().domain


def test_thirty_wrong_passwords_lock_a_tenants_admin_login(client, tenant_admin_host):
    statuses = _wrong_passwords_sent(client, host=tenant_admin_host)
    response = _login(client, PASSWORD, host=tenant_admin_host)

    assert statuses[-1] == 429
    assert response.status_code == 429
    assert not _logged_in(client)


def test_a_lockout_on_one_tenants_admin_leaves_another_tenants_admin_open(
    client, tenant_admin_host, tenant_b
):
    with schema_context(tenant_b.schema_name):
        _staff_user_make()
    _wrong_passwords_sent(client, host=tenant_admin_host)

    response = _login(client, PASSWORD, host=tenant_b.get_primary_domain().domain)

    assert response.status_code == 302
    assert _logged_in(client)


def test_the_api_takes_no_password_even_a_right_one(client, tenant_admin_host):
    credentials = base64.b64encode(f"operator:{PASSWORD}".encode()).decode()

    response = client.get(
        "/api/v1/knowledge/documents/",
        HTTP_HOST=tenant_admin_host,
        HTTP_AUTHORIZATION=f"Basic {credentials}",
    )

    assert response.status_code == 401  # unauthenticated: only API keys and sessions count


def test_the_api_serves_a_user_logged_in_through_the_admin(client, tenant_admin_host):
    assert _login(client, PASSWORD, host=tenant_admin_host).status_code == 302

    response = client.get("/api/v1/knowledge/documents/", HTTP_HOST=tenant_admin_host)

    assert response.status_code == 200


def test_once_locked_out_an_attempt_is_refused_before_csrf_sessions_or_the_login_view(db):
    from django.test import Client

    _staff_user_make()
    _wrong_passwords_sent(Client())
    strict = Client(enforce_csrf_checks=True)  # and it sends no CSRF token

    response = _login(strict, PASSWORD)

    assert response.status_code == 429  # not 403: nothing after the lockout check ran
    assert "Set-Cookie" not in response


def test_the_early_lockout_watches_the_login_path_of_both_admin_sites():
    from django.urls import reverse

    from apps.core.middleware import ADMIN_LOGIN_PATH

    assert reverse("admin:login", urlconf="jamono.urls_public") == ADMIN_LOGIN_PATH
    assert reverse("tenant_admin:login", urlconf="jamono.urls_tenants") == ADMIN_LOGIN_PATH
