"""Sandboxed checks as tools: an HTTP probe, a DNS lookup, a TLS certificate check.

The network policy (allow-listed hosts only, private addresses refused unless listed, time and
size budgets) is in ``apps.tools.checks``; the tenant's allow-list is ``ProbeAllowedHost``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from apps.tools.checks.base import CheckRefused
from apps.tools.checks.dns_lookup import dns_lookup as dns_lookup_check
from apps.tools.checks.http_probe import http_probe as http_probe_check
from apps.tools.checks.tls_check import tls_certificate_check as tls_check
from apps.tools.models import ProbeAllowedHost
from apps.tools.registry import ToolContext, ToolOutcome, ToolRefused


def allowlist() -> list[str]:
    return list(ProbeAllowedHost.objects.values_list("pattern", flat=True))


def http_probe(context: ToolContext, args: dict[str, Any]) -> ToolOutcome:
    try:
        result = http_probe_check(args["url"], allowlist=allowlist()).as_dict()
    except CheckRefused as exc:
        raise ToolRefused(str(exc)) from exc
    return ToolOutcome(
        result=result,
        summary=_("Probed %(url)s: %(outcome)s")
        % {"url": args["url"], "outcome": result["detail"]},
    )


def dns_lookup(context: ToolContext, args: dict[str, Any]) -> ToolOutcome:
    record_type = args.get("type") or "A"
    try:
        result = dns_lookup_check(
            args["name"], record_type, nameservers=settings.DNS_NAMESERVERS or None
        )
    except CheckRefused as exc:
        raise ToolRefused(str(exc)) from exc
    return ToolOutcome(
        result=result,
        summary=_("Looked up %(type)s %(name)s") % {"type": record_type, "name": args["name"]},
    )


def tls_certificate_check(context: ToolContext, args: dict[str, Any]) -> ToolOutcome:
    port = args.get("port") or 443
    try:
        result = tls_check(args["host"], port, allowlist=allowlist())
    except CheckRefused as exc:
        raise ToolRefused(str(exc)) from exc
    return ToolOutcome(
        result=result,
        summary=_("Checked the TLS certificate of %(host)s:%(port)s")
        % {"host": args["host"], "port": port},
    )
