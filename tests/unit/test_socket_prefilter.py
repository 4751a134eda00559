"""The Socket Mode handler drops our own echoed drafts before Bolt, and nothing else."""

from __future__ import annotations

from slack_sdk.socket_mode.request import SocketModeRequest

from bot.slack.mentions import is_inert_message
from bot.slack.socket import EagerAckSocketModeHandler
from tests.support.bolt_app import recording_app

USER_MESSAGE = {"type": "message", "user": "U1", "text": "hi", "channel": "C1", "ts": "1.1"}
BOT_ECHO = {"type": "message", "bot_id": "B0OTHER", "user": "U9", "text": "Draft", "ts": "1.2"}
EDIT = {"type": "message", "subtype": "message_changed", "channel": "C1",
        "message": {"user": "U0BOT", "text": "Draft"}}
JOIN = {"type": "message", "subtype": "channel_join", "user": "U2", "channel": "C1"}
# A person changing what they asked, and a link unfurling under a message (same text).
PERSON_EDIT = {"type": "message", "subtype": "message_changed", "channel": "C1",
               "message": {"user": "U1", "text": "<@U0BOT> notes for 2.4", "ts": "1.1"},
               "previous_message": {"user": "U1", "text": "<@U0BOT> notes for 2.3", "ts": "1.1"}}
UNFURL = {**PERSON_EDIT, "message": {**PERSON_EDIT["previous_message"], "attachments": [{}]}}
OUR_EDIT = {**PERSON_EDIT, "message": {"user": "U0BOT", "bot_id": "B0BOT", "text": "Draft v2"}}
MENTION = {"type": "app_mention", "user": "U1", "text": "<@U0BOT> hi", "channel": "C1"}
REACTION = {"type": "reaction_added", "user": "U1", "reaction": "x"}


MENTION_TWIN = {"type": "message", "user": "U1", "text": "<@U0BOT> hi", "channel": "C1"}
DM_WITH_MENTION = {"type": "message", "user": "U1", "text": "<@U0BOT> hi", "channel": "D1",
                   "channel_type": "im"}
OWN = {"type": "message", "user": "U0BOT", "text": "posted as the bot user", "channel": "C1"}


def test_inert_messages_are_bot_edits_joins_bot_posts_and_mention_twins_only() -> None:
    assert [is_inert_message(e) for e in (BOT_ECHO, EDIT, JOIN)] == [True, True, True]
    assert [is_inert_message(e) for e in (USER_MESSAGE, MENTION, REACTION)] == [False] * 3
    # Knowing the bot: a channel message mentioning it is its app_mention's twin, and its
    # own messages never draft; a DM that mentions it still drafts (no app_mention there).
    assert is_inert_message(MENTION_TWIN, "U0BOT") and is_inert_message(OWN, "U0BOT")
    assert not is_inert_message(MENTION_TWIN) and not is_inert_message(OWN)
    assert not is_inert_message(DM_WITH_MENTION, "U0BOT")
    assert not is_inert_message(USER_MESSAGE, "U0BOT")
    # A person's edit of their text may change what they asked; other edits are inert.
    assert not is_inert_message(PERSON_EDIT, "U0BOT")
    assert is_inert_message(UNFURL, "U0BOT") and is_inert_message(OUR_EDIT, "U0BOT")


async def test_handler_skips_bolt_for_inert_messages_and_dispatches_the_rest() -> None:
    app, seen = recording_app(signing_secret="s", request_verification_enabled=False)

    handler = EagerAckSocketModeHandler(app, "xapp-test", bot_user_id="U0BOT")
    for n, event in enumerate((USER_MESSAGE, BOT_ECHO, EDIT, MENTION_TWIN, MENTION, JOIN,
                               REACTION)):
        envelope_id = f"e{n}"
        handler._acked.add(envelope_id)  # acked by the reader, as in a live connection
        body = {"type": "event_callback", "team_id": "T1", "event_id": f"Ev{n}",
                "api_app_id": "A1", "event": event}
        req = SocketModeRequest(type="events_api", envelope_id=envelope_id, payload=body)
        await handler.handle(handler.client, req)
    assert seen == ["message", "app_mention", "reaction_added"]
    await handler.client.close()
