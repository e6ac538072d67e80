"""API keys: made by ``create_api_key`` (shown once, hashed), refused on another company's
host, revoked in the admin, read-only ones limited to reads; throttled per key."""

from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_context

from apps.agents.models import Agent
from apps.api.models import ApiKey
from apps.knowledge.models import Document
from apps.tools.models import AgentTool
from tests.apps.api.conftest import key_client, key_make
from tests.apps.api.problems import problem_of
from tests.factories import DocumentFactory, tenant_browser, tenant_make

AGENTS_URL = "/api/v1/agents/"


@pytest.mark.django_db(transaction=True)
def test_create_api_key_prints_a_key_once_that_opens_the_api_of_its_company(manage_py):
    tenant_a = tenant_make()

    result = manage_py("create_api_key", tenant_a.schema_name, "--name", "ci")

    assert result.returncode == 0, result.stderr
    key = result.stdout.strip().splitlines()[-1]
    assert result.stdout == f"{key}\n"
    with schema_context(tenant_a.schema_name):
        stored = ApiKey.objects.get(name="ci")
        assert not stored.read_only
        assert key not in (stored.hashed_key, stored.id)  # only its hash is kept
    response = key_client(tenant_a, key).get(AGENTS_URL)
    assert response.status_code == 200
    assert {agent["slug"] for agent in response.json()["results"]} >= {"nox"}


def test_create_api_key_refuses_a_name_in_use_unless_rotated(tenant_a):
    old_key = key_make(tenant_a, name="ci")

    with pytest.raises(CommandError, match="--rotate") as refused:
        call_command("create_api_key", tenant_a.schema_name, "--name", "ci", stdout=StringIO())
    printed = StringIO()
    call_command("create_api_key", tenant_a.schema_name, "--name", "ci", "--rotate", stdout=printed)

    assert "\n" not in str(refused.value)
    new_key = printed.getvalue().strip()
    problem_of(key_client(tenant_a, old_key).get(AGENTS_URL), 401)
    assert key_client(tenant_a, new_key).get(AGENTS_URL).status_code == 200


def test_create_api_key_refuses_an_unknown_company(db):
    with pytest.raises(CommandError, match="no tenant"):
        call_command("create_api_key", "no_such_company", "--name", "ci", "--read-only")


def test_create_api_key_makes_a_read_only_key_when_asked(tenant_a):
    printed = StringIO()

    call_command(
        "create_api_key", tenant_a.schema_name, "--name", "bi", "--read-only", stdout=printed
    )

    with schema_context(tenant_a.schema_name):
        assert ApiKey.objects.get(name="bi").read_only
    client = key_client(tenant_a, printed.getvalue().strip())
    assert client.get(AGENTS_URL).status_code == 200
    problem_of(
        client.patch(f"{AGENTS_URL}nox/", {"enabled": False}, content_type="application/json"), 403
    )


def test_a_key_of_company_a_is_refused_on_company_b_host(tenant_a, tenant_b):
    key = key_make(tenant_a)
    assert key_client(tenant_a, key).get(AGENTS_URL).status_code == 200

    response = key_client(tenant_b, key).get(AGENTS_URL)

    body = problem_of(response, 401)
    assert "not valid here" in body["detail"]
    assert response["WWW-Authenticate"] == "Api-Key"


@pytest.mark.parametrize(
    "authorization",
    ["Api-Key", "Api-Key not-a-key", "Api-Key a b", "Bearer something", "Basic YTpi"],
)
def test_a_missing_or_malformed_key_is_401_with_a_problem(client, tenant_a, authorization):
    key_make(tenant_a)

    response = client.get(
        AGENTS_URL,
        HTTP_HOST=tenant_a.get_primary_domain().domain,
        HTTP_AUTHORIZATION=authorization,
    )

    problem_of(response, 401)


def test_a_revoked_key_is_refused(tenant_a):
    key = key_make(tenant_a)
    with schema_context(tenant_a.schema_name):
        stored = ApiKey.objects.get(name="ci")
        stored.revoked = True
        stored.save()

    problem_of(key_client(tenant_a, key).get(AGENTS_URL), 401)


