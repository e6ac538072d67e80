"""The public site: the landing page and signing up. Thin: forms check, services act."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from apps.onboarding.forms import SignupForm
from apps.onboarding.models import Signup
from apps.onboarding.selectors import signup_by_token
from apps.onboarding.services import signup_allowed_from, signup_start, signup_workspace_url


@require_http_methods(["GET", "HEAD"])
def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "onboarding/landing.html")


@require_http_methods(["GET", "HEAD", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if not settings.SIGNUP_OPEN:
        return render(request, "onboarding/signup_closed.html", status=403)
    form = SignupForm(request.POST or None)
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "onboarding/signup.html", {"form": form}, status=400)
        if not signup_allowed_from(request.META.get("REMOTE_ADDR", "")):
            form.add_error(None, _("Too many sign-ups from your address; try again in an hour."))
            return render(request, "onboarding/signup.html", {"form": form}, status=429)
        created = signup_start(
            company_name=form.cleaned_data["company_name"],
            admin_email=form.cleaned_data["admin_email"],
            password=form.cleaned_data["password"],
            language=translation.get_language() or "",
        )
        return redirect(reverse("signup-progress", args=[created.token]), permanent=False)
    return render(request, "onboarding/signup.html", {"form": form})


def _signup_or_404(token: uuid.UUID) -> Signup:
    found = signup_by_token(token)
    if found is None:
        raise Http404
    return found


def _progress_context(request: HttpRequest, signup: Signup) -> dict:
    return {
        "signup": signup,
        "done": signup.status in (Signup.Status.READY, Signup.Status.FAILED),
        "workspace_url": signup_workspace_url(
            signup, request_host=request.get_host(), scheme=request.scheme
        ),
    }


@require_http_methods(["GET", "HEAD"])
def signup_progress(request: HttpRequest, token: uuid.UUID) -> HttpResponse:
    signup = _signup_or_404(token)
    return render(request, "onboarding/progress.html", _progress_context(request, signup))


@require_http_methods(["GET", "HEAD"])
def signup_status(request: HttpRequest, token: uuid.UUID) -> HttpResponse:
    """The progress box alone, which the page polls (htmx) until the workspace is ready."""
    signup = _signup_or_404(token)
    return render(request, "onboarding/_status.html", _progress_context(request, signup))
