from apps.integrations.slack import message_builder


def test_markdown_becomes_slack_mrkdwn():
    text = (
        "## Steps\n**Check** the [runbook](https://wiki.example.com/rb)\n- one\n```\n**raw**\n```"
    )
    converted = message_builder.markdown_to_mrkdwn(text)
    assert converted.splitlines() == [
        "*Steps*",
        "*Check* the <https://wiki.example.com/rb|runbook>",
        "• one",
        "```",
        "**raw**",
        "```",
    ]


def test_long_answers_are_split_into_sections_within_slacks_limit():
    text = ("paragraph " * 100 + "\n\n") * 12
    message = message_builder.answer_message(
        agent_name="NOX", agent_title="DevOps engineer", text=text, model="m", seconds=1.25
    )
    sections = [b for b in message.blocks if b["type"] == "section"]
    assert len(sections) > 1
    assert all(len(s["text"]["text"]) <= message_builder.SECTION_TEXT_LIMIT for s in sections)
    assert message.blocks[-1]["elements"][0]["text"] == "NOX · DevOps engineer · m · 1.2 s"


def test_fields_message_groups_at_most_ten_fields_per_section():
    rows = [(f"label {i}", str(i)) for i in range(12)]
    message = message_builder.fields_message(title="T", rows=rows)
    assert [len(b["fields"]) for b in message.blocks if "fields" in b] == [10, 2]
