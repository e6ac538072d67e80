"""The company's API keys page: a key made there is shown once and works; revoked there, it
stops working; people see and do what their permissions on API keys allow; another company's
page never lists this one's keys."""

import re

from django.test import Client
from django_tenants.utils import schema_context

from apps.api.models import ApiKey
from tests.apps.api.conftest import key_client, key_make
from tests.factories import tenant_browser

PAGE = "/api-keys/"


def _shown_key(response) -> str:
    match = re.search(
        r'<code id="new-key-value" translate="no">([^<]+)</code>', response.content.decode()
    )
    assert match, response.content.decode()
    return match.group(1)


def test_a_key_made_on_the_page_is_shown_once_and_opens_the_api(client, tenant_a):
    browser = tenant_browser(client, tenant_a)

    made = browser.post(PAGE, {"name": "nightly report", "read_only": "on"})

    assert made.status_code == 201
    assert "no-store" in made["Cache-Control"]
    key = _shown_key(made)
    assert key_client(tenant_a, key).get("/api/v1/agents/").status_code == 200
    listed = browser.get(PAGE).content.decode()
    assert "nightly report" in listed
    assert key not in listed
    assert key.split(".")[0] in listed  # its prefix, to tell keys apart
    with schema_context(tenant_a.schema_name):
        assert ApiKey.objects.get(name="nightly report").read_only


def test_a_name_in_use_is_refused_with_the_reason(client, tenant_a):
    key_make(tenant_a, name="ci")
    browser = tenant_browser(client, tenant_a)

    response = browser.post(PAGE, {"name": "ci"})

    assert response.status_code == 400
    assert "already has this name" in response.content.decode()
    assert 'id="new-key-value"' not in response.content.decode()


def test_a_key_revoked_on_the_page_stops_working(client, tenant_a):
    key = key_make(tenant_a, name="ci")
    browser = tenant_browser(client, tenant_a)

    response = browser.post(f"{PAGE}{key.split('.')[0]}/revoke/", follow=True)

    assert response.status_code == 200
    assert key_client(tenant_a, key).get("/api/v1/agents/").status_code == 401
    assert "revoked" in response.content.decode()


def test_a_person_who_may_only_view_keys_reads_the_list_and_changes_nothing(client, tenant_a):
    key = key_make(tenant_a, name="ci")
    viewer = tenant_browser(client, tenant_a, superuser=False, permissions=("view_apikey",))

    page = viewer.get(PAGE)

    assert page.status_code == 200
    assert "ci" in page.content.decode()
    assert "Make the key" not in page.content.decode()
    assert viewer.post(PAGE, {"name": "mine"}).status_code == 403
    assert viewer.post(f"{PAGE}{key.split('.')[0]}/revoke/").status_code == 403
    with schema_context(tenant_a.schema_name):
        assert list(ApiKey.objects.values_list("name", "revoked")) == [("ci", False)]


def test_a_person_without_the_view_permission_is_refused(client, tenant_a):
    staff = tenant_browser(client, tenant_a, superuser=False)

    assert staff.get(PAGE).status_code == 403


def test_company_b_page_neither_lists_nor_revokes_company_a_keys(client, tenant_a, tenant_b):
    key = key_make(tenant_a, name="payments-ci")
    browser_b = tenant_browser(Client(), tenant_b)

    assert "payments-ci" not in browser_b.get(PAGE).content.decode()
    assert browser_b.post(f"{PAGE}{key.split('.')[0]}/revoke/").status_code == 404
    assert key_client(tenant_a, key).get("/api/v1/agents/").status_code == 200
