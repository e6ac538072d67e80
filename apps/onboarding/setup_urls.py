"""The set-up wizard's pages on a company's own host (mounted under ``/setup/``)."""

from django.urls import path

from apps.onboarding import setup_views

urlpatterns = [
    path("", setup_views.setup_overview, name="setup"),
    path("agents/", setup_views.setup_agents, name="setup-agents"),
    path("done/", setup_views.setup_done, name="setup-done"),
    path("skip/<slug:step>/", setup_views.setup_skip, name="setup-skip"),
]
