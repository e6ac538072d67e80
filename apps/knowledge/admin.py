from django.contrib import admin

from apps.core.admin_sites import tenant_admin_site
from apps.knowledge.models import Document


@admin.register(Document, site=tenant_admin_site)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["title", "key", "kind", "source", "agent", "status", "size_bytes", "updated_at"]
    list_filter = ["status", "source", "kind"]
    search_fields = ["title", "key"]
    readonly_fields = [
        "content_hash",
        "size_bytes",
        "status",
        "failed_step",
        "error",
        "created_at",
        "updated_at",
    ]
