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

from importlib import import_module
from types import SimpleNamespace
from urllib.parse import urlsplit

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.http.cookie import parse_cookie
from django.http.request import split_domain_port, validate_host
from django_tenants.utils import (
    get_public_schema_name,
    get_tenant_domain_model,
    remove_www,
    schema_context,
)


def scope_header(scope, header: bytes) -> str:
    """``header``'s value (lower-case name); repeated headers joined as HTTP/2 splits cookies."""
    values = [value.decode("latin-1") for name, value in scope.get("headers", ()) if name == header]
    return ("; " if header == b"cookie" else ", ").join(values)


def scope_host(scope) -> str:
    """The socket's host name as pages read theirs: without port, lower case, one of
    ALLOWED_HOSTS (else ""), ``www.`` removed as django-tenants does."""
    domain, _port = split_domain_port(scope_header(scope, b"host"))
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return ""
    return remove_www(domain)


def scope_cookie(scope, cookie_name: str) -> str:
    # Django's own parser: one odd cookie of another site on the same host does not hide the
    # session cookie (http.cookies.SimpleCookie stops at the first one it cannot read).
    return parse_cookie(scope_header(scope, b"cookie")).get(cookie_name, "")


def scope_same_origin(scope) -> bool:
    """Whether the page that opened the socket is on the socket's own host. Browsers send the
    session cookie of the socket's host whatever page opens it; only a page of that host may
    use it (another company's site on the same parent domain may not)."""
    origin = scope_header(scope, b"origin")
    if not origin:
        return True  # not a browser; the cookie was given by whoever holds it
    try:
        origin_host = (urlsplit(origin).hostname or "").lower()
    except ValueError:
        return False
    host, _port = split_domain_port(scope_header(scope, b"host"))
    return bool(origin_host) and origin_host == host


def schema_for_host(host: str) -> str | None:
    """The schema of the company served on ``host``; None for the public site or no company."""
    if not host:
        return None
    connection.set_schema_to_public()
    domain = get_tenant_domain_model().objects.select_related("tenant").filter(domain=host).first()
    if domain is None or domain.tenant.schema_name == get_public_schema_name():
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
    if not scope_same_origin(scope):
        return schema_name, AnonymousUser()
    return schema_name, session_user(schema_name, scope_cookie(scope, settings.SESSION_COOKIE_NAME))


class TenantSessionMiddleware:
    """Puts ``tenant_schema`` and ``user`` in a websocket's scope (see the module)."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        schema_name, user = await database_sync_to_async(socket_identity)(scope)
        scope = dict(scope, tenant_schema=schema_name, user=user)
        return await self.inner(scope, receive, send)
