from apps.integrations.slack.event_rules import question_from_mention, question_from_message
from tests.doubles.slack_requests import app_mention_event, event_callback, message_event

BOT = "U0BOT0001"


def _body(event):
    return event_callback("T0TEAM001", event, event_id="Ev0001")


def test_a_mention_is_read_with_its_event_team_and_the_mention_flag():
    event = app_mention_event(f"<@{BOT}> hello", ts="1700000000.000100")
    incoming = question_from_mention(body=_body(event), event=event, bot_user_id=BOT)
    assert incoming.ts == "1700000000.000100" and incoming.thread_ts is None
    assert incoming.mentions_bot
    assert incoming.event_id == "Ev0001"
    assert incoming.team_id == "T0TEAM001"


def test_a_team_given_as_an_object_is_read_like_team_id():
    event = app_mention_event(f"<@{BOT}> hello")
    body = {**_body(event), "team": {"id": "T0OBJECT1"}}
    del body["team_id"]
    assert question_from_mention(body=body, event=event, bot_user_id=BOT).team_id == "T0OBJECT1"


def test_a_dm_message_is_kept_as_direct():
    event = message_event("hello", channel="D0DM00001", channel_type="im")
    incoming = question_from_message(body=_body(event), event=event, bot_user_id=BOT)
    assert incoming.is_direct and not incoming.mentions_bot


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


def test_top_level_channel_chatter_is_ignored_and_a_thread_reply_left_to_the_domain():
    chatter = message_event("chatter", channel="C0CHAN001", channel_type="channel")
    reply = message_event(
        "and then?", channel="C0CHAN001", channel_type="channel", thread_ts="1700000000.000100"
    )
    assert question_from_message(body=_body(chatter), event=chatter, bot_user_id=BOT) is None
    incoming = question_from_message(body=_body(reply), event=reply, bot_user_id=BOT)
    assert incoming.thread_ts == "1700000000.000100" and not incoming.mentions_bot


def test_a_file_share_from_a_person_is_still_a_question():
    event = message_event("see log", channel="D0DM00001", subtype="file_share")
    assert question_from_message(body=_body(event), event=event, bot_user_id=BOT) is not None
