"""URLs served on a tenant's own domain (its admin, dashboard and API)."""

from django.urls import include, path

from apps.core.admin_sites import tenant_admin_site

urlpatterns = [
    path("admin/", tenant_admin_site.urls),
    path("api/knowledge/", include("apps.knowledge.urls")),
]
