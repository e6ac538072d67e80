from django.contrib import admin
from django_tenants.admin import TenantAdminMixin

from apps.tenants.models import Domain, Tenant


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Tenant)
class TenantAdmin(TenantAdminMixin, admin.ModelAdmin):
    list_display = ["schema_name", "name", "created_at"]
    search_fields = ["schema_name", "name"]
    readonly_fields = ["created_at"]
    inlines = [DomainInline]

    def get_readonly_fields(self, request, obj=None):
        # Renaming a schema under a live tenant would orphan its data.
        return [*self.readonly_fields, "schema_name"] if obj else self.readonly_fields


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ["domain", "tenant", "is_primary"]
    search_fields = ["domain", "tenant__schema_name"]
    list_select_related = ["tenant"]
