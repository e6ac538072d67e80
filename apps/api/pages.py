"""The company's API keys page (its own host): the keys, made and revoked by people with the
permissions on API keys (``add`` to make one, ``change`` to revoke one), read by those with
``view``. A new key is shown once, in the answer to the request that made it."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from apps.api.forms import ApiKeyCreateForm
from apps.api.selectors import api_key_list
from apps.api.services import ApiKeyNameTaken, api_key_create, api_key_revoke
from apps.core.web import workspace_page


def _page(request, form, *, new_key: str = "", status: int = 200) -> HttpResponse:
    context = {
        "form": form,
        "keys": api_key_list(),
        "new_key": new_key,
        "can_add": request.user.has_perm("api.add_apikey"),
        "can_revoke": request.user.has_perm("api.change_apikey"),
    }
    return render(request, "api/api_keys.html", context, status=status)


@workspace_page
@never_cache  # the answer to a creation holds the key itself
@require_http_methods(["GET", "HEAD", "POST"])
def api_keys(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("api.view_apikey"):
        raise PermissionDenied
    if request.method != "POST":
        return _page(request, ApiKeyCreateForm())
    if not request.user.has_perm("api.add_apikey"):
        raise PermissionDenied
    form = ApiKeyCreateForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        _api_key, key = api_key_create(
            name=form.cleaned_data["name"].strip(), read_only=form.cleaned_data["read_only"]
        )
    except ApiKeyNameTaken:
        form.add_error("name", _("A usable key already has this name; revoke it first."))
        return _page(request, form, status=400)
    return _page(request, ApiKeyCreateForm(), new_key=key, status=201)


@workspace_page
@require_http_methods(["POST"])
def api_key_revoke_page(request: HttpRequest, prefix: str) -> HttpResponse:
    if not request.user.has_perm("api.change_apikey"):
        raise PermissionDenied
    api_key = api_key_list().filter(prefix=prefix, revoked=False).first()
    if api_key is None:
        raise Http404
    api_key_revoke(api_key=api_key)
    messages.success(request, _("The key %(name)s is revoked.") % {"name": api_key.name})
    return redirect("api-keys")
