"""Interactivity payloads (buttons, menus). Acknowledged here; features register actions."""

import re


def on_any_action(ack) -> None:
    ack()


def register(app) -> None:
    app.action(re.compile(".*"))(on_any_action)
    app.shortcut(re.compile(".*"))(on_any_action)
    app.view(re.compile(".*"))(on_any_action)
