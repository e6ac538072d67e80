from django.contrib import admin

from apps.agents.models import Agent
from apps.core.admin_sites import tenant_admin_site


@admin.register(Agent, site=tenant_admin_site)
class AgentAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "title",
        "model",
        "temperature",
        "context_size",
        "command_prefix",
        "enabled",
    ]
    list_filter = ["enabled"]
    search_fields = ["slug", "name", "title"]
    # The definition's tools are the defaults only: each tool is switched per agent on the
    # "Agent tools" page.
    readonly_fields = ["slug", "allowed_tools", "created_at", "updated_at"]
