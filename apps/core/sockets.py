"""WebSockets of a company's site: which company a socket belongs to, and who opened it.

A socket has no Django request, so neither django-tenants' routing nor Django's session
middleware runs for it. This middleware does both, the documented way: the company is the one
whose domain is the socket's Host (as for pages); the person is the one logged in by the
session cookie in *that company's* schema (users and sessions live there). Consumers read
``scope["tenant_schema"]`` (None on a host of no company) and ``scope["user"]``; the schema
comes from the host only, never from anything the client sends, so a socket can only ever join
its own company's groups.
"""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie
from importlib import import_module
from types import SimpleNamespace

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django_tenants.utils import get_tenant_domain_model, schema_context


def scope_host(scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"host":
            return value.decode("latin-1").rsplit(":", 1)[0].strip().lower()
    return ""


def scope_cookie(scope, cookie_name: str) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            cookies = SimpleCookie()
            try:
                cookies.load(value.decode("latin-1"))
            except CookieError:  # a malformed cookie header is no session
                return ""
            morsel = cookies.get(cookie_name)
            return morsel.value if morsel else ""
    return ""


def schema_for_host(host: str) -> str | None:
    """The schema of the company served on ``host``; None for the public site or no company."""
    if not host:
        return None
    connection.set_schema_to_public()
    domain = get_tenant_domain_model().objects.select_related("tenant").filter(domain=host).first()
    if domain is None or domain.tenant.schema_name == settings.PUBLIC_SCHEMA_NAME:
        return None
    return domain.tenant.schema_name


def session_user(schema_name: str, session_key: str):
    """The active user logged in by ``session_key`` on the company ``schema_name``, else an
    anonymous user. ``auth.get_user`` checks the session's hash against the user's password,
    as it does for pages (a password change logs sockets out too)."""
    if not session_key:
        return AnonymousUser()
    engine = import_module(settings.SESSION_ENGINE)
    with schema_context(schema_name):
        request = SimpleNamespace(session=engine.SessionStore(session_key))
        user = auth.get_user(request)
        if user.is_authenticated and not user.is_active:
            return AnonymousUser()
        return user


def socket_identity(scope) -> tuple[str | None, object]:
    schema_name = schema_for_host(scope_host(scope))
    if schema_name is None:
        return None, AnonymousUser()
    return schema_name, session_user(schema_name, scope_cookie(scope, settings.SESSION_COOKIE_NAME))


class TenantSessionMiddleware:
    """Puts ``tenant_schema`` and ``user`` in a websocket's scope (see the module)."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        schema_name, user = await database_sync_to_async(socket_identity)(scope)
        scope = dict(scope, tenant_schema=schema_name, user=user)
        return await self.inner(scope, receive, send)
