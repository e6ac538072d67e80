"""Requests per API key (or per logged-in person) per period: ``JAMONO_API_RATE_LIMIT``.

The counters are in the cache, whose keys carry the company's schema: keys and people of
different companies never share one."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from apps.api.models import ApiKey


class ApiKeyRateThrottle(SimpleRateThrottle):
    scope = "api"

    def get_rate(self) -> str | None:
        # Read at each request (not frozen at import as DRF's rates are): settings may change.
        return settings.API_RATE_LIMIT or None

    def get_cache_key(self, request, view) -> str | None:
        if isinstance(request.auth, ApiKey):
            ident = f"key:{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
