"""The filters of the actions audit page (a query string, validated: bad input is a 400)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.agents.selectors import agent_list
from apps.tools.models import ToolCallRecord
from apps.tools.selectors import tool_names_called


def _tool_choices() -> list[tuple[str, str]]:
    # A callable: the tools this tenant's audit holds, read when the form is used.
    return [("", _("Any tool")), *((name, name) for name in tool_names_called())]


class ToolCallFilterForm(forms.Form):
    agent = forms.ModelChoiceField(
        agent_list(),
        to_field_name="slug",
        required=False,
        label=_("Agent"),
        empty_label=_("All agents"),
    )
    tool = forms.ChoiceField(label=_("Tool"), choices=_tool_choices, required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("Any status")), *ToolCallRecord.Status.choices],
        required=False,
    )
