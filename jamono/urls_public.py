"""URLs served on the public schema: operators' admin, health, and (later) Slack endpoints."""

from django.contrib import admin
from django.urls import path

from apps.core.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
