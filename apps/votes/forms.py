"""The filter of the votes page (a query string, validated: bad input is a 400)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.votes.models import Vote


class VoteFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("Any status")), *Vote.Status.choices],
        required=False,
    )
