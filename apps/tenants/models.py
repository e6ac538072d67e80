from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin


class Tenant(TenantMixin):
    """A customer company. Its data lives in its own PostgreSQL schema (``schema_name``)."""

    name = models.CharField(_("name"), max_length=200)
    # What the agents' fixed texts (placeholders, notices, slash commands) are written in.
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    # Creating a tenant creates and migrates its schema; deleting one never drops data
    # silently (an operator drops the schema on purpose).
    auto_create_schema = True
    auto_drop_schema = False

    class Meta:
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")
        ordering = ["schema_name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.schema_name})"


class Domain(DomainMixin):
    class Meta:
        verbose_name = _("domain")
        verbose_name_plural = _("domains")
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain
