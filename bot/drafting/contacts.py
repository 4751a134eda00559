"""Contact details a draft gives that no one gave the model.

Pure functions. Asked to help a customer, the packaged base model invents a plausible
way to reach someone ("send an email to customer service@thrivetech.com", seen live): an
address, a link or a phone number that the conversation, the request and the sources do
not hold. A customer who follows it reaches no one, or someone else. Such a draft is
flagged beside its provenance, naming them, and where the channel posts without review
it waits for a person instead.

A detail counts as given when what the model was shown holds it: an email address
whatever its case; a link without its scheme, "www." or a closing "/" (a site's root is
given when one of its pages is); a phone number by its digits (with or without a country
code: the last seven or more digits agree).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from bot.prompts import the_ask

__all__ = ["INVENTED_CONTACT", "contacts", "invented_contacts", "shown", "without_contacts"]

# The flag's name, in `tandem_drafts_flagged_total{flag=...}` and `T.HELD_BECAUSE`.
INVENTED_CONTACT = "invented_contact"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}", re.IGNORECASE)
_URL = re.compile(r"(?:https?://|www\.)[^\s<>|()\[\]{}\"'`]+", re.IGNORECASE)
# A run of digit groups: "+1 (555) 123-4567", "020 7946 0958", "+49 30 1234567".
_PHONE = re.compile(r"(?<![\w+/.-])\+?\(?\d[\d ().-]{5,}\d(?![\w/]|[.-]\d)")
_DATE = re.compile(r"\d{4}[./-]\d{1,2}[./-]\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}")
_TRAILING = ".,;:!?/"
PHONE_DIGITS = (9, 15)  # a phone number's length, with its country code (E.164: 15 at most)
SAME_NUMBER = 7  # digits at the end two spellings of a number must share


def contacts(text: str) -> list[tuple[str, str]]:
    """The email addresses, links and phone numbers in `text`: (kind, as written), each
    once, kind "email", "link" or "phone"."""
    found: dict[tuple[str, str], None] = {}
    for match in _URL.finditer(text):
        found["link", match.group().rstrip(_TRAILING)] = None
    without_links = _URL.sub(" ", text)
    for match in _EMAIL.finditer(without_links):
        found["email", match.group().rstrip(_TRAILING)] = None
    for match in _PHONE.finditer(_EMAIL.sub(" ", without_links)):
        number = match.group().strip(" .-")
        if _is_phone(number):
            found["phone", number] = None
    return list(found)


def without_contacts(text: str) -> str:
    """`text` with its email addresses, links and phone numbers blanked out."""
    text = _EMAIL.sub(" ", _URL.sub(" ", text))
    return _PHONE.sub(lambda m: " " if _is_phone(m.group().strip(" .-")) else m.group(), text)


def invented_contacts(text: str, given: Iterable[str]) -> tuple[str, ...]:
    """The contact details in `text`, as written, that none of the `given` texts (what
    the model was shown: the ask with its conversation and sources, the sources' links)
    holds."""
    seen = "\n".join(given)
    lower = seen.lower()
    numbers = [_digits(n) for n in _PHONE.findall(seen)]
    invented = []
    for kind, detail in contacts(text):
        if kind == "phone":
            digits = _digits(detail)
            held = any(_same_number(digits, other) for other in numbers)
        else:
            held = _holds(lower, _bare(detail), subdomains=kind == "link")
        if not held:
            invented.append(detail)
    return tuple(invented)


def shown(messages: list[dict[str, Any]], sources: Iterable[Mapping[str, Any]] = (),
          team: Iterable[str] = ()) -> list[str]:
    """What a draft's contact details may come from: what the model was shown, the ask
    (its conversation, request and sources' text; not the prompt's examples, which are
    made up) and the sources' links, and the `team`'s own (`Settings.contacts`)."""
    ask = the_ask(messages)
    return [*([] if ask is None else [ask]), *(str(src.get("url") or "") for src in sources),
            *team]


def _is_phone(number: str) -> bool:
    """Whether a run of digit groups is a phone number: 9 to 15 digits, not a date, with
    a "+" or in groups."""
    digits = _digits(number)
    return PHONE_DIGITS[0] <= len(digits) <= PHONE_DIGITS[1] and not _DATE.search(number) \
        and (number.startswith("+") or re.search(r"\d[ ().-]+\d", number) is not None)


def _bare(detail: str) -> str:
    """A link or address as it is compared: lower case, no scheme, "www." or end "/"."""
    bare = re.sub(r"^(?:https?://)?(?:www\.)?", "", detail.lower())
    return bare.rstrip(_TRAILING)


def _holds(seen: str, bare: str, *, subdomains: bool) -> bool:
    """Whether `seen` has `bare` whole: as an address, or as a link (or its start, or
    with `subdomains` a link to a subdomain of it)."""
    before = r"(?<![\w+-])" if subdomains else r"(?<![\w.+-])"
    return re.search(before + re.escape(bare) + r"(?![\w-]|\.\w)", seen) is not None


def _digits(number: str) -> str:
    return re.sub(r"\D", "", number)


def _same_number(a: str, b: str) -> bool:
    short, long = sorted((a, b), key=len)
    return len(short) >= SAME_NUMBER and long.endswith(short)
