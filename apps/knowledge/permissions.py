"""Who may do what with a tenant's knowledge: staff of that tenant who hold the model
permission on documents that the action needs (superusers hold them all)."""

from __future__ import annotations

from apps.knowledge.models import Document

# The actions Django gives every model a permission for.
VIEW, ADD, CHANGE, DELETE = "view", "add", "change", "delete"


def document_permission(action: str) -> str:
    """``knowledge.<action>_document``, as ``User.has_perm`` expects it."""
    return f"{Document._meta.app_label}.{action}_{Document._meta.model_name}"
