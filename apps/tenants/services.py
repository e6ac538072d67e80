"""Tenant lifecycle: creation (schema + migrations + starter agents) and domains."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django_tenants.utils import get_public_schema_name, schema_context

from apps.agents.services import agents_sync_definitions
from apps.knowledge.services import starter_packs_load
from apps.tenants.models import Domain, Tenant
from apps.tools.services import agent_tools_sync

SCHEMA_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{1,62}$")
RESERVED_SCHEMA_NAMES = {"public", "information_schema", "extensions"}
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9-]{1,63})*$")


class TenantValidationError(ValueError):
    """The input cannot make a tenant; the message says why in one line."""


@dataclass(frozen=True)
class TenantResult:
    tenant: Tenant
    created: bool


def tenant_schema_name_validate(schema_name: str) -> None:
    if not SCHEMA_NAME_RE.match(schema_name or ""):
        raise TenantValidationError(
            f"invalid schema name {schema_name!r}: use 2-63 lowercase letters, digits or "
            "underscores, starting with a letter"
        )
    if schema_name in RESERVED_SCHEMA_NAMES or schema_name.startswith("pg_"):
        raise TenantValidationError(f"schema name {schema_name!r} is reserved")


def tenant_domain_validate(domain: str) -> None:
    if not DOMAIN_RE.match(domain or ""):
        raise TenantValidationError(f"invalid domain {domain!r}")


def tenant_default_domain(schema_name: str) -> str:
    return f"{schema_name.replace('_', '-')}.{settings.TENANT_SUBDOMAIN_SUFFIX}"


def tenant_create(
    *, schema_name: str, name: str, domain: str | None = None, language: str | None = None
) -> TenantResult:
    """Create a tenant with its schema, domain, starter agents and starter knowledge.

    Idempotent.

    An existing tenant keeps its data; its display name is updated and the domain added if
    new. Every check runs before anything is written, so bad input changes nothing.
    """
    schema_name = (schema_name or "").strip()
    name = (name or "").strip()
    tenant_schema_name_validate(schema_name)
    if not name:
        raise TenantValidationError("a tenant needs a non-empty --name")
    if len(name) > Tenant._meta.get_field("name").max_length:
        raise TenantValidationError("tenant name is longer than 200 characters")
    if language is not None and language not in dict(settings.LANGUAGES):
        raise TenantValidationError(
            f"unknown language {language!r}: use one of {', '.join(dict(settings.LANGUAGES))}"
        )
    domain = (domain or tenant_default_domain(schema_name)).strip().lower()
    tenant_domain_validate(domain)
    owner = Domain.objects.filter(domain=domain).select_related("tenant").first()
    if owner and owner.tenant.schema_name != schema_name:
        raise TenantValidationError(
            f"domain {domain!r} already belongs to tenant {owner.tenant.schema_name!r}"
        )

    # Tenants live in the public schema, whichever schema the caller is in.
    with schema_context(get_public_schema_name()), transaction.atomic():
        tenant = Tenant.objects.select_for_update().filter(schema_name=schema_name).first()
        created = tenant is None
        if created:
            tenant = Tenant(
                schema_name=schema_name, name=name, language=language or settings.LANGUAGE_CODE
            )
            tenant.save(verbosity=0)  # creates and migrates the schema
        elif tenant.name != name or (language and tenant.language != language):
            tenant.name = name
            tenant.language = language or tenant.language
            tenant.save(update_fields=["name", "language"])
        Domain.objects.get_or_create(
            domain=domain,
            defaults={"tenant": tenant, "is_primary": not tenant.domains.exists()},
        )
        with schema_context(schema_name):
            agents_sync_definitions()
            agent_tools_sync()
            starter_packs_load()
    return TenantResult(tenant=tenant, created=created)
