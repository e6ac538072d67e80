"""Knowledge documents (upload, list, read, re-index, delete) and search, under
``/api/v1/knowledge/``.

An upload is stored and answered 202 with the document ``queued``: a worker reads it, and its
``status`` (then ``error``) says how that went. The same key and bytes again change nothing
(200).
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.errors import DocumentRejected, UploadTooLarge
from apps.api.filters import DocumentFilter
from apps.api.serializers import (
    DocumentDetailSerializer,
    DocumentSerializer,
    DocumentUploadResultSerializer,
    DocumentUploadSerializer,
    KnowledgeHitSerializer,
    KnowledgeSearchQuerySerializer,
)
from apps.api.views.base import ApiGenericView, ApiView
from apps.knowledge.models import Chunk, Document
from apps.knowledge.parsing import DocumentError
from apps.knowledge.selectors import document_list, knowledge_search
from apps.knowledge.services import (
    document_delete,
    document_reindex,
    document_upload,
    document_validate_size,
)

DOCUMENT_CHUNKS_SHOWN = 200
# Room for the multipart boundaries, headers and small form fields around the file itself.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


class DocumentListUploadView(generics.ListAPIView, ApiGenericView):
    """``GET``: this company's documents (``?status=``, ``?agent=``…).
    ``POST`` (multipart): upload one file, 202 while a worker reads it; the same key and
    bytes again change nothing (200)."""

    serializer_class = DocumentSerializer
    permission_model = Document
    filterset_class = DocumentFilter
    ordering_fields = ["id", "created_at", "updated_at", "title"]
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[Document]:
        return document_list()

    def initial(self, request: Request, *args, **kwargs) -> None:
        # Refuse an oversized upload from its Content-Length alone, before anything (the CSRF
        # check of session authentication included) parses the body onto disk.
        if request.method == "POST":
            _refuse_oversized_request(request)
        super().initial(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": DocumentUploadSerializer},
        responses={200: DocumentUploadResultSerializer, 202: DocumentUploadResultSerializer},
    )
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


class DocumentDetailView(generics.RetrieveDestroyAPIView, ApiGenericView):
    """``GET``: one document with its searchable chunks (the first ``DOCUMENT_CHUNKS_SHOWN``).
    ``DELETE``: remove it and its chunks."""

    serializer_class = DocumentDetailSerializer
    permission_model = Document

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


class DocumentReindexView(ApiView):
    """``POST``: read the document's stored file again (202), e.g. after it failed."""

    permission_model = Document
    permission_actions = {"POST": "change"}

    @extend_schema(request=None, responses={202: DocumentSerializer})
    def post(self, request: Request, pk: int) -> Response:
        document = generics.get_object_or_404(document_list(), pk=pk)
        try:
            document_reindex(document=document)
        except DocumentError as exc:
            raise DocumentRejected(str(exc)) from exc
        body = DocumentSerializer(document_list().get(pk=pk)).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


class KnowledgeSearchView(ApiView):
    """``GET ?q=…&agent=…&limit=…``: the best chunks for ``q`` in this company's knowledge, by
    their words (what an agent of that slug may cite, when ``agent`` is given)."""

    permission_model = Document

    @extend_schema(
        parameters=[KnowledgeSearchQuerySerializer],
        responses=inline_serializer(
            "KnowledgeSearchResults", {"results": KnowledgeHitSerializer(many=True)}
        ),
    )
    def get(self, request: Request) -> Response:
        query = KnowledgeSearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        hits = knowledge_search(
            query.validated_data["q"],
            agent=query.validated_data.get("agent"),
            limit=query.validated_data["limit"],
        )
        return Response({"results": KnowledgeHitSerializer(hits, many=True).data})
