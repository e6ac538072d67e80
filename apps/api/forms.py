from django import forms
from django.utils.translation import gettext_lazy as _

from apps.api.models import ApiKey


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=ApiKey._meta.get_field("name").max_length,
        help_text=_("What the key is for (a script, a report…); unique among usable keys."),
    )
    read_only = forms.BooleanField(
        label=_("Read-only"), required=False, help_text=_("It may read and nothing else.")
    )
