from django import forms

from apps.agents.models import Agent


class AgentSettingsForm(forms.ModelForm):
    """What a company tunes of an agent: on or off, its model, temperature, context size and
    persona (the system prompt)."""

    class Meta:
        model = Agent
        fields = ["enabled", "model", "temperature", "context_size", "persona"]
        widgets = {"persona": forms.Textarea(attrs={"rows": 6})}
