"""What every endpoint of the API shares: its callers (``apps.api.authentication``), what they
may do (``apps.api.permissions``), per-key throttling, cursor pages, filters and ordering,
problem+json errors (settings' ``REST_FRAMEWORK``) and ETags on reads."""

from __future__ import annotations

from django.middleware.http import ConditionalGetMiddleware
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.decorators import decorator_from_middleware
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import generics
from rest_framework.filters import OrderingFilter
from rest_framework.views import APIView

from apps.api.pagination import ApiCursorPagination

# An ETag on every GET (a hash of the body), and 304 when If-None-Match names it.
conditional_get = decorator_from_middleware(ConditionalGetMiddleware)


class ConditionalGetMixin:
    @classmethod
    def as_view(cls, **initkwargs):
        return conditional_get(super().as_view(**initkwargs))

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # What a read shows depends on who asks (key or session): no shared cache may serve
        # one caller's answer to another.
        patch_vary_headers(response, ["Authorization", "Cookie"])
        patch_cache_control(response, private=True)
        return response


class ApiView(ConditionalGetMixin, APIView):
    """An endpoint that is not a list of rows (an action, a search, figures)."""


class ApiGenericView(ConditionalGetMixin, generics.GenericAPIView):
    """An endpoint over rows: listed in cursor pages, filtered and ordered from the query."""

    pagination_class = ApiCursorPagination
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    ordering_fields = ["id", "created_at"]
    ordering = ["-id"]
