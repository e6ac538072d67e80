from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from apps.core.admin_sites import tenant_admin_site
from apps.integrations.jira.models import JiraConnection


class JiraConnectionForm(forms.ModelForm):
    """The token is write-only: the form never renders it back; blank keeps the stored one.

    Saved here, a connection is not checked live: ``manage.py connect_jira`` does that (and
    resolves fields by name)."""

    url = forms.URLField(label=_("Jira URL"), max_length=300, assume_scheme="https")
    new_api_token = forms.CharField(
        label=_("API token"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave blank to keep the stored token."),
    )

    class Meta:
        model = JiraConnection
        fields = ["url", "email", "project_key", "issue_type", "field_values", "field_names"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.fields["new_api_token"].required = True

    def save(self, commit=True):
        jira = super().save(commit=False)
        # A separate form field (not the model's): a blank entry must not reach the model.
        if self.cleaned_data.get("new_api_token"):
            jira.api_token = self.cleaned_data["new_api_token"]
        if commit:
            jira.save()
        return jira


@admin.register(JiraConnection, site=tenant_admin_site)
class JiraConnectionAdmin(admin.ModelAdmin):
    form = JiraConnectionForm
    list_display = ["url", "email", "project_key", "issue_type", "account_name", "verified_at"]
    readonly_fields = ["server_title", "account_name", "verified_at", "created_at", "updated_at"]

    def has_add_permission(self, request):
        # One connection per tenant.
        return super().has_add_permission(request) and not JiraConnection.objects.exists()
