"""The filters of the conversations and metrics pages (query strings, validated: bad input is
a 400 with the reason, never a 500)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.agents.selectors import agent_list

METRICS_WINDOWS = (7, 30, 90)
DEFAULT_METRICS_DAYS = 30
MAX_QUERY_LENGTH = 200


def _agent_field() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        agent_list(),
        to_field_name="slug",
        required=False,
        label=_("Agent"),
        empty_label=_("All agents"),
    )


class ConversationFilterForm(forms.Form):
    agent = _agent_field()
    q = forms.CharField(label=_("Search"), required=False, max_length=MAX_QUERY_LENGTH)


def _window_choices() -> list[tuple[int, str]]:
    # A callable: the labels are translated in the language of each request.
    return [(days, _("Last %(days)s days") % {"days": days}) for days in METRICS_WINDOWS]


class MetricsFilterForm(forms.Form):
    days = forms.TypedChoiceField(
        label=_("Period"),
        choices=_window_choices,
        coerce=int,
        required=False,
        empty_value=DEFAULT_METRICS_DAYS,
    )
    agent = _agent_field()
