"""The language of a company's pages: the one the person chose with the switcher (Django's
language cookie), else the company's own language (``Tenant.language``), else the browser's.

Runs after Django's LocaleMiddleware, which has already picked the cookie's or the browser's
language; only when there is no cookie does the company's choice replace the browser's."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django_tenants.utils import get_public_schema_name


class TenantLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        language = getattr(tenant, "language", "")
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if (
            language
            and not chosen
            and tenant.schema_name != get_public_schema_name()
            and language in dict(settings.LANGUAGES)
        ):
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)
