import socket


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_healthz_is_200_when_database_and_broker_answer(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"db": "ok", "broker": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_is_503_naming_the_broker_when_it_is_down(client, db, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"db": "ok", "broker": "unavailable"}


def test_healthz_is_503_naming_the_database_when_it_is_down(client, transactional_db):
    from django.db import connection

    # Point the connection (and its pool) at a database that does not exist, then put it back.
    original = connection.settings_dict["NAME"]
    connection.close()
    connection.close_pool()
    connection.settings_dict["NAME"] = "jamono_missing_database"
    try:
        response = client.get("/healthz")
    finally:
        connection.close()
        connection.close_pool()
        connection.settings_dict["NAME"] = original
    assert response.status_code == 503
    assert response.json() == {"db": "unavailable", "broker": "ok"}


def test_healthz_answers_on_tenant_domains_too(client, tenant_a):
    response = client.get("/healthz", HTTP_HOST=tenant_a.get_primary_domain().domain)
    assert response.status_code == 200
