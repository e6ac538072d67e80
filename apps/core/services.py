"""Writes that span apps: key rotation of encrypted fields."""

from __future__ import annotations

from django.apps import apps
from django.db import connection, transaction

from apps.core import crypto
from apps.core.fields import EncryptedTextField


@transaction.atomic
def encrypted_fields_rotate() -> dict[str, int]:
    """Re-encrypt every EncryptedTextField value in the public schema with the first key.

    Reads raw column values (no decryption round-trip through the model) and writes them back
    rotated, row by row, in one transaction: either every value moves to the new key or none.
    Only shared (public-schema) models hold secrets today.
    """
    counts: dict[str, int] = {}
    connection.set_schema_to_public()
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if not fields:
            continue
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
        counts[model._meta.label] = rotated
    return counts
