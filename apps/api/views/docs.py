"""The API's docs pages (drf-spectacular's, assets from drf-spectacular-sidecar)."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.views import SpectacularRedocView

# ReDoc's page when the site sends no policy (plain-HTTP development): its own files only.
REDOC_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)


class RedocView(SpectacularRedocView):
    """ReDoc, always under a policy: it reads the schema in a web worker started from a
    ``blob:`` URL (allowed here), and its sidebar shows Redocly's logo from their CDN (refused:
    the image then hides itself), whether or not the site itself sends a policy."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        policy = settings.CONTENT_SECURITY_POLICY or REDOC_POLICY
        response["Content-Security-Policy"] = f"{policy}; worker-src 'self' blob:"
        return response
