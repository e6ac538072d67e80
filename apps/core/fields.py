"""Model fields that keep secrets encrypted in the database."""

from __future__ import annotations

from django.db import models

from apps.core import crypto


class EncryptedTextField(models.TextField):
    """Stores text encrypted with Fernet; Python code sees plaintext, the column ciphertext.

    Not searchable or orderable by content, by design. Empty strings stay empty (nothing to
    hide, and it keeps "not configured" queryable).
    """

    description = "Text encrypted at rest"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(value)
