"""The knowledge REST API, mounted under ``/api/knowledge/`` on a tenant's own domain."""

from django.urls import path

from apps.knowledge import api

app_name = "knowledge"

urlpatterns = [
    path("documents/", api.DocumentListUploadView.as_view(), name="document_list"),
    path("documents/<int:pk>/", api.DocumentDetailView.as_view(), name="document_detail"),
    path(
        "documents/<int:pk>/reindex/",
        api.DocumentReindexView.as_view(),
        name="document_reindex",
    ),
    path("search/", api.KnowledgeSearchView.as_view(), name="search"),
]
