from django.contrib import admin

from apps.accounts.models import Invite
from apps.core.admin_sites import tenant_admin_site


@admin.register(Invite, site=tenant_admin_site)
class InviteAdmin(admin.ModelAdmin):
    """Invitations are sent from the team page (which e-mails the link); here they are read,
    and withdrawn by deleting them. The token's hash is not shown."""

    list_display = ["email", "role", "invited_by", "created_at", "expires_at", "accepted_at"]
    fields = ["email", "role", "invited_by", "created_at", "expires_at", "accepted_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
