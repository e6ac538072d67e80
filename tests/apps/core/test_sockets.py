"""Sockets of a company's site know their company (from the Host) and their person (the
session cookie, in that company's schema): apps.core.sockets."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import AnonymousUser
from django_tenants.utils import schema_context

from apps.core.sockets import (
    TenantSessionMiddleware,
    scope_cookie,
    scope_host,
    scope_same_origin,
)
from tests.factories import tenant_make
from tests.websockets import domain_of, session_cookie, socket_headers

# The middleware reads the database from a thread, as it does under uvicorn: tests that open
# sockets commit their rows (transaction=True), as the server would see them.
pytestmark = pytest.mark.django_db(transaction=True)


def identity_of(headers: list) -> tuple:
    """(tenant_schema, user) as the middleware puts them in a socket's scope."""
    seen = {}

    async def inner(scope, receive, send):
        seen.update(scope)

    async def receive():
        return {"type": "websocket.connect"}

    async def send(message):
        return None

    scope = {"type": "websocket", "path": "/ws/activity/", "headers": headers}
    async_to_sync(TenantSessionMiddleware(inner))(scope, receive, send)
    return seen["tenant_schema"], seen["user"]


def test_a_logged_in_person_is_known_on_their_companys_host():
    tenant = tenant_make()
    cookie = session_cookie(tenant)

    schema_name, user = identity_of(socket_headers(domain_of(tenant), cookie=cookie))

    assert schema_name == tenant.schema_name
    assert user.is_authenticated and user.username == "ana"


def test_a_socket_without_a_session_is_anonymous_but_knows_its_company():
    tenant = tenant_make()

    schema_name, user = identity_of(socket_headers(domain_of(tenant)))

    assert schema_name == tenant.schema_name
    assert isinstance(user, AnonymousUser)


def test_a_session_of_company_a_means_nobody_on_company_bs_host():
    tenant_a, tenant_b = tenant_make(), tenant_make()
    cookie_a = session_cookie(tenant_a)

    schema_name, user = identity_of(socket_headers(domain_of(tenant_b), cookie=cookie_a))

    assert schema_name == tenant_b.schema_name
    assert not user.is_authenticated


def test_a_page_of_another_host_cannot_use_the_session_cookie():
    tenant_a, tenant_b = tenant_make(), tenant_make()
    cookie_a = session_cookie(tenant_a)

    schema_name, user = identity_of(
        socket_headers(
            domain_of(tenant_a), cookie=cookie_a, origin=f"http://{domain_of(tenant_b)}:8000"
        )
    )

    assert schema_name == tenant_a.schema_name
    assert not user.is_authenticated


def test_a_deactivated_person_is_anonymous():
    tenant = tenant_make()
    cookie = session_cookie(tenant)
    with schema_context(tenant.schema_name):
        from django.contrib.auth import get_user_model

        get_user_model().objects.filter(username="ana").update(is_active=False)

    _schema_name, user = identity_of(socket_headers(domain_of(tenant), cookie=cookie))

    assert not user.is_authenticated


def test_a_changed_password_logs_the_socket_out():
    tenant = tenant_make()
    cookie = session_cookie(tenant)
    with schema_context(tenant.schema_name):
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.get(username="ana")
        user.set_password("another-pw-987")
        user.save()

    _schema_name, user = identity_of(socket_headers(domain_of(tenant), cookie=cookie))

    assert not user.is_authenticated


def test_an_unknown_host_and_the_public_site_have_no_company():
    assert identity_of(socket_headers("nobody.localhost"))[0] is None
    assert identity_of(socket_headers("localhost"))[0] is None
    assert identity_of([])[0] is None


def test_the_host_is_read_as_pages_read_it():
    def host(value: bytes) -> str:
        return scope_host({"headers": [(b"host", value)]})

    assert host(b"ACME.localhost:8000") == "acme.localhost"
    assert host(b"www.acme.localhost") == "acme.localhost"
    assert host(b"evil.example.com") == ""  # not one of ALLOWED_HOSTS


def test_an_odd_cookie_of_another_app_does_not_hide_the_session():
    scope = {"headers": [(b"cookie", b'theme="da"rk"; sessionid=abc123; other=1')]}

    assert scope_cookie(scope, "sessionid") == "abc123"


def test_cookies_split_over_several_headers_are_all_read():
    scope = {"headers": [(b"cookie", b"csrftoken=x"), (b"cookie", b"sessionid=abc123")]}

    assert scope_cookie(scope, "sessionid") == "abc123"


def test_the_origin_must_be_the_sockets_own_host():
    def same(origin: bytes) -> bool:
        return scope_same_origin({"headers": [(b"host", b"a.localhost:8000"), (b"origin", origin)]})

    assert same(b"http://a.localhost:8000")
    assert not same(b"http://b.localhost:8000")
    assert not same(b"null")
