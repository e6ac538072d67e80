"""A company signing up: checked and stored at once, its tenant created by a worker while the
person watches the progress (creating a schema runs every migration: seconds, not a request's
worth of time)."""

from __future__ import annotations

import logging
import re
import unicodedata

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext as _
from django_tenants.utils import get_tenant_model, schema_context

from apps.agents.models import Agent
from apps.core.tenant_tasks import enqueue_public
from apps.onboarding.models import Signup
from apps.tenants.services import tenant_create, tenant_default_domain
from apps.tools.services import agent_tool_set

logger = logging.getLogger(__name__)

SIGNUP_PROVISION_TASK = "apps.onboarding.tasks.signup_provision_task"
# Schema names that would be confusing or collide with PostgreSQL's own.
RESERVED_SCHEMAS = {"public", "information_schema", "admin", "www", "api", "static", "slack"}


def schema_name_for(company_name: str) -> str:
    """A free schema name made from the company's name: "Acme Corp." → "acme_corp" (then
    "acme_corp_2", … when taken)."""
    ascii_name = unicodedata.normalize("NFKD", company_name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")[:40] or "company"
    if not base[0].isalpha():
        base = f"c_{base}"
    taken_tenants = set(get_tenant_model().objects.values_list("schema_name", flat=True))
    taken = taken_tenants | set(Signup.objects.values_list("schema_name", flat=True))
    candidate, number = base, 1
    while candidate in taken or candidate in RESERVED_SCHEMAS or candidate.startswith("pg_"):
        number += 1
        candidate = f"{base}_{number}"
    return candidate


def signup_allowed_from(address: str) -> bool:
    """Counts this sign-up against its client address: False past the hourly allowance."""
    key = f"signup-attempts:{address or 'unknown'}"
    cache.add(key, 0, timeout=3600)
    try:
        attempts = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3600)
        attempts = 1
    return attempts <= settings.SIGNUPS_PER_ADDRESS_PER_HOUR


@transaction.atomic
def signup_start(*, company_name: str, admin_email: str, password: str, language: str) -> Signup:
    """Store the sign-up (password hashed) and ask a worker to create the tenant."""
    signup = Signup.objects.create(
        company_name=company_name.strip(),
        schema_name=schema_name_for(company_name),
        admin_email=admin_email.strip().lower(),
        password_hash=make_password(password),
        language=language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE,
        status=Signup.Status.QUEUED,
        step=_("Waiting for a worker…"),
        progress=5,
    )
    enqueue_public(SIGNUP_PROVISION_TASK, kwargs={"signup_id": signup.pk})
    return signup


def _progress(signup: Signup, *, status: str, step: str, progress: int) -> None:
    signup.status, signup.step, signup.progress = status, step, progress
    signup.save(update_fields=["status", "step", "progress", "updated_at"])


def signup_provision(signup_id: int) -> Signup | None:
    """Create the tenant (schema, agents, starter knowledge) and its first admin, showing each
    step. Idempotent: a sign-up already ready is left alone; a failed one can run again."""
    signup = Signup.objects.filter(pk=signup_id).first()
    if signup is None or signup.status == Signup.Status.READY:
        return signup
    try:
        _progress(
            signup,
            status=Signup.Status.CREATING,
            step=_("Creating your workspace: database, agents and starter runbooks…"),
            progress=20,
        )
        tenant_create(
            schema_name=signup.schema_name, name=signup.company_name, language=signup.language
        )
        _progress(
            signup,
            status=Signup.Status.CREATING,
            step=_("Creating your administrator account…"),
            progress=85,
        )
        with schema_context(signup.schema_name):
            user_model = get_user_model()
            if not user_model.objects.filter(username=signup.admin_email).exists():
                user_model.objects.create(
                    username=signup.admin_email,
                    email=signup.admin_email,
                    password=signup.password_hash,  # already hashed
                    is_staff=True,
                    is_superuser=True,
                )
    except Exception as exc:
        logger.exception("Sign-up %s failed", signup.pk)
        signup.error = f"{type(exc).__name__}: {exc}"[:2000]
        _progress(signup, status=Signup.Status.FAILED, step=_("Something went wrong."), progress=0)
        return signup
    signup.password_hash = ""  # the account holds it now
    signup.error = ""
    signup.save(update_fields=["password_hash", "error", "updated_at"])
    _progress(signup, status=Signup.Status.READY, step=_("Your workspace is ready."), progress=100)
    return signup


def signup_workspace_url(signup: Signup, *, request_host: str, scheme: str) -> str:
    """Where the new workspace answers: its own host name, on the port the site was reached."""
    port = request_host.rpartition(":")[2] if ":" in request_host else ""
    tenant = get_tenant_model().objects.filter(schema_name=signup.schema_name).first()
    primary = tenant.get_primary_domain() if tenant is not None else None
    domain = primary.domain if primary is not None else tenant_default_domain(signup.schema_name)
    return f"{scheme}://{domain}{':' + port if port else ''}/setup/"


def setup_agents_save(choices: dict[str, tuple[bool, dict[str, bool]]]) -> None:
    """Switch agents and their tools on or off, as chosen on the set-up page (one
    transaction: a half-saved choice is never left behind)."""
    with transaction.atomic():
        for agent in Agent.objects.filter(slug__in=choices):
            enabled, tools = choices[agent.slug]
            if agent.enabled != enabled:
                agent.enabled = enabled
                agent.save(update_fields=["enabled"])
            for tool, tool_enabled in tools.items():
                agent_tool_set(agent, tool, enabled=tool_enabled)
