from django.contrib import admin

from apps.core.admin_sites import tenant_admin_site
from apps.votes.models import ApprovalPolicy, Ballot, Vote, VoteExecution


@admin.register(ApprovalPolicy, site=tenant_admin_site)
class ApprovalPolicyAdmin(admin.ModelAdmin):
    """Who must approve which calls. A tool's own row wins over its risk level's; with no
    row, read runs, write needs one approval and dangerous two thirds, from the thread."""

    list_display = ["__str__", "tool", "risk", "rule", "quorum", "expires_in", "counts_advisory"]
    list_filter = ["rule", "risk"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Audit: nothing is added, edited or deleted here."""

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name != "arguments_raw"]

    def get_exclude(self, request, obj=None):
        return ["arguments_raw"]  # the unmasked arguments are for the worker only

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class BallotInline(admin.TabularInline):
    model = Ballot
    extra = 0
    fields = ["voter", "choice", "advisory", "reason", "history", "updated_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Vote, site=tenant_admin_site)
class VoteAdmin(ReadOnlyAdmin):
    list_display = ["pk", "created_at", "agent", "tool", "status", "deadline", "requested_by"]
    list_filter = ["status", "tool", "agent"]
    search_fields = ["tool", "requested_by"]
    date_hierarchy = "created_at"
    inlines = [BallotInline]


@admin.register(Ballot, site=tenant_admin_site)
class BallotAdmin(ReadOnlyAdmin):
    list_display = ["vote", "voter", "choice", "advisory", "updated_at"]
    list_filter = ["choice", "advisory"]


@admin.register(VoteExecution, site=tenant_admin_site)
class VoteExecutionAdmin(ReadOnlyAdmin):
    list_display = ["vote", "status", "summary", "started_at", "finished_at"]
    list_filter = ["status"]
