"""URLs served on a tenant's own domain (its admin, dashboard and API)."""

from django.urls import include, path
from django.views.generic import RedirectView

from apps.core.admin_sites import tenant_admin_site
from apps.knowledge.views import knowledge_documents

urlpatterns = [
    # The dashboard comes with the web front door (issue 15); the admin until then.
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", tenant_admin_site.urls),
    path("api/knowledge/", include("apps.knowledge.urls")),
    path("knowledge/", knowledge_documents, name="knowledge-documents"),
]
