"""The knowledge REST API, served on a tenant's own domain under ``/api/knowledge/``.

Every request runs in the schema of the tenant its host name belongs to, and is authenticated
against that tenant's own users (staff with the model permissions on documents, see
``apps.knowledge.permissions``): a user, a document or a search of tenant A does not exist on
tenant B's domain. Views only translate HTTP to the knowledge services and selectors and back;
every error comes out as ``{"error": "<one line>"}``, plus ``"fields"`` (field name →
messages) when the request itself was malformed.

An upload is stored and answered 202 with the document ``queued``: a worker reads it, and its
``status`` (then ``error``) says how that went.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from rest_framework import exceptions, generics, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

from apps.knowledge.models import Chunk, Document
from apps.knowledge.parsing import DocumentError
from apps.knowledge.permissions import CHANGE, DocumentPermissions
from apps.knowledge.selectors import document_list, knowledge_search
from apps.knowledge.serializers import (
    DocumentDetailSerializer,
    DocumentListQuerySerializer,
    DocumentSerializer,
    DocumentUploadResultSerializer,
    DocumentUploadSerializer,
    KnowledgeHitSerializer,
    KnowledgeSearchQuerySerializer,
)
from apps.knowledge.services import (
    document_delete,
    document_reindex,
    document_upload,
    document_validate_size,
)

DOCUMENT_CHUNKS_SHOWN = 200
# Room for the multipart boundaries, headers and small form fields around the file itself.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


class DocumentRejected(exceptions.APIException):
    """The uploaded file cannot be indexed (an unsupported type), or has nothing to re-read."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "document_rejected"


class UploadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "upload_too_large"


def api_error_response(exc: Exception, context: dict) -> Response | None:
    """DRF's exception handling, with one body shape for every error of this API."""
    response = exception_handler(exc, context)
    if response is None:
        return None  # not an API error: Django's 500 handling takes over
    if isinstance(exc, exceptions.ValidationError):
        fields = response.data
        if not isinstance(fields, dict):
            fields = {"non_field_errors": fields}
        response.data = {"error": _("The request is not valid."), "fields": fields}
    else:
        response.data = {"error": str(getattr(exc, "detail", exc))}
    return response


class KnowledgeAPIView(APIView):
    """Shared behaviour of the knowledge endpoints (staff of this tenant with the document
    permission each method needs)."""

    permission_classes = [DocumentPermissions]

    def get_exception_handler(self):
        return api_error_response


class DocumentPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class DocumentListUploadView(KnowledgeAPIView, generics.ListAPIView):
    """``GET``: this tenant's documents (``?status=``, paginated).
    ``POST`` (multipart): upload one file, 202 while a worker reads it; same key and bytes
    again change nothing (200)."""

    serializer_class = DocumentSerializer
    pagination_class = DocumentPagination

    def get_queryset(self) -> QuerySet[Document]:
        query = DocumentListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        documents = document_list()
        if "status" in query.validated_data:
            documents = documents.filter(status=query.validated_data["status"])
        return documents

    def initial(self, request: Request, *args, **kwargs) -> None:
        # Refuse an oversized upload from its Content-Length alone, before anything (the CSRF
        # check of session authentication included) parses the body onto disk.
        if request.method == "POST":
            _refuse_oversized_request(request)
        super().initial(request, *args, **kwargs)

    def post(self, request: Request) -> Response:
        upload_request = DocumentUploadSerializer(data=request.data)
        upload_request.is_valid(raise_exception=True)
        upload = upload_request.validated_data["file"]
        try:
            # The size Django measured while streaming the upload: the bytes are read once,
            # and only when they are within the limit.
            document_validate_size(name=upload.name, size=upload.size)
        except DocumentError as exc:
            raise UploadTooLarge(str(exc)) from exc
        key = upload_request.validated_data.get("key") or upload.name
        try:
            outcome = document_upload(
                key=key,
                name=upload.name,
                data=upload.read(),
                agent=upload_request.validated_data.get("agent"),
            )
        except DocumentError as exc:
            raise DocumentRejected(str(exc)) from exc
        document = document_list().get(key=key)
        body = DocumentUploadResultSerializer(document, context={"outcome": outcome}).data
        return Response(
            body, status=status.HTTP_200_OK if outcome == "unchanged" else status.HTTP_202_ACCEPTED
        )


def _refuse_oversized_request(request: Request) -> None:
    try:
        content_length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return  # Django rejects a malformed length itself when it reads the body
    limit = settings.KNOWLEDGE_MAX_FILE_BYTES
    if content_length > limit + MULTIPART_OVERHEAD_BYTES:
        raise UploadTooLarge(
            _("The upload is %(size)s bytes, over the %(limit)s-byte limit for one file.")
            % {"size": f"{content_length:,}", "limit": f"{limit:,}"}
        )


class DocumentDetailView(KnowledgeAPIView, generics.RetrieveDestroyAPIView):
    """``GET``: one document with its searchable chunks (the first ``DOCUMENT_CHUNKS_SHOWN``).
    ``DELETE``: remove it and its chunks."""

    serializer_class = DocumentDetailSerializer

    def get_queryset(self) -> QuerySet[Document]:
        live_chunks = Chunk.objects.filter(is_live=True).order_by("position")
        return document_list().prefetch_related(
            Prefetch(
                "chunks",
                queryset=live_chunks[:DOCUMENT_CHUNKS_SHOWN],
                to_attr="chunks_shown",
            )
        )

    def perform_destroy(self, instance: Document) -> None:
        document_delete(document=instance)


class DocumentReindexView(KnowledgeAPIView):
    """``POST``: read the document's stored file again (202), e.g. after it failed."""

    document_action = CHANGE

    def post(self, request: Request, pk: int) -> Response:
        document = generics.get_object_or_404(document_list(), pk=pk)
        try:
            document_reindex(document=document)
        except DocumentError as exc:
            raise DocumentRejected(str(exc)) from exc
        body = DocumentSerializer(document_list().get(pk=pk)).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


class KnowledgeSearchView(KnowledgeAPIView):
    """``GET ?q=…&agent=…&limit=…``: the best chunks for ``q`` in this tenant's knowledge, by
    their words (what an agent of that slug may cite, when ``agent`` is given)."""

    def get(self, request: Request) -> Response:
        query = KnowledgeSearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        hits = knowledge_search(
            query.validated_data["q"],
            agent=query.validated_data.get("agent"),
            limit=query.validated_data["limit"],
        )
        return Response({"results": KnowledgeHitSerializer(hits, many=True).data})
