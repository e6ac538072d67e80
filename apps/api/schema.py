"""The OpenAPI schema's additions: every operation may answer a problem (RFC 9457), which the
schema says once as the ``default`` response, with the ``Problem`` shape."""

from __future__ import annotations

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string", "description": "What kind of problem (a URI reference)."},
        "title": {"type": "string", "description": "The HTTP status, in words."},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "What went wrong, and what to fix."},
        "errors": {
            "type": "object",
            "description": "For a request that is not valid: field name → messages.",
            "additionalProperties": True,
        },
    },
    "required": ["type", "title", "status", "detail"],
}


def problem_responses_add(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: the ``Problem`` component, and a ``default``
    response of that shape on every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    problem = {
        "description": "A problem (RFC 9457): 4xx for the request, 5xx for the server.",
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"].setdefault("default", problem)
    return result
