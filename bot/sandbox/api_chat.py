"""Web API: chat.* (post, update, delete, ephemeral, permalink, streams) and assistant status.

Writes go through `save_message`, which persists, tells browser listeners, and emits
the events Slack would send the app about its own messages (message on post,
message_changed on update), so self-event filtering in the app is exercised.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from bot.sandbox import payloads
from bot.sandbox.apierror import ApiError, require
from bot.sandbox.blocks import (
    MAX_TEXT,
    normalized,
    rich_text_from,
    text_from_blocks,
    validate_blocks,
)
from bot.sandbox.messages import api_message, bot_message
from bot.sandbox.workspace import BOT_USER_ID, Channel

if TYPE_CHECKING:
    from bot.sandbox.server import Sandbox

__all__ = ["METHODS", "bot_channel", "checked_content", "save_message"]


def bot_channel(sb: Sandbox, ref: Any, *, names: bool = False) -> Channel:
    """The channel the bot wants to write to; Slack accepts a user ID for the DM."""
    ref = str(ref or "")
    if ref.startswith(("U", "W")) and ref in sb.ws.users:
        ch: Channel | None = sb.ws.dm(ref)
    else:
        ch = sb.ws.channel(ref, names=names and ref.startswith("#"))
    if ch is None or ch.hidden_from(BOT_USER_ID):
        raise ApiError("channel_not_found")
    if BOT_USER_ID not in ch.members:
        raise ApiError("not_in_channel")
    return ch


def checked_content(args: dict[str, Any], *, need: bool = True) -> tuple[str, list[Any] | None]:
    text, blocks = str(args.get("text") or ""), args.get("blocks")
    if blocks is not None:
        problems = validate_blocks(blocks)
        if problems:
            raise ApiError("invalid_blocks", messages=problems)
    if need and not text and not blocks and not args.get("attachments"):
        raise ApiError("no_text")
    if len(text) > MAX_TEXT:
        raise ApiError("msg_too_long")
    return text or text_from_blocks(blocks or []), normalized(blocks) if blocks else None


def _thread(sb: Sandbox, channel: str, thread_ts: Any) -> str | None:
    if not thread_ts:
        return None
    parent = sb.store.get_message(channel, str(thread_ts))
    # A reply to a reply lands in the parent's thread, as in Slack.
    return str(parent.get("thread_ts") or parent["ts"]) if parent else str(thread_ts)


def save_message(sb: Sandbox, msg: dict[str, Any], *, previous: dict[str, Any] | None = None,
                 emit: bool = True) -> None:
    """Store `msg`, tell the browser, and deliver its event to the app (a new message,
    or `message_changed` from `previous`) unless `emit` is off or it is ephemeral."""
    sb.store.put_message(msg)
    sb.notify(channel=msg["channel"])
    if not emit or msg.get("ephemeral_for"):
        return
    if previous is None:
        event = payloads.message_event(msg, ws=sb.ws)
    else:
        event = payloads.message_changed_event(msg, previous, ws=sb.ws, ts=sb.store.next_ts())
    sb.spawn(sb.deliver_events([payloads.event_callback(event, ws=sb.ws)]))


def _own(sb: Sandbox, args: dict[str, Any]) -> tuple[Channel, dict[str, Any]]:
    require(args, "channel", "ts")
    ch = bot_channel(sb, args["channel"])
    msg = sb.store.get_message(ch.id, str(args["ts"]))
    if msg is None:
        raise ApiError("message_not_found")
    if msg.get("user") != BOT_USER_ID:
        raise ApiError("cant_update_message")
    return ch, msg


async def post_message(sb: Sandbox, args: dict[str, Any]) -> dict[str, Any]:
    require(args, "channel")
    ch = bot_channel(sb, args["channel"], names=True)
    text, blocks = checked_content(args)
    extra = {k: args[k] for k in ("attachments", "metadata") if args.get(k)}
    msg = bot_message(sb.store, channel=ch.id, text=text, blocks=blocks,
                      thread_ts=_thread(sb, ch.id, args.get("thread_ts")), extra=extra)
    save_message(sb, msg)
    return {"channel": ch.id, "ts": msg["ts"], "message": api_message(sb.store, msg)}


async def update(sb: Sandbox, args: dict[str, Any]) -> dict[str, Any]:
    ch, old = _own(sb, args)
    text, blocks = checked_content(args, need=False)
    new = dict(old)
    if "text" in args or blocks:
        new["text"] = text if "text" in args else (text or old.get("text", ""))
    new["blocks"] = blocks if blocks is not None else rich_text_from(new["text"])
    new["edited"] = {"user": BOT_USER_ID, "ts": f"{time.time():.6f}"}
    save_message(sb, new, previous=old)
    return {"channel": ch.id, "ts": new["ts"], "text": new["text"],
            "message": api_message(sb.store, new)}


async def delete(sb: Sandbox, args: dict[str, Any]) -> dict[str, Any]:
    ch, msg = _own(sb, args)
    sb.store.delete_message(ch.id, msg["ts"])
    sb.notify(channel=ch.id)
    return {"channel": ch.id, "ts": msg["ts"]}


async def post_ephemeral(sb: Sandbox, args: dict[str, Any]) -> dict[str, Any]:
    require(args, "channel", "user")
    ch = bot_channel(sb, args["channel"], names=True)
    if str(args["user"]) not in ch.members:
        raise ApiError("user_not_in_channel")
    text, blocks = checked_content(args)
    msg = bot_message(sb.store, channel=ch.id, text=text, blocks=blocks,
                      thread_ts=_thread(sb, ch.id, args.get("thread_ts")),
                      extra={"ephemeral_for": str(args["user"])})
    save_message(sb, msg)
    return {"message_ts": msg["ts"]}


async def permalink(sb: Sandbox, args: dict[str, Any]) -> dict[str, Any]:
    require(args, "channel", "message_ts")
    ch = sb.ws.channel(str(args["channel"]), names=False)
    if ch is None or ch.hidden_from(BOT_USER_ID):
        raise ApiError("channel_not_found")
    msg = sb.store.get_message(ch.id, str(args["message_ts"]))
    if msg is None:
        raise ApiError("message_not_found")
    link = f"{sb.url}/archives/{ch.id}/p{msg['ts'].replace('.', '')}"
    if msg.get("thread_ts") and msg["thread_ts"] != msg["ts"]:
        link += f"?thread_ts={msg['thread_ts']}&cid={ch.id}"
    return {"channel": ch.id, "permalink": link}


def _stream_text(args: dict[str, Any]) -> str:
    """New markdown from a stream call: `markdown_text`, or the markdown_text chunks that
    slack_sdk's chat_stream() sends. Plan and task chunks are kept but not rendered."""
    text = str(args.get("markdown_text") or "")
    for chunk in args.get("chunks") or []:
        if isinstance(chunk, dict) and chunk.get("type") == "markdown_text":
            text += str(chunk.get("text") or "")
    return text


