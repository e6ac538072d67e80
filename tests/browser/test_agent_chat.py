"""A person asks NOX in a real browser against `make run` (web, worker, Redis channel layer,
the Ollama double as the model): the answer streams into the page over its socket, written
by the worker through the same pipeline as for Slack, then its notes; a question that is too
long is refused on the page."""

from __future__ import annotations

import re

from tests.doubles.ollama import OllamaDouble
from tests.stack_runner import stack_start

PASSWORD = "a-Long-passw0rd!"


def test_a_person_asks_nox_in_the_browser(page, screenshot, tmp_path):
    ollama = OllamaDouble().start()
    ollama.reply_text = "Roll back with kubectl rollout undo deploy/api and watch the alerts."
    stack = stack_start(
        tmp_path / "data", OLLAMA_HOST=ollama.url, DJANGO_SUPERUSER_PASSWORD=PASSWORD
    )
    try:
        created = stack.manage("add_tenant", "acme", "--name", "Acme")
        assert created.returncode == 0, created.stderr
        admin = stack.manage(
            "create_tenant_superuser", "--schema", "acme", "--username", "ana",
            "--email", "ana@acme.test", "--noinput",
        )  # fmt: skip
        assert admin.returncode == 0, admin.stderr
        site = f"http://acme.localhost:{stack.port}"
        page.goto(f"{site}/login/?next=/chat/nox/")
        page.get_by_label("E-mail or user name").fill("ana")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name=re.compile("Log in")).click()
        page.wait_for_url(re.compile(r"/chat/nox/$"))
        question = page.get_by_label("Your question for NOX")
        page.wait_for_function("!document.getElementById('webchat-question').disabled")
        screenshot("1-chat")

        question.fill("How do I roll back the API?")
        page.get_by_role("button", name="Ask", exact=True).click()
        answer = page.locator(".webchat-message.from-agent .body").last
        answer.filter(has_text="watch the alerts.").wait_for()
        notes = page.locator(".webchat-message.from-agent .notes").last
        notes.filter(has_text="NOX ·").wait_for()  # who answered, with which model
        assert "How do I roll back the API?" in page.locator(".from-you").last.inner_text()
        screenshot("2-answered")

        question.fill("x" * 12_001)
        page.get_by_role("button", name="Ask", exact=True).click()
        page.get_by_role("alert").filter(has_text="too long").wait_for()
        screenshot("3-refused")
    finally:
        stack.stop()
        ollama.stop()
