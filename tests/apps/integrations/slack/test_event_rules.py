from apps.integrations.slack.event_rules import question_from_mention, question_from_message
from tests.doubles.slack_requests import app_mention_event, event_callback, message_event

BOT = "U0BOT0001"


def _body(event):
    return event_callback("T0TEAM001", event, event_id="Ev0001")


def test_a_mention_starts_a_thread_on_its_own_message():
    event = app_mention_event(f"<@{BOT}> hello", ts="1700000000.000100")
    incoming, thread_key = question_from_mention(body=_body(event), event=event, bot_user_id=BOT)
    assert thread_key == "1700000000.000100"
    assert incoming.event_id == "Ev0001"
    assert incoming.team_id == "T0TEAM001"


def test_a_mention_inside_a_thread_answers_in_that_thread():
    event = app_mention_event(f"<@{BOT}> hi", ts="1700000001.000100", thread_ts="1700000000.000100")
    _, thread_key = question_from_mention(body=_body(event), event=event, bot_user_id=BOT)
    assert thread_key == "1700000000.000100"


def test_a_dm_top_level_message_is_answered_at_the_dm_top_level():
    event = message_event("hello", channel="D0DM00001", channel_type="im")
    incoming, thread_key = question_from_message(body=_body(event), event=event, bot_user_id=BOT)
    assert thread_key == ""
    assert incoming.channel_type == "im"


def test_messages_from_bots_edits_deletions_and_the_agent_itself_are_ignored():
    for event in (
        message_event("me", user=BOT),
        message_event("bot", bot_id="B0OTHER01", user=None),
        message_event("x", subtype="bot_message", user=None),
        message_event("x", subtype="message_changed", user=None),
        message_event("x", subtype="message_deleted", user=None),
        message_event("x", subtype="channel_join"),
    ):
        assert question_from_message(body=_body(event), event=event, bot_user_id=BOT) is None


def test_a_channel_message_mentioning_the_bot_is_left_to_the_app_mention_event(db):
    event = message_event(f"<@{BOT}> hi", channel="C0CHAN001", channel_type="channel")
    assert question_from_message(body=_body(event), event=event, bot_user_id=BOT) is None


def test_a_thread_reply_where_no_agent_takes_part_is_ignored(tenant_a):
    from django_tenants.utils import schema_context

    event = message_event(
        "chatter", channel="C0CHAN001", channel_type="channel", thread_ts="1700000000.000100"
    )
    with schema_context(tenant_a.schema_name):
        assert question_from_message(body=_body(event), event=event, bot_user_id=BOT) is None


def test_a_file_share_from_a_person_is_still_a_question():
    event = message_event("see log", channel="D0DM00001", subtype="file_share")
    assert question_from_message(body=_body(event), event=event, bot_user_id=BOT) is not None
