from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _


class SignupForm(forms.Form):
    company_name = forms.CharField(label=_("Company"), max_length=100, strip=True)
    admin_email = forms.EmailField(label=_("Your work e-mail"), max_length=254)
    password = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput, strip=False, max_length=128
    )

    def clean_company_name(self) -> str:
        name = self.cleaned_data["company_name"]
        if not any(character.isalnum() for character in name):
            raise forms.ValidationError(_("Give your company’s name, with letters or digits."))
        return name

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        validate_password(password)
        return password


class AgentsChoiceForm(forms.Form):
    """One "enabled" box per agent and one box per tool the agent may use (built from the
    company's agents and the tool catalogue, so an unknown name can never be set)."""

    def __init__(self, *args, rows, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows  # [(agent, [(tool name, title, enabled)])]
        for agent, tools in rows:
            self.fields[f"agent-{agent.slug}"] = forms.BooleanField(
                label=agent.name, required=False, initial=agent.enabled
            )
            for name, title, enabled in tools:
                self.fields[f"tool-{agent.slug}-{name}"] = forms.BooleanField(
                    label=title, required=False, initial=enabled
                )

    def clean(self):
        cleaned = super().clean()
        if self.rows and not any(cleaned.get(f"agent-{agent.slug}") for agent, _ in self.rows):
            raise forms.ValidationError(_("Keep at least one agent: it is who answers in Slack."))
        return cleaned

    def choices(self) -> dict[str, tuple[bool, dict[str, bool]]]:
        """{agent slug: (enabled, {tool: enabled})} from the valid form."""
        return {
            agent.slug: (
                self.cleaned_data[f"agent-{agent.slug}"],
                {name: self.cleaned_data[f"tool-{agent.slug}-{name}"] for name, _t, _e in tools},
            )
            for agent, tools in self.rows
        }

    def agent_rows(self):
        """For the template: each agent's box and its tools' boxes."""
        return [
            (
                self[f"agent-{agent.slug}"],
                [self[f"tool-{agent.slug}-{name}"] for name, _t, _e in tools],
            )
            for agent, tools in self.rows
        ]
