from django.contrib import admin, messages
from django.utils.translation import gettext as _
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from apps.api.models import ApiKey
from apps.core.admin_sites import tenant_admin_site

# The library registers its own (unused) model on the operators' admin; keys belong to
# companies, in their schemas, so only the companies' admin shows them.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


@admin.register(ApiKey, site=tenant_admin_site)
class ApiKeyAdmin(APIKeyModelAdmin):
    """Keys are made here (the key is shown once, in the message after saving) or with
    ``manage.py create_api_key``; revoking one is ticking "revoked" (it cannot be undone)."""

    list_display = [*APIKeyModelAdmin.list_display, "read_only", "last_used_at"]
    list_filter = [*APIKeyModelAdmin.list_filter, "read_only", "revoked"]

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), "last_used_at")

    def save_model(self, request, obj, form=None, change=False) -> None:
        if obj.pk:
            obj.save()
            return
        key = ApiKey.objects.assign_key(obj)
        obj.save()
        messages.warning(
            request,
            _("The API key %(name)s is: %(key)s. Store it now: it is not shown again.")
            % {"name": obj.name, "key": key},
        )
