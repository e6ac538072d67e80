"""Resetting a forgotten password by e-mail: the link, on the company's own host, sets a new
password once; it opens nothing on another company's site; an unknown address learns nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from apps.accounts.models import Role
from tests.apps.accounts.conftest import host_of, link_in, logged_in, person_make

NEW_PASSWORD = "a brand new passphrase 42"
RESET_LINK = r"http://[^\s/]+/reset/[^\s/]+/[^\s/]+/"


@pytest.fixture
def mia(tenant_a):
    return person_make(tenant_a, "mia@a.test", role=Role.MEMBER)


def _reset_asked(client, tenant, email: str):
    return client.post("/password-reset/", {"email": email}, HTTP_HOST=host_of(tenant))


def _new_password_set(client, link: str):
    """Follows the e-mailed link (Django moves the token into the session, then redirects)
    and posts the new password twice."""
    opened = client.get(link)
    assert opened.status_code == 302, opened.status_code
    form_url = opened["Location"]
    return form_url, client.post(
        form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )


def test_the_reset_link_is_mailed_with_the_companys_host(client, tenant_a, mia, mailoutbox):
    response = _reset_asked(client, tenant_a, "mia@a.test")

    assert response.status_code == 302 and response["Location"] == "/password-reset/done/"
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["mia@a.test"]
    assert "Company A" in mail.subject
    assert link_in(mail, RESET_LINK).startswith(f"http://{host_of(tenant_a)}/reset/")


def test_the_link_sets_a_new_password_once(client, tenant_a, mia, mailoutbox):
    _reset_asked(client, tenant_a, "mia@a.test")
    link = link_in(mailoutbox[0], RESET_LINK)
    client.defaults["HTTP_HOST"] = host_of(tenant_a)  # the test client reads no host from a URL

    _form_url, saved = _new_password_set(client, link)

    assert saved.status_code == 302 and saved["Location"] == "/reset/done/"
    login = client.post("/login/", {"username": "mia@a.test", "password": NEW_PASSWORD})
    assert login.status_code == 302 and logged_in(client)
    again = client.get(link)
    assert again.status_code == 200 and "This link does not work" in again.content.decode()


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, tenant_a, mia, mailoutbox):
    response = _reset_asked(client, tenant_a, "nobody@a.test")

    assert response.status_code == 302 and response["Location"] == "/password-reset/done/"
    assert mailoutbox == []


def test_a_link_of_one_company_opens_nothing_on_another(
    client, tenant_a, tenant_b, mia, mailoutbox
):
    # The same user id, address, password hash and last login in both companies: everything
    # a Django reset token is made of, but the schema its salt carries.
    twin = person_make(tenant_b, "mia@a.test", role=Role.MEMBER)
    with schema_context(tenant_b.schema_name):
        get_user_model().objects.filter(pk=twin.pk).update(password=mia.password)
    assert twin.pk == mia.pk
    _reset_asked(client, tenant_a, "mia@a.test")
    link = link_in(mailoutbox[0], RESET_LINK)

    opened = client.get(
        link.replace(host_of(tenant_a), host_of(tenant_b)), HTTP_HOST=host_of(tenant_b)
    )

    assert opened.status_code == 200
    assert "This link does not work" in opened.content.decode()


def test_a_forged_link_is_refused(client, tenant_a, mia):
    page = client.get("/reset/MQ/forged-token/", HTTP_HOST=host_of(tenant_a))

    assert page.status_code == 200
    assert "This link does not work" in page.content.decode()
