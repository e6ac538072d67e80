"""Two admin sites: operators' (public schema: tenants, domains, workspaces) and each
tenant's own (its agents and product data, on the tenant's domain, with its own users)."""

from django.contrib.admin import AdminSite
from django.utils.translation import gettext_lazy as _


class TenantAdminSite(AdminSite):
    site_header = _("Jamono — company administration")
    site_title = _("Jamono")
    index_title = _("Your agents and data")


tenant_admin_site = TenantAdminSite(name="tenant_admin")
