"""What every page of a company's own site (its dashboard) shares: who may open it."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required

# Where a visitor who is not logged in on this company's site is sent.
WORKSPACE_LOGIN_URL = "login"


def workspace_page(view):
    """``view`` opens only for people of this company (users of the tenant's schema who may
    use its site); the others are sent to the login page. What each person may change is
    checked by the view, with Django permissions."""
    return staff_member_required(view, login_url=WORKSPACE_LOGIN_URL)
