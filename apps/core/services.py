"""Writes that span apps: key rotation of encrypted fields."""

from __future__ import annotations

from collections.abc import Iterator

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django_tenants.utils import schema_context

from apps.core import crypto
from apps.core.fields import EncryptedTextField
from apps.core.selectors import tenant_schema_names


@transaction.atomic
def encrypted_fields_rotate() -> dict[str, int]:
    """Re-encrypt every EncryptedTextField value with the first key: shared models (Slack
    workspaces) in the public schema, tenant models (Jira connections) in every tenant's.

    Reads raw column values (no decryption round-trip through the model) and writes them back
    rotated, row by row, in one transaction: either every value moves to the new key or none.
    """
    counts: dict[str, int] = {}
    connection.set_schema_to_public()
    _rotate_in_current_schema(settings.SHARED_APPS, counts)
    tenant_only = [app for app in settings.TENANT_APPS if app not in settings.SHARED_APPS]
    for schema_name in tenant_schema_names():
        with schema_context(schema_name):
            _rotate_in_current_schema(tenant_only, counts)
    connection.set_schema_to_public()
    return counts


def _models_with_secrets(app_names: list[str]) -> Iterator[tuple[type, list]]:
    for model in apps.get_models():
        if model._meta.app_config.name not in app_names:
            continue
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if fields:
            yield model, fields


def _rotate_in_current_schema(app_names: list[str], counts: dict[str, int]) -> None:
    for model, fields in _models_with_secrets(app_names):
        table = model._meta.db_table
        pk = model._meta.pk.column
        rotated = 0
        with connection.cursor() as cursor:
            for field in fields:
                column = field.column
                cursor.execute(
                    f'SELECT "{pk}", "{column}" FROM "{table}" '  # noqa: S608 - names from models
                    f"WHERE \"{column}\" <> '' FOR UPDATE"
                )
                for row_pk, value in cursor.fetchall():
                    cursor.execute(
                        f'UPDATE "{table}" SET "{column}" = %s WHERE "{pk}" = %s',  # noqa: S608
                        [crypto.rotate(value), row_pk],
                    )
                    rotated += 1
        counts[model._meta.label] = counts.get(model._meta.label, 0) + rotated
