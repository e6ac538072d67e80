"""Request bodies over their limit are refused with a short 413 before they are read: by the
declared Content-Length, or by counting a body sent without one; document uploads keep room
for a whole document, so the knowledge upload's own limit still answers for them."""

import json

from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.conf import settings as django_settings

from apps.core.request_limits import request_body_limit
from jamono.asgi import application as web_application

FIFTY_MB = 50 * 1024 * 1024
TOO_LARGE_TEXT = b"Request body too large.\n"


def _scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }


def _post_through_the_web_application(
    path: str, chunks: list[bytes], *, headers=(), finished: bool = False
) -> tuple[int, bytes, int]:
    """Send ``chunks`` of a body (the last one ending it only if ``finished``) to the ASGI
    application `make run` serves; return the status, the body, and how many chunks the
    application left unread."""

    async def exchange():
        communicator = ApplicationCommunicator(web_application, _scope(path, list(headers)))
        for number, chunk in enumerate(chunks, start=1):
            more = not (finished and number == len(chunks))
            await communicator.send_input(
                {"type": "http.request", "body": chunk, "more_body": more}
            )
        start = await communicator.receive_output(timeout=10)
        body = b""
        while True:
            message = await communicator.receive_output(timeout=10)
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        unread = communicator.input_queue.qsize()
        await communicator.wait(timeout=10)
        return start["status"], body, unread

    return async_to_sync(exchange)()


def test_a_declared_fifty_megabyte_body_is_refused_before_a_byte_of_it_is_read():
    status, body, unread = _post_through_the_web_application(
        "/slack/events",
        [b"x" * 1024],
        headers=[(b"content-type", b"application/json"), (b"content-length", b"%d" % FIFTY_MB)],
    )

    assert (status, body) == (413, TOO_LARGE_TEXT)
    assert unread == 1


def test_a_body_without_content_length_is_refused_once_it_passes_the_limit(settings):
    settings.REQUEST_MAX_BODY_BYTES = 2000

    status, body, unread = _post_through_the_web_application(
        "/slack/events", [b"x" * 1500, b"x" * 1500, b"x" * 1500]
    )

    assert (status, body) == (413, TOO_LARGE_TEXT)
    assert unread == 1  # the third chunk: reading stopped at the limit


def test_a_body_within_the_limit_reaches_the_application(settings):
    settings.REQUEST_MAX_BODY_BYTES = 2000
    settings.SLACK_SIGNING_SECRET = "limits-signing-secret"

    status, body, _ = _post_through_the_web_application(
        "/slack/events",
        [b'{"type": "event_callback"}'],
        headers=[(b"content-type", b"application/json")],
        finished=True,
    )

    assert status in (401, 403)  # the Slack view's own answer: unsigned
    assert "error" in json.loads(body)


def test_a_document_upload_may_be_larger_than_other_requests(settings, transactional_db):
    settings.REQUEST_MAX_BODY_BYTES = 2000
    settings.REQUEST_MAX_BODY_BYTES_BY_PATH = {"/api/v1/knowledge/": 10_000}

    status, _, _ = _post_through_the_web_application(
        "/api/v1/knowledge/documents/", [b"x" * 5000, b"x" * 4000], finished=True
    )

    assert status == 404  # read whole and routed: the public site has no knowledge API


def test_the_upload_limit_leaves_room_for_a_whole_knowledge_document():
    upload_limit = request_body_limit("/api/v1/knowledge/documents/")

    assert upload_limit >= django_settings.KNOWLEDGE_MAX_FILE_BYTES + 64 * 1024
    assert request_body_limit("/knowledge/") == upload_limit
    assert request_body_limit("/slack/events") == django_settings.REQUEST_MAX_BODY_BYTES
    assert request_body_limit("/slack/events") < upload_limit


def test_without_the_asgi_wrapper_django_refuses_a_declared_length_before_parsing(client, db):
    response = client.generic(
        "POST",
        "/admin/login/",
        b"username=a&password=b",
        content_type="application/x-www-form-urlencoded",
        CONTENT_LENGTH=str(FIFTY_MB),
    )

    assert response.status_code == 413
    assert response.content == TOO_LARGE_TEXT
    assert response["Content-Type"] == "text/plain; charset=utf-8"


def test_an_upload_over_the_knowledge_limit_gets_the_knowledge_apis_own_answer(client, tenant_a):
    # Over KNOWLEDGE_MAX_FILE_BYTES, within the upload path's limit: the API explains.
    declared = django_settings.KNOWLEDGE_MAX_FILE_BYTES + 200_000

    response = client.generic(
        "POST",
        "/api/v1/knowledge/documents/",
        b"",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(declared),
        HTTP_HOST=tenant_a.get_primary_domain().domain,
    )

    assert response.status_code == 413
    assert "limit for one file" in response.json()["detail"]


def test_under_the_api_a_refused_body_gets_a_problem_saying_the_limit():
    status, body, unread = _post_through_the_web_application(
        "/api/v1/knowledge/documents/",
        [b"x" * 1024],
        headers=[(b"content-length", b"%d" % FIFTY_MB)],
    )

    problem = json.loads(body)
    assert (status, problem["status"]) == (413, 413)
    limit = request_body_limit("/api/v1/knowledge/documents/")
    assert f"{limit:,}-byte limit" in problem["detail"]
    assert unread == 1


def test_under_the_api_django_refuses_a_declared_length_with_a_problem_too(client, db):
    response = client.generic(
        "PATCH",
        "/api/v1/agents/nox/",
        b"{}",
        content_type="application/json",
        CONTENT_LENGTH=str(FIFTY_MB),
    )

    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["title"]
