from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from apps.agents.models import Agent


class DocumentUploadForm(forms.Form):
    file = forms.FileField(label=_("Document"))
    agent = forms.ModelChoiceField(
        label=_("Only for agent"),
        queryset=Agent.objects.none(),
        required=False,
        empty_label=_("all agents"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agent"].queryset = Agent.objects.order_by("slug")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.KNOWLEDGE_MAX_FILE_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("%(name)s is %(size)s bytes, over the %(limit)s-byte limit.")
                % {"name": upload.name, "size": f"{upload.size:,}", "limit": f"{limit:,}"}
            )
        return upload
