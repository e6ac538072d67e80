"""The OpenAPI schema at /api/v1/schema/ is valid OpenAPI 3, declares the key, and the API
keeps to it: schemathesis fuzzes every operation (a bounded number of examples each) and finds
no 5xx, no undeclared status or content type, and no body that breaks the schema. The docs
pages load their assets from this site only."""

import re
from contextlib import contextmanager

import pytest
import schemathesis
import yaml
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from apps.agents.models import Agent
from apps.conversations.models import Conversation, Message
from tests.apps.api.conftest import key_make
from tests.factories import DocumentFactory

SCHEMA_URL = "/api/v1/schema/"
# Per operation; about two dozen operations: the whole run stays within a minute.
EXAMPLES_PER_OPERATION = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _schema(client, tenant) -> dict:
    response = client.get(
        SCHEMA_URL, {"format": "json"}, HTTP_HOST=tenant.get_primary_domain().domain
    )
    assert response.status_code == 200
    return response.json()


def test_the_schema_is_valid_openapi_3_with_the_api_key_scheme(client, tenant_a):
    schema = _schema(client, tenant_a)

    validate(schema)
    assert schema["openapi"].startswith("3.")
    assert schema["components"]["securitySchemes"]["ApiKeyAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": 'The company\'s API key, as "Api-Key <key>".',
    }
    assert "/api/v1/knowledge/documents/" in schema["paths"]
    assert all(
        {"ApiKeyAuth": []} in operation["security"]
        for path in schema["paths"].values()
        for operation in path.values()
    )


def test_the_schema_is_also_served_as_yaml(client, tenant_a):
    response = client.get(SCHEMA_URL, HTTP_HOST=tenant_a.get_primary_domain().domain)

    validate(yaml.safe_load(response.content))


@pytest.mark.parametrize("path", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_the_docs_load_every_asset_from_this_site_and_run_no_inline_script(client, tenant_a, path):
    host = tenant_a.get_primary_domain().domain

    page = client.get(path, HTTP_HOST=host).content.decode()

    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets
    assert all(asset.startswith("/") and not asset.startswith("//") for asset in assets)
    assert "<script>" not in page
    for asset in assets:
        assert client.get(asset.replace("&amp;", "&"), HTTP_HOST=host).status_code == 200, asset


@pytest.fixture
def fuzzed_tenant(tenant_a, settings):
    """Company A with something behind each kind of id, no rate limit, and a key."""
    settings.API_RATE_LIMIT = ""
    with schema_context(tenant_a.schema_name):
        conversation = Conversation.objects.create(
            agent=Agent.objects.get(slug="nox"),
            team_id="T1",
            channel_id="C1",
            channel_type="channel",
            thread_ts="1.1",
            started_by="U1",
        )
        Message.objects.create(
            conversation=conversation,
            role=Message.Role.USER,
            status=Message.Status.RECEIVED,
            channel_id="C1",
            slack_ts="1.1",
            text="how do I roll back?",
        )
        DocumentFactory()
    return tenant_a


@contextmanager
def connection_kept_across_requests():
    """The project's WSGI application, called in this thread, uses the test's connection and
    so sees the test's rows, if a request's start and end do not close it: Django's test
    client keeps it open the same way (and reconnects the receivers after each of its own
    requests, hence a block with no test client request in it)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_the_api_keeps_to_its_schema_under_fuzzing(client, fuzzed_tenant):
    tenant = fuzzed_tenant
    headers = {"Authorization": f"Api-Key {key_make(tenant)}"}
    schema = schemathesis.openapi.from_dict(_schema(client, tenant))
    schema.app = WSGIHandler()
    base_url = f"http://{tenant.get_primary_domain().domain}"
    failures = []

    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy(headers=headers))
        @hypothesis_settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case):
            case.call_and_validate(base_url=base_url, checks=CHECKS)

        try:
            with connection_kept_across_requests():
                fuzz()
        except Exception as exc:
            failures.append(f"{operation.label}: {str(exc)[:1500]}")

    assert not failures, "\n\n".join(failures)
