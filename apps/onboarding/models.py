import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class Signup(models.Model):
    """A company signing up: kept in the public schema while its tenant is created, and after
    (what was asked, when, and how it went). The admin's password is kept hashed, and only
    until their account exists."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("waiting to start")
        CREATING = "creating", _("creating your workspace")
        READY = "ready", _("ready")
        FAILED = "failed", _("failed")

    token = models.UUIDField(_("token"), default=uuid.uuid4, unique=True, editable=False)
    company_name = models.CharField(_("company"), max_length=100)
    schema_name = models.CharField(_("schema"), max_length=63, unique=True)
    admin_email = models.EmailField(_("admin e-mail"))
    password_hash = models.CharField(_("password (hashed)"), max_length=256, blank=True)
    language = models.CharField(_("language"), max_length=8)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    step = models.CharField(_("current step"), max_length=120, blank=True)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("sign-up")
        verbose_name_plural = _("sign-ups")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.company_name} ({self.get_status_display()})"
