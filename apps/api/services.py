"""Writes of the API: its keys. Tenant-scoped: run inside the company's schema."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from apps.api.models import ApiKey


class ApiKeyNameTaken(Exception):
    """A usable key already has this name (rotate it, or choose another name)."""


@transaction.atomic
def api_key_create(
    *, name: str, read_only: bool = False, rotate: bool = False
) -> tuple[ApiKey, str]:
    """A new key named ``name``; returns it and the key itself (shown once, never stored).

    Names are unique among usable keys: a second key of the same name is refused, unless
    ``rotate``, which revokes the keys of that name and makes the new one (scripts then
    switch to the new key)."""
    usable = ApiKey.objects.filter(name=name, revoked=False).select_for_update()
    if usable.exists():
        if not rotate:
            raise ApiKeyNameTaken(name)
        for old in usable:
            api_key_revoke(api_key=old)
    return ApiKey.objects.create_key(name=name, read_only=read_only)


def api_key_revoke(*, api_key: ApiKey) -> None:
    """Revoked for good: the library refuses to un-revoke."""
    api_key.revoked = True
    api_key.save(update_fields=["revoked"])


def api_key_mark_used(*, api_key: ApiKey) -> None:
    """When a key was last used, at most once a minute (a write per request would cost more
    than the reads it serves)."""
    now = timezone.now()
    if api_key.last_used_at and (now - api_key.last_used_at).total_seconds() < 60:
        return
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    api_key.last_used_at = now
