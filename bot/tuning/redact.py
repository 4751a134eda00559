"""PII redaction for exported datasets: pure text in, placeholders out.

What is replaced, in this order (earlier kinds win where matches overlap):

- Slack user mentions `<@U…>` / `<@U…|name>` and bare user IDs `U…`/`W…` → `[USER_n]`
- emails, including Slack's `<mailto:…|…>` links → `[EMAIL_n]`
- card-like numbers: 13–19 digits with spaces/dashes that pass the Luhn check → `[CARD_n]`
- phone numbers: 7–15 digits written like a phone (a leading `+`, separators or
  parentheses, or 10+ bare digits) and not like a date → `[PHONE_n]`
- person names → `[NAME_n]`, found by a deliberately simple detector:
  a known first name (optionally with a capitalised surname), or any capitalised
  word after a greeting/sign-off cue ("Hi", "Dear", "Thanks,", "Regards,"…).

A `Redactor` numbers placeholders consistently for as long as it lives: the
exporter uses one per row, so a customer's email is `[EMAIL_1]` in the prompt
and in the completion alike, while memory stays bounded over millions of rows.

Limits (documented, not hidden): names outside the list and not after a cue
are missed ("ask Oluwaseun"); first names that are also common words (May,
Will, Rose, Bill…) are left out of the list to avoid redacting prose; street
addresses, IBANs and national IDs are not detected.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["Redactor", "luhn_ok", "redact_row"]

_FIRST_NAMES = frozenset("""
aaron adam adrian ahmed aisha alan albert alex alexander alice alicia amanda amber amy
ana andrea andrew angela anna anne anthony antonio arjun ashley barbara ben benjamin beth
betty brandon brian carlos carol caroline catherine charles charlotte chen chris christian
christina christopher claire daniel david deborah dennis diana diego dmitri donald donna
dorothy edward elena elizabeth emily emma eric ethan fatima fernando frank gabriel gary
george grace hannah harry heather helen henry hiroshi ian isabella jack jacob james jane
janet jason jennifer jessica john jonathan jorge jose joseph joshua juan julia julie justin
karen kate katherine kathleen keith kelly kenneth kevin kimberly laura lauren linda lisa
liam lucas lucy luis maria mark martin mary matthew megan melissa michael michelle mohammed
muhammad nancy natalie nathan nicholas nicole noah olivia omar oscar pablo pamela patricia
patrick paul peter priya rachel rahul raj rebecca richard robert ryan samantha samuel sandra
sara sarah scott sean sharon sophia stephanie stephen steven susan thomas timothy tom tyler
victoria vincent walter wei william yuki zoe
""".split())

# Words that follow a greeting or sign-off but are not people.
_NOT_NAMES = frozenset(
    "the team all everyone there customer support sir madam friend friends folks tandem".split()
)

_CUES = r"(?:Hi|Hello|Hey|Dear|Thanks|Thank you|Regards|Cheers|Best|Sincerely|Yours)"

_USER = re.compile(r"<@([UW][A-Z0-9]{6,})(?:\|[^>]*)?>|\b[UW][A-Z0-9]{8,}\b")
_EMAIL = re.compile(
    r"<mailto:[^|>]+(?:\|[^>]*)?>|[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
_CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
_PHONE = re.compile(r"(?<![\w+])\+?\(?\d[\d ().-]{5,}\d(?![\w-])")
_DATE = re.compile(r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}$|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$")
_NAME = re.compile(r"\b([A-Z][a-z]+)(?:\s+([A-Z][a-z]+(?:-[A-Z][a-z]+)?))?\b")
_CUED = re.compile(rf"\b{_CUES},?\s+([A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)\b")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _looks_like_phone(text: str) -> bool:
    digits = re.sub(r"\D", "", text)
    if not 7 <= len(digits) <= 15 or _DATE.match(text.strip()):
        return False
    return text.startswith("+") or bool(re.search(r"[ ().-]", text)) or len(digits) >= 10


class Redactor:
    """Replaces PII with numbered placeholders, the same value getting the same one."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], str] = {}
        self._counts: dict[str, int] = {}

    def _placeholder(self, kind: str, value: str) -> str:
        key = (kind, value.casefold())
        if key not in self._seen:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            self._seen[key] = f"[{kind}_{self._counts[kind]}]"
        return self._seen[key]

    def text(self, text: str) -> str:
        text = _USER.sub(lambda m: self._placeholder("USER", m.group(1) or m.group(0)), text)
        text = _EMAIL.sub(lambda m: self._placeholder("EMAIL", _email_value(m.group(0))), text)
        text = _CARD.sub(self._card, text)
        text = _PHONE.sub(self._phone, text)
        text = _CUED.sub(self._cued_name, text)
        return _NAME.sub(self._name, text)

    def _card(self, m: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", m.group(0))
        return self._placeholder("CARD", digits) if luhn_ok(digits) else m.group(0)

    def _phone(self, m: re.Match[str]) -> str:
        raw = m.group(0)
        if not _looks_like_phone(raw):
            return raw
        return self._placeholder("PHONE", re.sub(r"\D", "", raw))

    def _cued_name(self, m: re.Match[str]) -> str:
        name = m.group(1)
        if name.split()[0].lower() in _NOT_NAMES:
            return m.group(0)
        start = m.start(1) - m.start(0)
        return m.group(0)[:start] + self._placeholder("NAME", name)

    def _name(self, m: re.Match[str]) -> str:
        if m.group(1).lower() not in _FIRST_NAMES:
            return m.group(0)
        return self._placeholder("NAME", m.group(0))

    def value(self, value: Any) -> Any:
        """Redact every string inside a JSON-like value."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {k: (v if k == "role" else self.value(v)) for k, v in value.items()}
        return value


def _email_value(raw: str) -> str:
    if raw.startswith("<mailto:"):
        return raw[len("<mailto:"):].split("|", 1)[0].rstrip(">")
    return raw


def redact_row(row: dict[str, Any]) -> dict[str, Any]:
    """One row with consistent placeholders across its prompt and completions."""
    redacted: dict[str, Any] = Redactor().value(row)
    return redacted
