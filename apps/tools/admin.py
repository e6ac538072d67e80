from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.core.admin_sites import tenant_admin_site
from apps.tools.models import (
    AgentTool,
    Incident,
    PostmortemMeeting,
    ProbeAllowedHost,
    ToolCallRecord,
)
from apps.tools.services import incident_retry


@admin.register(AgentTool, site=tenant_admin_site)
class AgentToolAdmin(admin.ModelAdmin):
    """The tenant's switches: which tools each agent may use (a tool is offered only when
    its integration is connected as well)."""

    list_display = ["agent", "tool", "enabled"]
    list_editable = ["enabled"]
    list_filter = ["agent", "enabled"]
    readonly_fields = ["agent", "tool"]

    def has_add_permission(self, request):
        return False  # one switch per agent and tool exists already (agent_tools_sync)


@admin.register(ToolCallRecord, site=tenant_admin_site)
class ToolCallRecordAdmin(admin.ModelAdmin):
    """The audit trail: read-only, nothing is edited or deleted here."""

    list_display = [
        "created_at",
        "agent",
        "tool",
        "risk",
        "status",
        "summary",
        "requested_by",
        "duration_ms",
    ]
    list_filter = ["status", "risk", "tool", "agent"]
    search_fields = ["tool", "summary", "requested_by", "error"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Incident, site=tenant_admin_site)
class IncidentAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "summary",
        "status",
        "ticket_key",
        "missing_fields",
        "attempts",
        "updated_at",
    ]
    list_filter = ["status"]
    search_fields = ["summary", "ticket_key"]
    readonly_fields = [
        "tool_call",
        "idempotency_key",
        "status",
        "missing_fields",
        "last_error",
        "attempts",
        "ticket_key",
        "ticket_url",
        "created_at",
        "updated_at",
    ]
    actions = ["retry_now"]

    def has_add_permission(self, request):
        return False  # an incident is a ticket an agent could not create, never typed in

    @admin.action(description=_("Create the ticket in Jira now"))
    def retry_now(self, request, queryset):
        ticketed = sum(incident_retry(pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            ngettext("%(count)d incident ticketed.", "%(count)d incidents ticketed.", ticketed)
            % {"count": ticketed},
            messages.SUCCESS if ticketed else messages.WARNING,
        )


@admin.register(PostmortemMeeting, site=tenant_admin_site)
class PostmortemMeetingAdmin(admin.ModelAdmin):
    list_display = ["title", "start", "time_zone", "sequence", "jira_key"]
    readonly_fields = ["conversation", "uid", "sequence"]

    def has_add_permission(self, request):
        return False  # scheduled by an agent in a thread


@admin.register(ProbeAllowedHost, site=tenant_admin_site)
class ProbeAllowedHostAdmin(admin.ModelAdmin):
    list_display = ["pattern", "note", "created_at"]
    search_fields = ["pattern", "note"]
