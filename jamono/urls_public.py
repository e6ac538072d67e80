"""URLs served on the public schema: operators' admin, health, and (later) Slack endpoints."""

from django.contrib import admin
from django.urls import path

urlpatterns = [
    path("admin/", admin.site.urls),
]
