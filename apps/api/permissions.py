"""What a caller may do: a key, everything (read-write) or safe methods only (read-only); a
person logged in on the company's site, what their Django permissions allow on the view's
model (``view`` to read, ``add``/``change``/``delete`` to write; superusers hold them all)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from apps.api.models import ApiKey

# Django's permission actions by HTTP method; a view may name its own (``permission_action``).
ACTION_BY_METHOD = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


def model_permission(model, action: str) -> str:
    """``<app_label>.<action>_<model>``, as ``User.has_perm`` expects it."""
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


class ApiAccess(BasePermission):
    message = _("You may not do this with this API key or account.")

    def has_permission(self, request, view) -> bool:
        if isinstance(request.auth, ApiKey):
            if request.method in SAFE_METHODS or not request.auth.read_only:
                return True
            self.message = _("This API key is read-only: it may only read (GET).")
            return False
        user = request.user
        if not (user and user.is_authenticated and user.is_staff):
            return False
        model = getattr(view, "permission_model", None)
        if model is None:
            return user.is_superuser
        action = (getattr(view, "permission_actions", None) or {}).get(request.method)
        action = action or ACTION_BY_METHOD.get(request.method, "change")
        return user.has_perm(model_permission(model, action))
