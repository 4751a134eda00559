"""A teammate answers a customer by hand while Tandem's reply draft waits for review.

The draft is reviewed in another channel, so its reviewers would not see the answer and
could approve a second reply to a question already answered. Each draft still open for
that customer thread gets a note in its review thread, once per hand reply (Slack
retries a message event), naming who answered and quoting what they said. The draft
itself is left for the reviewers to decide: the hand reply may have been partial.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError

from bot.drafting.safety import neutralise
from bot.store import repo
from bot.texts import T

if TYPE_CHECKING:
    from bot.container import Services

__all__ = ["QUOTE_CHARS", "note_hand_reply"]

log = logging.getLogger(__name__)
QUOTE_CHARS = 200


async def note_hand_reply(s: Services, *, channel: str, thread_ts: str, ts: str, user: str,
                          text: str) -> int:
    """Tell the review thread of each open reply draft for `thread_ts` in `channel` that
    `user` answered there by hand (their message `ts`); returns how many were told."""
    requests = [r for r in await s.store.run(lambda x: repo.open_replies_for_thread(
        x, channel=channel, thread=thread_ts)) if r.message_ts != ts]
    if not requests or not await s.store.run(
            lambda x: repo.mark_seen(x, key=f"hand-reply:{channel}:{ts}")):
        return 0
    try:
        permalink = (await s.client.chat_getPermalink(channel=channel, message_ts=ts))["permalink"]
        reply = T.HAND_REPLY_LINK.format(permalink=permalink)
    except SlackApiError:
        reply = T.HAND_REPLY_NO_LINK
    note = T.HAND_REPLY.format(user=user, reply=reply, quote=_quote(text))
    told = 0
    for request in requests:
        if not request.review_thread_ts:  # its review thread is not open yet
            log.info("hand reply in %s/%s: request %s has no review thread yet",
                     channel, thread_ts, request.id)
            continue
        try:
            await s.client.chat_postMessage(channel=request.review_channel_id or "",
                                            thread_ts=request.review_thread_ts, text=note)
            told += 1
        except SlackApiError as exc:
            log.warning("could not tell review thread %s/%s of a hand reply: %s",
                        request.review_channel_id, request.review_thread_ts,
                        exc.response.get("error"))
    return told


def _quote(text: str) -> str:
    """The reply on one line, cut to QUOTE_CHARS, with no mention that would ping anyone."""
    one_line = re.sub(r"\s+", " ", neutralise(text, ())).strip()
    return one_line if len(one_line) <= QUOTE_CHARS else one_line[:QUOTE_CHARS - 1] + "…"
