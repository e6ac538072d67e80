"""The team page: everyone of the company sees its people and their roles; owners change roles
and deactivate people, never leaving the company without an owner; nothing secret is shown,
and nothing of another company."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_tenants.utils import schema_context

from apps.accounts.models import Invite, Role
from apps.accounts.selectors import role_of
from tests.apps.accounts.conftest import PASSWORD, browser_of, host_of, link_in, person_make


@pytest.fixture
def olga(tenant_a):
    return person_make(tenant_a, "olga@a.test", role=Role.OWNER)


@pytest.fixture
def mia(tenant_a):
    return person_make(tenant_a, "mia@a.test", role=Role.MEMBER)


def _fresh(tenant, person):
    with schema_context(tenant.schema_name):
        user = get_user_model().objects.get(pk=person.pk)
        return user, role_of(user)


def test_the_team_page_lists_the_companys_people_and_roles(client, tenant_a, olga, mia):
    page = browser_of(client, tenant_a, mia).get("/team/")

    assert page.status_code == 200
    text = page.content.decode()
    assert "olga@a.test" in text and "mia@a.test" in text
    assert "Owner" in text and "Member" in text


def test_a_member_reads_the_team_without_its_controls(client, tenant_a, olga, mia):
    client = browser_of(client, tenant_a, mia)

    text = client.get("/team/").content.decode()
    response = client.post(f"/team/{olga.pk}/role/", {"role": Role.MEMBER})

    assert "/role/" not in text and "/active/" not in text
    assert response.status_code == 403
    assert _fresh(tenant_a, olga)[1] == Role.OWNER


def test_an_owner_changes_a_role(client, tenant_a, olga, mia):
    client = browser_of(client, tenant_a, olga)

    response = client.post(f"/team/{mia.pk}/role/", {"role": Role.ADMIN})

    assert response.status_code == 302 and response["Location"] == "/team/"
    assert _fresh(tenant_a, mia)[1] == Role.ADMIN
    assert "mia@a.test is now Admin." in client.get("/team/").content.decode()


def test_only_an_owner_changes_roles_not_an_admin(client, tenant_a, olga, mia):
    admin = person_make(tenant_a, "adam@a.test", role=Role.ADMIN)
    client = browser_of(client, tenant_a, admin)

    promote = client.post(f"/team/{admin.pk}/role/", {"role": Role.OWNER})
    demote = client.post(f"/team/{olga.pk}/role/", {"role": Role.MEMBER})
    deactivate = client.post(f"/team/{mia.pk}/active/", {"active": "0"})

    assert (promote.status_code, demote.status_code, deactivate.status_code) == (403, 403, 403)
    assert _fresh(tenant_a, admin)[1] == Role.ADMIN
    assert _fresh(tenant_a, olga)[1] == Role.OWNER
    assert _fresh(tenant_a, mia)[0].is_active


def test_the_last_owner_cannot_be_demoted_nor_deactivated(client, tenant_a, olga, mia):
    client = browser_of(client, tenant_a, olga)

    demoted = client.post(f"/team/{olga.pk}/role/", {"role": Role.ADMIN})

    deactivated = client.post(f"/team/{olga.pk}/active/", {"active": "0"})

    assert demoted.status_code == 409
    assert "The company needs an owner" in demoted.content.decode()
    assert deactivated.status_code == 409
    user, role = _fresh(tenant_a, olga)
    assert role == Role.OWNER and user.is_active


def test_an_owner_steps_down_once_there_is_another(client, tenant_a, olga, mia):
    client = browser_of(client, tenant_a, olga)
    assert client.post(f"/team/{mia.pk}/role/", {"role": Role.OWNER}).status_code == 302

    response = client.post(f"/team/{olga.pk}/role/", {"role": Role.MEMBER})

    assert response.status_code == 302
    assert _fresh(tenant_a, olga)[1] == Role.MEMBER
    assert _fresh(tenant_a, mia)[1] == Role.OWNER


def test_an_owner_deactivates_another_owner_but_not_themselves(client, tenant_a, olga):
    other = person_make(tenant_a, "otto@a.test", role=Role.OWNER)
    client = browser_of(client, tenant_a, olga)

    themselves = client.post(f"/team/{olga.pk}/active/", {"active": "0"})
    another = client.post(f"/team/{other.pk}/active/", {"active": "0"})

    assert themselves.status_code == 409
    assert "You cannot deactivate yourself." in themselves.content.decode()
    assert another.status_code == 302
    assert _fresh(tenant_a, olga)[0].is_active and not _fresh(tenant_a, other)[0].is_active


def test_a_deactivated_person_is_logged_out_and_cannot_log_in(client, tenant_a, olga, mia):
    mias = browser_of(Client(), tenant_a, mia)
    owners = browser_of(client, tenant_a, olga)

    response = owners.post(f"/team/{mia.pk}/active/", {"active": "0"})

    assert response.status_code == 302
    assert "mia@a.test is deactivated." in owners.get("/team/").content.decode()
    assert mias.get("/team/").status_code == 302  # her open session opens nothing now
    again = mias.post("/login/", {"username": "mia@a.test", "password": PASSWORD})
    assert again.status_code == 200 and "errorlist nonfield" in again.content.decode()
    assert mias.get("/team/").status_code == 302
    assert owners.post(f"/team/{mia.pk}/active/", {"active": "1"}).status_code == 302
    assert _fresh(tenant_a, mia)[0].is_active


@pytest.mark.parametrize(
    ("path", "data"),
    [("role", {"role": "emperor"}), ("role", {}), ("active", {"active": "maybe"})],
)
def test_a_bad_team_change_is_a_400(client, tenant_a, olga, mia, path, data):
    response = browser_of(client, tenant_a, olga).post(f"/team/{mia.pk}/{path}/", data)

    assert response.status_code == 400
    user, role = _fresh(tenant_a, mia)
    assert role == Role.MEMBER and user.is_active


def test_an_unknown_person_is_a_404(client, tenant_a, olga):
    response = browser_of(client, tenant_a, olga).post("/team/999999/role/", {"role": "admin"})

    assert response.status_code == 404


def test_the_team_of_one_company_lists_nobody_of_another(client, tenant_a, tenant_b, olga):
    person_make(tenant_b, "bruno@b.test", role=Role.OWNER)

    text = browser_of(client, tenant_a, olga).get("/team/").content.decode()

    assert "olga@a.test" in text
    assert "bruno@b.test" not in text


def test_a_login_on_one_company_opens_no_team_of_another(client, tenant_a, tenant_b, olga):
    client = browser_of(client, tenant_a, olga)
    bruno = person_make(tenant_b, "bruno@b.test", role=Role.MEMBER)

    page = client.get("/team/", HTTP_HOST=host_of(tenant_b))
    change = client.post(
        f"/team/{bruno.pk}/role/", {"role": Role.OWNER}, HTTP_HOST=host_of(tenant_b)
    )

    assert page.status_code == 302 and page["Location"].startswith("/login/")
    assert change.status_code == 302
    assert _fresh(tenant_b, bruno)[1] == Role.MEMBER


def test_nothing_secret_is_on_the_team_page(client, tenant_a, olga, mia, mailoutbox):
    client = browser_of(client, tenant_a, olga)
    client.post("/team/invite/", {"email": "noor@a.test", "role": Role.MEMBER})
    token = link_in(mailoutbox[0], r"/invite/[A-Za-z0-9_-]+/").split("/")[2]
    with schema_context(tenant_a.schema_name):
        hashes = list(get_user_model().objects.values_list("password", flat=True))
        token_hash = Invite.objects.get().token_hash

    text = client.get("/team/").content.decode()

    assert "noor@a.test" in text  # the pending invitation is listed
    for secret in [token, token_hash, *hashes]:
        assert secret not in text
    assert "md5$" not in text and "pbkdf2" not in text
