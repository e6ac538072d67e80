"""Who may do what with a tenant's knowledge: staff of that tenant who hold the model
permission on documents that the action needs (superusers hold them all)."""

from __future__ import annotations

from rest_framework.permissions import DjangoModelPermissions

from apps.knowledge.models import Document

# The actions Django gives every model a permission for.
VIEW, ADD, CHANGE, DELETE = "view", "add", "change", "delete"


def document_permission(action: str) -> str:
    """``knowledge.<action>_document``, as ``User.has_perm`` expects it."""
    return f"{Document._meta.app_label}.{action}_{Document._meta.model_name}"


class DocumentPermissions(DjangoModelPermissions):
    """Staff only, and the model permission each method needs: ``view`` to list, read and
    search, ``add`` to upload, ``delete`` to delete; ``change`` where a view says so (re-index).

    DRF's own class lets any authenticated user read; here reading needs ``view`` too, and the
    model is always ``Document`` (search reads chunks, which belong to documents).
    """

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_staff):
            return False
        action = getattr(view, "document_action", None)
        if action:
            return user.has_perm(document_permission(action))
        # Raises MethodNotAllowed (405) for a method it has no entry for.
        return user.has_perms(self.get_required_permissions(request.method, Document))
