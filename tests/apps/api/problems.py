"""What every error of the API looks like (RFC 9457)."""

PROBLEM_KEYS = {"type", "title", "status", "detail"}


def problem_of(response, status: int) -> dict:
    """The problem+json body of ``response``, checked to be one, with ``status``."""
    assert response.status_code == status, (response.status_code, response.content)
    assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    body = response.json()
    assert set(body) >= PROBLEM_KEYS, body
    assert body["status"] == status
    assert body["detail"]
    return body