def _stream_blocks(text: str, extra: list[Any] | None = None) -> list[Any]:
    # Slack renders streamed markdown_text as a `markdown` block; stopStream blocks follow it.
    return [{"type": "markdown", "text": text}, *(extra or [])]


async def start_stream(sb: Sandbox, args: dict[str, Any]) -> dict[str, Any]:
    require(args, "channel", "thread_ts")
    ch = bot_channel(sb, args["channel"])
    if not ch.is_im and not (args.get("recipient_user_id") and args.get("recipient_team_id")):
        # Slack requires the recipient when streaming into a channel (not a DM).
        raise ApiError("invalid_arguments", messages=[
            "[ERROR] recipient_user_id and recipient_team_id are required in channels"])
    text = _stream_text(args)
    if len(text) > MAX_TEXT * 3:
        raise ApiError("msg_too_long")
    msg = bot_message(sb.store, channel=ch.id, text=text, blocks=_stream_blocks(text),
                      thread_ts=_thread(sb, ch.id, args["thread_ts"]), extra={"streaming": True})
    save_message(sb, msg)
    return {"channel": ch.id, "ts": msg["ts"]}


async def append_stream(sb: Sandbox, args: dict[str, Any]) -> dict[str, Any]:
    ch, msg = _own(sb, args)
    if not msg.get("streaming"):
        raise ApiError("message_not_in_streaming_state")
    msg["text"] = msg.get("text", "") + _stream_text(args)
    msg["blocks"] = _stream_blocks(msg["text"])
    save_message(sb, msg, emit=False)
    return {"channel": ch.id, "ts": msg["ts"]}


async def stop_stream(sb: Sandbox, args: dict[str, Any]) -> dict[str, Any]:
    ch, old = _own(sb, args)
    if not old.get("streaming"):
        raise ApiError("message_not_in_streaming_state")
    extra = args.get("blocks")
    if extra is not None and (problems := validate_blocks(extra)):
        raise ApiError("invalid_blocks", messages=problems)
    new = {**old, "streaming": False}
    new["text"] = old.get("text", "") + _stream_text(args)
    new["blocks"] = _stream_blocks(new["text"], normalized(extra) if extra else None)
    if args.get("metadata"):
        new["metadata"] = args["metadata"]
    save_message(sb, new, previous={**old, "streaming": True})
    message = {**api_message(sb.store, new), "streaming_state": "completed"}
    return {"channel": ch.id, "ts": new["ts"], "message": message}


async def set_status(sb: Sandbox, args: dict[str, Any]) -> dict[str, Any]:
    require(args, "channel_id", "thread_ts")
    ch = bot_channel(sb, args["channel_id"])
    sb.statuses[(ch.id, str(args["thread_ts"]))] = str(args.get("status") or "")
    sb.notify(channel=ch.id)
    return {}


METHODS = {
    "chat.postMessage": post_message, "chat.update": update, "chat.delete": delete,
    "chat.postEphemeral": post_ephemeral, "chat.getPermalink": permalink,
    "chat.startStream": start_stream, "chat.appendStream": append_stream,
    "chat.stopStream": stop_stream, "assistant.threads.setStatus": set_status,
}
