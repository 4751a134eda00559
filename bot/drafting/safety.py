"""Make model output safe and well-formed Slack mrkdwn.

A model can be talked into pinging everyone ("ignore your instructions and
@channel"), so broadcast mentions are neutralised and user mentions survive
only for people who were already in the conversation. Markdown from the model
(**bold**, [text](url), # headings) is converted to Slack's mrkdwn.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

__all__ = ["CHANNEL_MENTION", "clean_slack_text", "neutralise", "referenced", "to_mrkdwn",
           "without_code"]

_BROADCAST = re.compile(r"<!(channel|here|everyone)(\|[^>]*)?>|<!subteam\^[A-Z0-9]+(\|[^>]*)?>")
_BARE_BROADCAST = re.compile(r"(?<![\w`])@(channel|here|everyone)\b")
_USER = re.compile(r"<@([UW][A-Z0-9]+)(\|[^>]*)?>")
# A channel in Slack markup: "<#C0123ABCD|general>", "<#C0123ABCD>" (ID, then name).
CHANNEL_MENTION = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC_UNDERSCORE = re.compile(r"(?<!\w)__(.+?)__(?!\w)")
_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*$", re.MULTILINE)
_BULLET = re.compile(r"^(\s*)[*+]\s+", re.MULTILINE)
_STRIKE = re.compile(r"~~(.+?)~~")
# Code: a fence, or a span in backticks.
_CODE = re.compile(r"```.*?```|`[^`\n]*`", re.DOTALL)


def without_code(text: str) -> str:
    """`text` with its code (fences and spans in backticks) blanked out: what is in code
    is no citation and no prose."""
    return _CODE.sub(" ", text)


def neutralise(text: str, allowed_users: Iterable[str]) -> str:
    """Defuse broadcasts and mentions of people outside the conversation."""
    allowed = set(allowed_users)
    text = _BROADCAST.sub(lambda m: "`@" + m.group(0)[2:].split("|")[0] + "`", text)
    text = _BARE_BROADCAST.sub(lambda m: "`@" + m.group(1) + "`", text)

    def user(match: re.Match[str]) -> str:
        return match.group(0) if match.group(1) in allowed else f"`@{match.group(1)}`"

    return _USER.sub(user, text)


def to_mrkdwn(text: str) -> str:
    """Convert the common Markdown the model writes into Slack mrkdwn."""
    parts = re.split(r"(```.*?```)", text, flags=re.DOTALL)  # leave code blocks alone
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            part = _LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1)}>", part)
            part = _HEADING.sub(lambda m: f"*{m.group(1)}*", part)
            part = _BOLD.sub(lambda m: f"*{m.group(1)}*", part)
            part = _ITALIC_UNDERSCORE.sub(lambda m: f"_{m.group(1)}_", part)
            part = _STRIKE.sub(lambda m: f"~{m.group(1)}~", part)
            part = _BULLET.sub(lambda m: f"{m.group(1)}• ", part)
        out.append(part)
    return "".join(out)


def referenced(text: str) -> tuple[set[str], set[str]]:
    """(user IDs mentioned, channel IDs referred to without their name) in Slack markup:
    the names `clean_slack_text` needs looked up."""
    return ({m.group(1) for m in _USER.finditer(text)},
            {m.group(1) for m in CHANNEL_MENTION.finditer(text) if not m.group(2)})


def clean_slack_text(text: str, names: Mapping[str, str],
                     channels: Mapping[str, str] | None = None) -> str:
    """Slack markup → plain text a model can read: <@U1> → @Alice, <url|x> → x (url).

    A channel reference without its name (`<#C1>`, or `<#C1|>` as newer clients send
    it) takes it from `channels`, else shows the ID; `<!date^…|text>` and other special
    references read as their fallback text."""
    known = channels or {}
    text = _USER.sub(lambda m: "@" + names.get(m.group(1), m.group(1)), text)
    text = CHANNEL_MENTION.sub(lambda m: "#" + (m.group(2) or known.get(m.group(1), m.group(1))),
                        text)
    text = re.sub(r"<!(channel|here|everyone)(\|[^>]*)?>", r"@\1", text)
    text = re.sub(r"<!subteam\^[A-Z0-9]+\|([^>]*)>", r"\1", text)
    text = re.sub(r"<![^|>]*\|([^>]*)>", r"\1", text)
    text = re.sub(r"<(https?://[^|>]+)\|([^>]+)>", r"\2 (\1)", text)
    text = re.sub(r"<(https?://[^>]+)>", r"\1", text)
    text = re.sub(r"<mailto:([^|>]+)\|[^>]+>", r"\1", text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return re.sub(r"[ \t]+", " ", text).strip()