def test_a_key_used_is_marked_with_when(tenant_a, key_a):
    assert key_a.get(AGENTS_URL).status_code == 200

    with schema_context(tenant_a.schema_name):
        assert ApiKey.objects.get(name="ci").last_used_at is not None


def _write_requests(document_id: int) -> dict:
    return {
        "agent settings": ("patch", f"{AGENTS_URL}nox/", {"temperature": 0.1}),
        "tool switch": ("put", f"{AGENTS_URL}nox/tools/http_probe/", {"enabled": False}),
        "tool switch (patch)": ("patch", f"{AGENTS_URL}nox/tools/http_probe/", {"enabled": False}),
        "reindex": ("post", f"/api/v1/knowledge/documents/{document_id}/reindex/", None),
        "delete": ("delete", f"/api/v1/knowledge/documents/{document_id}/", None),
    }


def test_a_read_only_key_can_read_but_write_nothing(tenant_a, read_only_key_a):
    with schema_context(tenant_a.schema_name):
        document = DocumentFactory()
        before = (
            list(Agent.objects.values_list("slug", "temperature")),
            list(AgentTool.objects.values_list("agent__slug", "tool", "enabled")),
        )
    assert read_only_key_a.get(AGENTS_URL).status_code == 200

    responses = {
        name: getattr(read_only_key_a, method)(url, body, content_type="application/json")
        for name, (method, url, body) in _write_requests(document.pk).items()
    }
    responses["upload"] = read_only_key_a.post(
        "/api/v1/knowledge/documents/", {"file": SimpleUploadedFile("a.md", b"# A\n\nText.")}
    )

    for name, response in responses.items():
        assert "read-only" in problem_of(response, 403)["detail"], name
    with schema_context(tenant_a.schema_name):
        after = (
            list(Agent.objects.values_list("slug", "temperature")),
            list(AgentTool.objects.values_list("agent__slug", "tool", "enabled")),
        )
        assert after == before
        assert Document.objects.filter(pk=document.pk).exists()
        assert not Document.objects.filter(key="a.md").exists()


def test_a_read_write_key_writes(tenant_a, key_a):
    with schema_context(tenant_a.schema_name):
        document = DocumentFactory()

    responses = {
        name: getattr(key_a, method)(url, body, content_type="application/json")
        for name, (method, url, body) in _write_requests(document.pk).items()
        if name != "reindex"  # a factory document has no stored file: tested with uploads
    }

    assert {name: r.status_code for name, r in responses.items()} == {
        "agent settings": 200,
        "tool switch": 200,
        "tool switch (patch)": 200,
        "delete": 204,
    }


def test_requests_over_the_rate_are_429_per_key(settings, tenant_a):
    settings.API_RATE_LIMIT = "2/minute"
    busy = key_client(tenant_a, key_make(tenant_a, name="busy"))
    calm = key_client(tenant_a, key_make(tenant_a, name="calm"))

    statuses = [busy.get(AGENTS_URL).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    response = busy.get(AGENTS_URL)
    problem_of(response, 429)
    assert int(response["Retry-After"]) > 0
    assert calm.get(AGENTS_URL).status_code == 200


def test_a_key_made_in_the_company_admin_is_shown_once_and_works(client, tenant_a):
    browser = tenant_browser(client, tenant_a)

    response = browser.post(
        "/admin/api/apikey/add/", {"name": "bi", "read_only": "on"}, follow=True
    )

    shown = [str(m) for m in response.context["messages"] if " is: " in str(m)]
    assert len(shown) == 1
    key = shown[0].split(" is: ")[1].split(". ")[0]
    with schema_context(tenant_a.schema_name):
        assert ApiKey.objects.get(name="bi").read_only
    assert key_client(tenant_a, key).get(AGENTS_URL).status_code == 200
    listing = browser.get("/admin/api/apikey/").content.decode()
    assert key not in listing
