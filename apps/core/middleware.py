from django.conf import settings
from django.db import connection
from django.urls import set_urlconf
from django_tenants.middleware.main import TenantMainMiddleware

from apps.core.views import healthz


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

    def process_request(self, request):
        if request.path.startswith(tuple(settings.PUBLIC_PATH_PREFIXES)):
            connection.set_schema_to_public()
            request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
            set_urlconf(request.urlconf)
            return None
        return super().process_request(request)
