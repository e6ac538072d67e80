"""The tenant's knowledge page: list documents, upload one, delete one, read one again (staff
of this tenant with the document permissions: ``view`` to see the page, ``add`` to upload,
``delete`` to delete, ``change`` to re-index). Rows still being indexed refresh themselves
(htmx polls their row until the worker is done or failed)."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from apps.core.web import workspace_page
from apps.knowledge.forms import DocumentUploadForm
from apps.knowledge.models import Document
from apps.knowledge.parsing import DocumentError
from apps.knowledge.permissions import ADD, CHANGE, DELETE, VIEW, document_permission
from apps.knowledge.selectors import (
    DOCUMENT_IN_PROGRESS,
    document_embedding_progress,
    document_list,
    document_rows,
)
from apps.knowledge.services import document_delete, document_reindex, document_upload

OUTCOME_MESSAGES = {
    "added": gettext_lazy("%(name)s was added; it is being indexed."),
    "updated": gettext_lazy("%(name)s was updated; the new version is being indexed."),
    "unchanged": gettext_lazy("%(name)s is unchanged; nothing to do."),
}
DOCUMENTS_SHOWN = 500
# htmx stops polling on this status (and swaps in the empty body: the row goes).
HTMX_STOP_POLLING = 286


def _require(request: HttpRequest, *actions: str) -> None:
    if not request.user.has_perms([document_permission(action) for action in (VIEW, *actions)]):
        raise PermissionDenied


def _document_progress(document: Document) -> Document:
    document.in_progress = document.status in DOCUMENT_IN_PROGRESS
    document.progress = document_embedding_progress(document)
    return document


def _write_controls(request: HttpRequest) -> dict:
    """Which buttons this person sees (the POST views check the same permissions)."""
    return {
        "can_delete": request.user.has_perm(document_permission(DELETE)),
        "can_reindex": request.user.has_perm(document_permission(CHANGE)),
    }


def _list_page(request: HttpRequest, form: DocumentUploadForm, *, status: int = 200):
    documents = [_document_progress(document) for document in document_rows()[:DOCUMENTS_SHOWN]]
    context = {
        **_write_controls(request),
        "form": form,
        "documents": documents,
        "max_mib": settings.KNOWLEDGE_MAX_FILE_BYTES // (1024 * 1024),
        "can_upload": request.user.has_perm(document_permission(ADD)),
    }
    return render(request, "knowledge/document_list.html", context, status=status)


@workspace_page
def knowledge_documents(request):
    _require(request, *([ADD] if request.method == "POST" else []))
    form = DocumentUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            # Stored only: a worker reads it, and this page shows how that went.
            outcome = document_upload(
                key=upload.name,
                name=upload.name,
                data=upload.read(),
                agent=form.cleaned_data["agent"],
            )
        except DocumentError as exc:
            form.add_error("file", str(exc))
        else:
            messages.success(request, str(OUTCOME_MESSAGES[outcome]) % {"name": upload.name})
            return redirect("knowledge-documents")
    return _list_page(request, form, status=400 if form.errors else 200)


@workspace_page
@require_safe
def knowledge_document_row(request: HttpRequest, pk: int) -> HttpResponse:
    """One row of the list, as it is now: what a row being indexed polls."""
    _require(request)
    document = document_rows().filter(pk=pk).first()
    if document is None:
        if request.headers.get("HX-Request"):
            return HttpResponse("", status=HTMX_STOP_POLLING)  # deleted meanwhile
        raise Http404
    context = {**_write_controls(request), "document": _document_progress(document)}
    return render(request, "knowledge/_document_row.html", context)


@workspace_page
@require_POST
def knowledge_document_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, DELETE)
    document = document_list().filter(pk=pk).first()
    if document is None:
        raise Http404
    document_delete(document=document)
    messages.success(request, _("%(title)s was deleted.") % {"title": document.title})
    return redirect("knowledge-documents")


@workspace_page
@require_POST
def knowledge_document_reindex(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, CHANGE)
    document = document_list().filter(pk=pk).first()
    if document is None:
        raise Http404
    try:
        document_reindex(document=document)
    except DocumentError as exc:
        reason = {"title": document.title, "reason": exc}
        messages.error(request, _("%(title)s cannot be read again: %(reason)s") % reason)
        return _list_page(request, DocumentUploadForm(), status=400)
    messages.success(request, _("%(title)s is being read again.") % {"title": document.title})
    return redirect("knowledge-documents")


@workspace_page
def knowledge_document(request, pk: int):
    """One document as the agents read it: its chunks in order, under their headings (the
    page a "Sources" line links to)."""
    _require(request)
    document = document_rows().filter(pk=pk).first()
    if document is None:
        raise Http404
    chunks = document.chunks.filter(is_live=True).order_by("position")
    context = {**_write_controls(request), "document": _document_progress(document)}
    context["chunks"] = chunks
    return render(request, "knowledge/document_detail.html", context)
