"""Every error of the API as an RFC 9457 problem: ``application/problem+json`` with ``type``,
``title``, ``status``, ``detail`` (what to fix, in words) and, for a request that is not valid,
``errors`` (field name → messages).

DRF's errors go through ``problem_exception_handler``; what Django answers itself under
``/api/`` (an unknown URL, a crash, a CSRF failure) through the ``problem_*`` handlers that
``jamono.urls_tenants`` installs.
"""

from __future__ import annotations

from http import HTTPStatus

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

PROBLEM_CONTENT_TYPE = "application/problem+json"
API_PATH_PREFIX = "/api/"
# RFC 9457 allows a relative URI reference; these name the kind of problem, stable across
# releases (the "code" DRF gives each error).
PROBLEM_TYPE_PREFIX = "/api/v1/problems/"


class DocumentRejected(exceptions.APIException):
    """The uploaded file cannot be indexed (an unsupported type), or has nothing to re-read."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "document_rejected"


class UploadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "upload_too_large"


def problem_body(*, status_code: int, code: str, detail: str, errors=None) -> dict:
    body = {
        "type": f"{PROBLEM_TYPE_PREFIX}{code.replace('_', '-')}",
        "title": HTTPStatus(status_code).phrase,
        "status": status_code,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return body


def _detail_text(detail) -> str:
    if isinstance(detail, list | tuple):
        return " ".join(_detail_text(item) for item in detail)
    if isinstance(detail, dict):
        return " ".join(_detail_text(item) for item in detail.values())
    return str(detail)


def _code_of(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else exc.default_code


def problem_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's exception handling, each error answered as a problem."""
    response = exception_handler(exc, context)
    if response is None:
        return None  # not an API error: a crash, answered by problem_server_error
    if isinstance(exc, exceptions.ValidationError):
        errors = response.data
        if not isinstance(errors, dict):
            errors = {"non_field_errors": errors}
        fields = ", ".join(sorted(errors))
        response.data = problem_body(
            status_code=response.status_code,
            code="invalid",
            detail=_("The request is not valid; fix these fields: %(fields)s.")
            % {"fields": fields},
            errors=errors,
        )
    elif isinstance(exc, exceptions.APIException):
        response.data = problem_body(
            status_code=response.status_code, code=_code_of(exc), detail=_detail_text(exc.detail)
        )
    else:  # Http404 and PermissionDenied of Django, turned into DRF's by its handler
        response.data = problem_body(
            status_code=response.status_code,
            code="not_found" if response.status_code == 404 else "permission_denied",
            detail=_detail_text(response.data.get("detail", "")),
        )
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def problem_response(*, status_code: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse(
        problem_body(status_code=status_code, code=code, detail=detail),
        status=status_code,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PATH_PREFIX)


def problem_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    if not _is_api(request):
        return defaults.page_not_found(request, exception)
    return problem_response(
        status_code=404,
        code="not_found",
        detail=_("There is nothing at %(path)s; the API's paths are listed at /api/v1/docs/.")
        % {"path": request.path},
    )


def problem_bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    if not _is_api(request):
        return defaults.bad_request(request, exception)
    return problem_response(
        status_code=400, code="bad_request", detail=_("The request could not be understood.")
    )


def problem_permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    if not _is_api(request):
        return defaults.permission_denied(request, exception)
    return problem_response(
        status_code=403,
        code="permission_denied",
        detail=_("You may not do this here."),
    )


def problem_server_error(request: HttpRequest) -> HttpResponse:
    if not _is_api(request):
        return defaults.server_error(request)
    return problem_response(
        status_code=500,
        code="server_error",
        detail=_("Something went wrong on our side; it was logged. Try again later."),
    )
