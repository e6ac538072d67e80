"""API keys of a company: kept in its own schema, so a key of company A does not exist on
company B's host (its lookup there finds nothing)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey


class ApiKey(AbstractAPIKey):
    """A key scripts use (``Authorization: Api-Key <key>``). Only its hash is stored; the key
    itself is shown once, when it is made. Revoked keys stay, for the record."""

    read_only = models.BooleanField(
        _("read-only"),
        default=False,
        help_text=_("A read-only key may read (GET) and nothing else."),
    )
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
