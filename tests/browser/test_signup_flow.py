"""A company signs up in a real browser against `make run`: the landing page, the form, the
progress while the worker creates the tenant, then the new workspace's own address where the
admin signs in."""

from __future__ import annotations

import re

from tests.stack_runner import stack_start


def test_from_the_landing_page_to_a_new_workspace(page, screenshot, tmp_path):
    stack = stack_start(tmp_path / "data")
    try:
        page.goto(f"http://localhost:{stack.port}/")
        assert page.get_by_role("heading", level=1).inner_text().startswith("AI colleagues")
        screenshot("1-landing")

        page.get_by_role("link", name="Create your company's workspace").click()
        page.get_by_label("Company").fill("Umbrella Logistics")
        page.get_by_label("Your work e-mail").fill("alice@umbrella.test")
        page.get_by_label("Password").fill("a-Long-passw0rd!")
        screenshot("2-signup")
        page.get_by_role("button", name="Create the workspace").click()

        page.wait_for_url(re.compile(r"/signup/[0-9a-f-]+/$"))
        status = page.locator("#signup-status")
        seen = {status.get_attribute("data-status")}
        screenshot("3-progress")
        for _ in range(600):  # the progress box refreshes itself (htmx) until it is done
            seen.add(status.get_attribute("data-status"))
            if "ready" in seen or "failed" in seen:
                break
            page.wait_for_timeout(100)
        assert "ready" in seen, seen
        assert seen & {"queued", "creating"}  # progress was shown before the end
        screenshot("4-ready")

        page.get_by_role("link", name="Open your workspace").click()
        page.wait_for_url(re.compile(r"^http://umbrella-logistics\.localhost:\d+/admin/login/"))
        page.get_by_label("Username").fill("alice@umbrella.test")
        page.get_by_label("Password").fill("a-Long-passw0rd!")
        page.get_by_role("button", name=re.compile("Log in")).click()
        page.wait_for_url(re.compile(r"/admin/$"))
        assert "Umbrella Logistics" in page.content() or "administration" in page.content()
        screenshot("5-workspace-admin")
    finally:
        stack.stop()
