from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django.conf import settings
from django.db import connection
from django.urls import set_urlconf
from django_tenants.middleware.main import TenantMainMiddleware

from apps.core.views import healthz

# Both admin sites, the operators' (jamono/urls_public.py) and each tenant's
# (jamono/urls_tenants.py), are mounted at /admin/.
ADMIN_LOGIN_PATH = "/admin/login/"
# A company's own login page (apps.accounts, on its site's root), under the same lockout.
WORKSPACE_LOGIN_PATH = "/login/"
LOGIN_PATHS = (ADMIN_LOGIN_PATH, WORKSPACE_LOGIN_PATH)


class HealthCheckMiddleware:
    """Answers ``/healthz`` before tenant routing, which itself needs the database: a health
    check must report a database outage as 503, not crash with it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            return healthz(request)
        return self.get_response(request)


class TenantRoutingMiddleware(TenantMainMiddleware):
    """django-tenants' host-based routing, except for paths that are public by nature.

    Slack's endpoints are routed to a tenant by the ``team_id`` inside the request, never by
    host name, so they skip the per-request domain lookup and always use the public URLconf.
    """

    @staticmethod
    def hostname_from_request(request) -> str:
        # Host names are case-insensitive (RFC 9110) and domains are stored in lower case:
        # BARS.localhost is bars.localhost.
        return TenantMainMiddleware.hostname_from_request(request).lower()

    def process_request(self, request):
        if request.path.startswith(tuple(settings.PUBLIC_PATH_PREFIXES)):
            connection.set_schema_to_public()
            request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
            set_urlconf(request.urlconf)
            return None
        return super().process_request(request)


class ContentSecurityPolicyMiddleware:
    """Sends ``settings.CONTENT_SECURITY_POLICY`` (when set: with ``JAMONO_HTTPS``) on every
    response that has no policy of its own. Django 5.2 has none built in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        return response


class LoginLockoutMiddleware:
    """Refuses a login attempt that django-axes has locked out at once, with axes' own lockout
    response (429), before sessions, CSRF and the login view run: once locked out, a brute
    force costs one lookup per attempt instead of a whole login page rendered and thrown away.

    After the tenant routing: attempts are counted in the schema whose admin is attacked.
    Axes' backend and middleware still count the failures and lock out; this only answers
    early for those already locked out.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            request.method == "POST"
            and request.path in LOGIN_PATHS
            and settings.AXES_ENABLED
            and not AxesProxyHandler.is_allowed(request)
        ):
            return get_lockout_response(request)
        return self.get_response(request)
