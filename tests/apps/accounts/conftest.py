from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from apps.accounts.models import Role
from apps.accounts.services import role_assign

PASSWORD = "correct horse battery staple"


def host_of(tenant) -> str:
    return tenant.get_primary_domain().domain


def person_make(tenant, username: str, *, role: Role = Role.MEMBER, password: str = PASSWORD):
    """A person of ``tenant`` with ``role``, logging in with ``username`` (an e-mail address)."""
    with schema_context(tenant.schema_name):
        user = get_user_model().objects.create_user(username, username, password)
        role_assign(user, role)
    return user


def browser_of(client, tenant, person, *, password: str = PASSWORD):
    """``client`` on ``tenant``'s host, logged in through the login page as ``person``."""
    client.defaults["HTTP_HOST"] = host_of(tenant)
    response = client.post("/login/", {"username": person.username, "password": password})
    assert response.status_code == 302, response.content.decode()[:500]
    return client


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def link_in(mail, pattern: str) -> str:
    """The first link of ``mail``'s body matching ``pattern`` (a regular expression)."""
    match = re.search(pattern, mail.body)
    assert match, mail.body
    return match.group(0)
