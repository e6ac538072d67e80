"""The tenant's knowledge page: list documents, upload one (staff of this tenant with the
document permissions: ``view`` to see the page, ``add`` to upload)."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from apps.core.web import workspace_page
from apps.knowledge.forms import DocumentUploadForm
from apps.knowledge.parsing import DocumentError
from apps.knowledge.permissions import ADD, VIEW, document_permission
from apps.knowledge.selectors import document_list
from apps.knowledge.services import document_upload

OUTCOME_MESSAGES = {
    "added": _("%(name)s was added; it is being indexed."),
    "updated": _("%(name)s was updated; the new version is being indexed."),
    "unchanged": _("%(name)s is unchanged; nothing to do."),
}


@workspace_page
def knowledge_documents(request):
    required = [document_permission(VIEW)]
    if request.method == "POST":
        required.append(document_permission(ADD))
    if not request.user.has_perms(required):
        raise PermissionDenied
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
    context = {
        "form": form,
        "documents": document_list()[:500],
        "max_mib": settings.KNOWLEDGE_MAX_FILE_BYTES // (1024 * 1024),
        "can_upload": request.user.has_perm(document_permission(ADD)),
    }
    return render(
        request, "knowledge/document_list.html", context, status=400 if form.errors else 200
    )


@workspace_page
def knowledge_document(request, pk: int):
    """One document as the agents read it: its chunks in order, under their headings (the
    page a "Sources" line links to)."""
    if not request.user.has_perm(document_permission(VIEW)):
        raise PermissionDenied
    document = document_list().filter(pk=pk).first()
    if document is None:
        raise Http404
    chunks = document.chunks.filter(is_live=True).order_by("position")
    return render(
        request, "knowledge/document_detail.html", {"document": document, "chunks": chunks}
    )
