from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from apps.integrations.slack.models import (
    SlackInstallInviteUse,
    SlackInstallState,
    SlackWorkspace,
)


class SlackWorkspaceForm(forms.ModelForm):
    """The token is write-only: the form never renders it back; blank keeps the stored one."""

    new_bot_token = forms.CharField(
        label=_("bot token"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave blank to keep the stored token."),
    )

    class Meta:
        model = SlackWorkspace
        fields = ["tenant", "team_id", "team_name", "bot_user_id", "app_id", "scopes", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.fields["new_bot_token"].required = True

    def save(self, commit=True):
        workspace = super().save(commit=False)
        # Separate form fields (not the model's): a blank entry must not reach the model.
        if self.cleaned_data.get("new_bot_token"):
            workspace.bot_token = self.cleaned_data["new_bot_token"]
        if commit:
            workspace.save()
        return workspace


@admin.register(SlackWorkspace)
class SlackWorkspaceAdmin(admin.ModelAdmin):
    form = SlackWorkspaceForm
    list_display = ["team_id", "team_name", "tenant", "bot_user_id", "is_active", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["team_id", "team_name", "tenant__schema_name"]
    list_select_related = ["tenant"]


@admin.register(SlackInstallState)
class SlackInstallStateAdmin(admin.ModelAdmin):
    """Read-only: "Add to Slack" attempts, to see why an install did not finish."""

    list_display = ["tenant", "created_at", "expires_at", "consumed_at"]
    list_filter = ["tenant"]
    list_select_related = ["tenant"]
    fields = ["tenant", "created_at", "expires_at", "consumed_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SlackInstallInviteUse)
class SlackInstallInviteUseAdmin(admin.ModelAdmin):
    """Read-only: which invite installed which workspace (an invite works once)."""

    list_display = ["tenant", "team_id", "used_at"]
    list_select_related = ["tenant"]
    fields = ["tenant", "team_id", "used_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
