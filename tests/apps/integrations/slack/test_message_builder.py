from apps.integrations.bases.chat import ChatButton, OutgoingMessage, Tone
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
    message = message_builder.message_blocks(
        OutgoingMessage(text=text, notes=("NOX · DevOps engineer · m · 1.2 s",))
    )
    sections = [b for b in message.blocks if b["type"] == "section"]
    assert len(sections) > 1
    assert all(len(s["text"]["text"]) <= message_builder.SECTION_TEXT_LIMIT for s in sections)
    assert message.blocks[-1]["elements"][0]["text"] == "NOX · DevOps engineer · m · 1.2 s"


def test_a_progress_message_is_small_print_and_notices_carry_their_icon():
    thinking = message_builder.message_blocks(OutgoingMessage(text="NOX…", tone=Tone.PROGRESS))
    warning = message_builder.message_blocks(OutgoingMessage(text="down", tone=Tone.WARNING))
    assert thinking.blocks == [
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": ":hourglass_flowing_sand: NOX…"}],
        }
    ]
    assert warning.blocks[0]["text"]["text"] == ":warning: down"


def test_feedback_is_classic_buttons_or_slacks_feedback_element():
    message = OutgoingMessage(text="answer", feedback_value="42")
    classic = message_builder.message_blocks(message).blocks[-1]
    native = message_builder.footer_blocks(message, native_feedback=True)[-1]
    assert [e["value"] for e in classic["elements"]] == ["42", "42"]
    assert [e["action_id"] for e in classic["elements"]] == [
        message_builder.FEEDBACK_UP_ACTION,
        message_builder.FEEDBACK_DOWN_ACTION,
    ]
    assert native["type"] == "context_actions"
    element = native["elements"][0]
    assert element["type"] == "feedback_buttons"
    assert element["action_id"] == message_builder.FEEDBACK_ELEMENT_ACTION
    assert (element["positive_button"]["value"], element["negative_button"]["value"]) == (
        "up:42",
        "down:42",
    )


def test_buttons_render_as_an_actions_block_with_their_style():
    message = OutgoingMessage(
        text="Run it?",
        buttons=(ChatButton(action_id="vote_yes", label="Approve", value="7", style="primary"),),
    )
    actions = message_builder.message_blocks(message).blocks[-1]
    assert actions["type"] == "actions"
    assert actions["elements"][0] | {} == {
        "type": "button",
        "action_id": "vote_yes",
        "text": {"type": "plain_text", "text": "Approve", "emoji": True},
        "value": "7",
        "style": "primary",
    }


def test_fields_message_groups_at_most_ten_fields_per_section():
    rows = [(f"label {i}", str(i)) for i in range(12)]
    message = message_builder.fields_message(title="T", rows=rows)
    assert [len(b["fields"]) for b in message.blocks if "fields" in b] == [10, 2]
