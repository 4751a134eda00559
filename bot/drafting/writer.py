"""Shows a draft in Slack while it is written.

Three ways, chosen when the draft starts:
- *stream*: chat.startStream / appendStream / stopStream. The first token is
  appended on the event loop's next turn, with whatever else the model has sent
  by then; later ones are batched on a short interval, and an append is skipped
  (not queued) when the tier's budget is spent. A draft whose whole answer had
  already arrived by that turn (`hold_first_append`) is shown by stopStream alone.
- *update*: where streaming is unavailable (an error from startStream, or
  streaming switched off), a placeholder postMessage and throttled chat.update.
- *once*: when the stream budget (Tier 2) is spent by a burst, the finished
  draft is posted with a single postMessage instead of queueing for minutes.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.drafting.safety import neutralise
from bot.drafting.split import MESSAGE_LIMIT
from bot.slack.client import LimitedWebClient
from bot.texts import T

__all__ = ["DraftWriter", "Surface"]

_UNFINISHED = re.compile(r"(<[^>]*|@\w{0,10})$")


@dataclass(frozen=True)
class Surface:
    """Where a draft is shown."""

    channel: str
    thread_ts: str | None
    team_id: str = ""
    recipient_user_id: str | None = None
    header: str | None = None  # replaces the default draft label (support review)
    assistant_thread: bool = False  # DMs: status via assistant.threads.setStatus


class DraftWriter:
    def __init__(self, client: LimitedWebClient, surface: Surface, *, allowed_users: set[str],
                 streaming: bool = True, interval: float = 0.25, quiet: bool = False) -> None:
        """`quiet`: the text is shown only by `finish` (an answer posted without review is
        checked first); meanwhile the message shows the header and "drafting"."""
        self.client = client
        self.surface = surface
        self.allowed = allowed_users
        self.quiet = quiet
        self.streaming = streaming and not quiet
        self.interval = interval
        self.mode = "once"
        self.ts: str | None = None
        self.first_visible_at: float | None = None
        self._sent = ""  # the neutralised text already shown
        self._text = ""
        self._last_flush = 0.0
        self._first: asyncio.Task[None] | None = None  # the first append, one turn away
        self._first_sending = False  # its call is on the wire: never cancel it
        self.calls: list[str] = []

    @property
    def limiter_ok(self) -> Any:
        return self.client.limiter.available

    async def _call(self, method: str, **args: Any) -> Any:
        self.calls.append(method)
        return await self.client.api_call(method, json=args)

    async def open(self) -> None:
        s = self.surface
        if s.assistant_thread and s.thread_ts and self.limiter_ok(
                "assistant.threads.setStatus", team=s.team_id):
            try:
                await self._call("assistant.threads.setStatus", channel_id=s.channel,
                                 thread_ts=s.thread_ts, status=T.STATUS)
            except SlackApiError:
                pass  # status is a courtesy; the draft itself is the visible response
        header = s.header or T.DRAFT_LABEL
        if self.streaming and self.limiter_ok("chat.startStream", team=s.team_id) and \
                self.limiter_ok("chat.stopStream", team=s.team_id) and s.thread_ts:
            args: dict[str, Any] = {"channel": s.channel, "thread_ts": s.thread_ts,
                                    "markdown_text": header + "\n\n"}
            if s.recipient_user_id:
                args.update(recipient_user_id=s.recipient_user_id, recipient_team_id=s.team_id)
            try:
                resp = await self._call("chat.startStream", **args)
                self.ts, self.mode = resp["ts"], "stream"
                return
            except SlackApiError:
                self.streaming = False  # this workspace cannot stream: use updates from now on
        if not self.streaming and self.limiter_ok("chat.postMessage", team=s.team_id,
                                                  channel=s.channel):
            resp = await self._call("chat.postMessage", channel=s.channel, thread_ts=s.thread_ts,
                                    text=T.DRAFTING, blocks=[{"type": "context", "elements": [
                                        {"type": "mrkdwn", "text": header}]}, {
                                        "type": "section", "text": {"type": "mrkdwn",
                                                                    "text": T.DRAFTING}}])
            self.ts, self.mode = resp["ts"], "update"

    def _safe_prefix(self) -> str:
        """The neutralised text up to any mention or link still being written."""
        match = _UNFINISHED.search(self._text)
        stable = self._text[: match.start()] if match else self._text
        return neutralise(stable, self.allowed)

    async def append(self, delta: str) -> None:
        self._text += delta
        if self.mode == "once" or self.quiet:
            return
        if not self._sent:
            # The first text goes out on the loop's next turn, not inline: tokens that
            # are already buffered ride along, and a short answer that has fully arrived
            # by then needs no append at all (one Slack call fewer in a burst).
            # A first turn that showed nothing (a mention still being written, no budget)
            # leaves the next delta to try again, as any later flush would.
            if self._first is None or self._first.done():
                self._first = asyncio.get_running_loop().create_task(self._first_flush())
            return
        now = time.monotonic()
        if now - self._last_flush >= self.interval:
            await self.flush(now)

    async def _first_flush(self) -> None:
        await asyncio.sleep(0)
        self._first_sending = True
        try:
            await self.flush()
        finally:
            self._first_sending = False

    def hold_first_append(self) -> None:
        """A first append still waiting for its turn must not go out: the answer is complete
        (the final call carries it) or the draft was superseded."""
        if self._first is not None and not self._first_sending:
            self._first.cancel()

    async def _settle(self) -> None:
        """Let a first append that is already on the wire finish before the next call."""
        self.hold_first_append()
        first, self._first = self._first, None
        if first is None:
            return
        try:
            await first
        except asyncio.CancelledError:
            if not first.cancelled():
                raise

    async def flush(self, now: float | None = None) -> None:
        s = self.surface
        safe = self._safe_prefix()
        if not safe.startswith(self._sent) or safe == self._sent:
            return
        if self.mode == "stream":
            if not self.limiter_ok("chat.appendStream", team=s.team_id):
                return
            if len(safe) > 11000:  # markdown_text total limit; the rest arrives in the final blocks
                return
            await self._call("chat.appendStream", channel=s.channel, ts=self.ts,
                             markdown_text=safe[len(self._sent):])
        elif self.mode == "update":
            if not self.limiter_ok("chat.update", team=s.team_id):
                return
            await self._call("chat.update", channel=s.channel, ts=self.ts,
                             text=safe[-MESSAGE_LIMIT:] or T.DRAFTING)
        self._sent = safe
        self._last_flush = now or time.monotonic()
        if self.first_visible_at is None:
            self.first_visible_at = time.monotonic()

    async def finish(self, *, text: str, blocks: list[dict[str, Any]],
                     stream_blocks: list[dict[str, Any]], stream_text: str | None = None
                     ) -> str:
        """Show the final draft; `stream_blocks` go under streamed text, `blocks` elsewhere.

        `stream_text` is what the streamed message must finally say (default: what
        the model wrote); if what was streamed is not its prefix, the message is
        rewritten with `blocks`.
        """
        await self._settle()
        ts = await self._finish(text=text, blocks=blocks, stream_blocks=stream_blocks,
                                stream_text=stream_text)
        if self.first_visible_at is None:
            self.first_visible_at = time.monotonic()  # the final call showed the first text
        return ts

    async def _finish(self, *, text: str, blocks: list[dict[str, Any]],
                      stream_blocks: list[dict[str, Any]], stream_text: str | None
                      ) -> str:
        s = self.surface
        fallback = text[:MESSAGE_LIMIT] or " "
        if self.mode == "stream" and self.ts:
            whole = neutralise(self._text if stream_text is None else stream_text, self.allowed)
            if whole.startswith(self._sent) and len(whole) <= 11000:
                # The unsent tail rides on stopStream: no extra call, no rewrite.
                tail = whole[len(self._sent):]
                args: dict[str, Any] = {"channel": s.channel, "ts": self.ts,
                                        "blocks": stream_blocks}
                if tail:
                    args["markdown_text"] = tail
                await self._call("chat.stopStream", **args)
                self._sent = whole
            else:
                # What was streamed is not a prefix of the draft: replace it with the blocks.
                await self._call("chat.stopStream", channel=s.channel, ts=self.ts)
                await self._call("chat.update", channel=s.channel, ts=self.ts, text=fallback,
                                 blocks=blocks)
            return self.ts
        if self.mode == "update" and self.ts:
            await self._call("chat.update", channel=s.channel, ts=self.ts, text=fallback,
                             blocks=blocks)
            return self.ts
        whole = neutralise(self._text if stream_text is None else stream_text, self.allowed)
        # Wait for whichever budget frees first: the channel's posts or Tier 2 streams,
        # which go to the channel with the most drafts waiting.
        limiter = self.client.limiter
        with limiter.queued_post(team=s.team_id, channel=s.channel):
            while not self.limiter_ok("chat.postMessage", team=s.team_id, channel=s.channel):
                if limiter.longest_post_queue(team=s.team_id, channel=s.channel) \
                        and await self._stream_whole(whole, stream_blocks):
                    assert self.ts is not None
                    return self.ts
                await asyncio.sleep(0.1)
        resp = await self._call("chat.postMessage", channel=s.channel, thread_ts=s.thread_ts,
                                text=fallback, blocks=blocks)
        self.ts = resp["ts"]
        return str(resp["ts"])

    async def _stream_whole(self, whole: str, stream_blocks: list[dict[str, Any]]) -> bool:
        """In a burst the channel's post budget runs out before Tier 2 refills: a refilled
        stream budget then carries a finished draft in one start + stop instead of waiting."""
        s, ok = self.surface, self.limiter_ok
        if not (self.streaming and s.thread_ts and len(whole) <= 11000) \
                or not ok("chat.startStream", team=s.team_id) \
                or not ok("chat.stopStream", team=s.team_id):
            return False
        args: dict[str, Any] = {"channel": s.channel, "thread_ts": s.thread_ts,
                                "markdown_text": (s.header or T.DRAFT_LABEL) + "\n\n" + whole}
        if s.recipient_user_id:
            args.update(recipient_user_id=s.recipient_user_id, recipient_team_id=s.team_id)
        try:
            resp = await self._call("chat.startStream", **args)
        except SlackApiError:
            return False
        self.ts, self.mode = str(resp["ts"]), "stream"
        await self._call("chat.stopStream", channel=s.channel, ts=self.ts, blocks=stream_blocks)
        return True

    async def fail(self, blocks: list[dict[str, Any]], text: str) -> str:
        s = self.surface
        try:
            await self._settle()
        except SlackApiError:
            pass  # the failure message below replaces whatever the append would have shown
        if self.ts and self.mode == "stream":
            try:
                await self._call("chat.stopStream", channel=s.channel, ts=self.ts)
            except SlackApiError:
                pass  # the stream may already be closed; the update below still shows the error
        if self.ts:
            await self._call("chat.update", channel=s.channel, ts=self.ts, text=text, blocks=blocks)
            return self.ts
        resp = await self._call("chat.postMessage", channel=s.channel, thread_ts=s.thread_ts,
                                text=text, blocks=blocks)
        self.ts = resp["ts"]
        return str(resp["ts"])

    async def clear_status(self) -> None:
        s = self.surface
        if s.assistant_thread and s.thread_ts:
            try:
                await self._call("assistant.threads.setStatus", channel_id=s.channel,
                                 thread_ts=s.thread_ts, status="")
            except SlackApiError:
                pass  # best effort; Slack clears the status when the bot replies anyway
