"""Block Kit validation with Slack's limits, and the rich_text Slack derives from plain text.

Pure functions. `validate_blocks` returns the reasons a payload is invalid in
the wording style of Slack's `response_metadata.messages`; an empty list means
valid. Only the limits the issue names are enforced (see README).
"""

from __future__ import annotations

import re
import secrets
from typing import Any

__all__ = [
    "MAX_TEXT", "normalized", "validate_blocks", "rich_text_from", "text_from_blocks",
    "mentioned_users",
]

# Slack documents 40,000 characters, but real posts fail with msg_too_long at ~4,000
# (see shared/data/slack/SOURCES.md); being stricter keeps bots honest.
MAX_TEXT = 4000
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


def _text_of(obj: Any) -> str:
    return obj.get("text", "") if isinstance(obj, dict) else ""


def _check_element(el: Any, where: str, out: list[str]) -> None:
    if not isinstance(el, dict) or "type" not in el:
        out.append(f"[ERROR] missing required field: type [json-pointer:{where}]")
        return
    if len(str(el.get("action_id", ""))) > 255:
        out.append(f"[ERROR] must be less than 256 characters [json-pointer:{where}/action_id]")
    if el["type"] == "button":
        if len(str(el.get("value", ""))) > 2000:
            out.append(f"[ERROR] must be less than 2001 characters [json-pointer:{where}/value]")
        if not isinstance(el.get("text"), dict):
            out.append(f"[ERROR] missing required field: text [json-pointer:{where}]")
    if el["type"] == "plain_text_input" and int(el.get("max_length", 0) or 0) > 3000:
        out.append(f"[ERROR] must be at most 3000 [json-pointer:{where}/max_length]")


def validate_blocks(blocks: Any, *, view: bool = False) -> list[str]:
    if not isinstance(blocks, list):
        return ["[ERROR] blocks must be an array [json-pointer:/blocks]"]
    limit = MAX_VIEW_BLOCKS if view else MAX_MESSAGE_BLOCKS
    out: list[str] = []
    if len(blocks) > limit:
        out.append(f"[ERROR] no more than {limit} items allowed [json-pointer:/blocks]")
    for i, block in enumerate(blocks):
        where = f"/blocks/{i}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            out.append(f"[ERROR] missing required field: type [json-pointer:{where}]")
            continue
        if len(str(block.get("block_id", ""))) > 255:
            out.append(f"[ERROR] must be less than 256 characters [json-pointer:{where}/block_id]")
        kind = block["type"]
        if kind == "section":
            if len(_text_of(block.get("text"))) > 3000:
                out.append(f"[ERROR] must be less than 3001 characters [json-pointer:{where}/text]")
            if "text" not in block and "fields" not in block:
                out.append(f"[ERROR] must provide either text or fields [json-pointer:{where}]")
            if "accessory" in block:
                _check_element(block["accessory"], f"{where}/accessory", out)
        elif kind == "header" and len(_text_of(block.get("text"))) > 150:
            out.append(f"[ERROR] must be less than 151 characters [json-pointer:{where}/text]")
        elif kind == "actions":
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements:
                out.append(f"[ERROR] missing required field: elements [json-pointer:{where}]")
            else:
                for j, el in enumerate(elements):
                    _check_element(el, f"{where}/elements/{j}", out)
        elif kind == "input":
            _check_element(block.get("element"), f"{where}/element", out)
    return out


def normalized(obj: Any) -> Any:
    """Blocks as Slack stores them: plain_text gains `emoji`, mrkdwn gains `verbatim`."""
    if isinstance(obj, list):
        return [normalized(o) for o in obj]
    if not isinstance(obj, dict):
        return obj
    out = {k: normalized(v) for k, v in obj.items()}
    if out.get("type") == "plain_text" and "text" in out:
        out.setdefault("emoji", True)
    elif out.get("type") == "mrkdwn" and "text" in out:
        out.setdefault("verbatim", False)
    elif out.get("type") == "input":
        out.setdefault("optional", False)
    return out


def rich_text_from(text: str) -> list[dict[str, Any]]:
    """The rich_text block Slack attaches to a message posted as plain text."""
    elements: list[dict[str, Any]] = []
    pos = 0
    for m in _MENTION.finditer(text):
        if m.start() > pos:
            elements.append({"type": "text", "text": text[pos:m.start()]})
        elements.append({"type": "user", "user_id": m.group(1)})
        pos = m.end()
    if pos < len(text):
        elements.append({"type": "text", "text": text[pos:]})
    return [{"type": "rich_text", "block_id": secrets.token_hex(2),
             "elements": [{"type": "rich_text_section", "elements": elements}]}]


def text_from_blocks(blocks: list[dict[str, Any]]) -> str:
    """Fallback text when a message has blocks but no text, as Slack's notifications do."""
    parts = [_text_of(b.get("text")) for b in blocks if isinstance(b, dict)]
    return "\n".join(p for p in parts if p)


def mentioned_users(text: str) -> list[str]:
    return _MENTION.findall(text or "")
