"""A tenant's domain is found whatever the case of the Host header (host names are
case-insensitive): BARS.localhost is bars.localhost, not an unknown host."""

import pytest

TENANT_ADMIN_TITLE = "Jamono — company administration"


@pytest.mark.parametrize("spell", [str.lower, str.upper, str.title])
def test_a_tenant_is_found_from_its_host_name_in_any_case(client, tenant_a, spell):
    host = spell(tenant_a.get_primary_domain().domain)

    response = client.get("/admin/login/", HTTP_HOST=host)

    assert response.status_code == 200
    assert TENANT_ADMIN_TITLE in response.content.decode()


def test_a_tenant_only_page_is_served_on_an_upper_case_host(client, tenant_a):
    host = tenant_a.get_primary_domain().domain.upper()

    response = client.get("/api/v1/knowledge/documents/", HTTP_HOST=host)

    # Not authenticated (401), rather than a page the public site does not have (404).
    assert response.status_code == 401
