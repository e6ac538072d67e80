"""Who calls the API: a script with a company's API key (``Authorization: Api-Key <key>``), or a
person logged in on the company's site (session, with its CSRF token on writes). Nothing else:
no password per request.

Keys live in the company's schema (the request's, from its host), so a key of company A is
unknown on company B's host: 401, as any wrong key."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from apps.api.models import ApiKey
from apps.api.services import api_key_mark_used

KEYWORD = "Api-Key"


class ApiKeyUser(AnonymousUser):
    """The caller of a request made with a key: no person, no Django permissions; what it may
    do is the key's (``apps.api.permissions``)."""

    def __init__(self, api_key: ApiKey):
        super().__init__()
        self.api_key = api_key

    @property
    def is_authenticated(self) -> bool:
        return True

    def __str__(self) -> str:
        return f"API key {self.api_key.prefix}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        keyword, _sep, key = header.strip().partition(" ")
        if keyword.lower() != KEYWORD.lower():
            return None  # not ours: the session may authenticate the request
        key = key.strip()
        if not key or " " in key:
            raise exceptions.AuthenticationFailed(
                _("Send the key as: Authorization: Api-Key <key>.")
            )
        api_key = self._usable_key(key)
        api_key_mark_used(api_key=api_key)
        return ApiKeyUser(api_key), api_key

    def _usable_key(self, key: str) -> ApiKey:
        try:
            api_key = ApiKey.objects.get_from_key(key)
        except ApiKey.DoesNotExist:
            api_key = None
        if api_key is None or api_key.has_expired:
            raise exceptions.AuthenticationFailed(
                _(
                    "This API key is not valid here: it is unknown to this company, revoked "
                    "or expired."
                )
            )
        return api_key

    def authenticate_header(self, request) -> str:
        # Makes an unauthenticated request 401 (with WWW-Authenticate), not 403.
        return KEYWORD


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """The key in the OpenAPI schema, so Swagger UI can send it."""

    target_class = "apps.api.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": _('The company\'s API key, as "Api-Key <key>".'),
        }
