from rest_framework.pagination import CursorPagination


class ApiCursorPagination(CursorPagination):
    """Stable pages whatever is added meanwhile: ``next``/``previous`` links carry a cursor."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"
