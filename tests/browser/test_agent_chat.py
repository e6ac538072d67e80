"""A person asks NOX in a real browser against `make run` (web, worker, Redis channel layer,
the Ollama double as the model): the answer streams into the page over its socket (the page
shows it growing, piece by piece), written by the worker through the same pipeline as for
Slack, then its notes with the starter runbook it cites, linked to its page; a question that
is too long is refused on the page."""

from __future__ import annotations

import re

from tests.doubles.ollama import OllamaDouble
from tests.stack_runner import stack_start

PASSWORD = "a-Long-passw0rd!"
GROWTH_RECORDER = """() => {
  window.answerTexts = [];
  new MutationObserver(() => {
    const bodies = document.querySelectorAll(".webchat-message.from-agent .body");
    if (bodies.length) window.answerTexts.push(bodies[bodies.length - 1].textContent);
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def test_a_person_asks_nox_in_the_browser(page, screenshot, tmp_path):
    ollama = OllamaDouble().start()
    ollama.reply_text = "Roll back with kubectl rollout undo deploy/api [1], then watch the alerts."
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

        # Every text the answer shows while it is written, as the page changes.
        page.evaluate(GROWTH_RECORDER)
        question.fill("How do I roll back a bad deploy of the API?")
        page.get_by_role("button", name="Ask", exact=True).click()
        answer = page.locator(".webchat-message.from-agent .body").last
        answer.filter(has_text="watch the alerts.").wait_for()
        notes = page.locator(".webchat-message.from-agent .notes").last
        notes.filter(has_text="NOX ·").wait_for()  # who answered, with which model
        assert "How do I roll back a bad deploy" in page.locator(".from-you").last.inner_text()
        seen = page.evaluate("window.answerTexts")
        final = answer.inner_text()
        partial = {text for text in seen if text and text != final and final.startswith(text)}
        assert len(partial) >= 2, seen  # it grew piece by piece before it was whole
        # The runbook it cites ([1]): one of the starter runbooks, linked to its page.
        source = notes.locator('a[href*="/knowledge/"]').first
        cited = source.inner_text()
        screenshot("2-answered")
        source.click()
        page.wait_for_url(re.compile(r"/knowledge/\d+/$"))
        assert cited.startswith(page.get_by_role("heading", level=1).inner_text())
        page.go_back()
        question = page.get_by_label("Your question for NOX")
        page.wait_for_function("!document.getElementById('webchat-question').disabled")

        question.fill("x" * 12_001)
        page.get_by_role("button", name="Ask", exact=True).click()
        page.get_by_role("alert").filter(has_text="too long").wait_for()
        screenshot("3-refused")
    finally:
        stack.stop()
        ollama.stop()
