"""Block Kit for drafts, verdicts, failures, modals and App Home. Pure functions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.drafting.split import SECTION_LIMIT, split_text
from bot.kb.citations import escape_mrkdwn
from bot.kb.evidence import plain
from bot.kb.grounding import Grounding
from bot.slack import ids
from bot.texts import T

__all__ = [
    "draft_blocks", "edit_modal", "edited_text", "evidence_line", "failed_blocks",
    "feedback_blocks", "home_view", "pencil_blocks", "reject_modal", "under_text",
    "verdict_blocks",
]

Block = dict[str, Any]
MAX_TEXT_SECTIONS = 40  # leaves room for the label, context and actions under 50 blocks
JOBS = ("document", "question", "support")


def _mrkdwn(text: str) -> Block:
    return {"type": "mrkdwn", "text": text}


def _sections(text: str) -> list[Block]:
    parts = split_text(text or " ", SECTION_LIMIT)
    if len(parts) > MAX_TEXT_SECTIONS:
        parts = parts[: MAX_TEXT_SECTIONS - 1] + [T.LONGER_THAN_SHOWN]
    return [{"type": "section", "text": _mrkdwn(p if p.strip() else " ")} for p in parts]


def _button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    button: Block = {"type": "button", "text": {"type": "plain_text", "text": text},
                     "action_id": action_id, "value": value}
    if style:
        button["style"] = style
    return button


FIGURES_NAMED = 5  # invented figures a provenance line names


def _as_code(items: Sequence[str]) -> str:
    """`items` as code spans, comma-separated: "`a`, `b`" (a backtick in one is dropped)."""
    return ", ".join(f"`{escape_mrkdwn(i).replace('`', '')}`" for i in items)


def provenance_line(*, job: str, prompt: str, version: str, model: str, route_reason: str,
                    sources: list[dict[str, Any]] | None = None, draft_version: int = 1,
                    repeats_example: bool = False, cut: str | None = None,
                    not_in_sources: Grounding | None = None, after_quote: bool = False,
                    invented_contacts: Sequence[str] = (),
                    invented_figures: Sequence[str] = (),
                    unoffered_promises: Sequence[str] = (),
                    foreign_words: Sequence[str] = ()) -> str:
    """What a draft is, where it came from, and what to check before approving it: its
    job, prompt, model and sources, and the warnings drafting found (`after_quote`: its
    grounding judged what the answer adds to its opening's quote)."""
    bits = [f"*{T.JOB_NAMES.get(job, job)}*", f"prompt `{prompt}@{version}`", f"model `{model}`"]
    if draft_version > 1:
        bits.append(f"version {draft_version}")
    if route_reason:
        bits.append(f"routed: {route_reason}")
    if sources:
        titles = dict.fromkeys(str(s.get("title", "?")) for s in sources[:5])  # each once
        bits.append("sources: " + ", ".join(titles))
    if repeats_example:  # `bot.prompts.repeats_example`
        bits.append(T.REPEATS_EXAMPLE)
    if cut in T.CUTS:  # what the draft's end was cut for, as its usage records
        bits.append(T.CUTS[cut])
    if not_in_sources is not None and not_in_sources.flagged:  # `bot.kb.grounding`
        examples = ", ".join(f"“{w}”" for w in not_in_sources.unheld[:3])
        said = T.NOT_IN_SOURCES_AFTER_QUOTE if after_quote else T.NOT_IN_SOURCES
        bits.append(said.format(unheld=len(not_in_sources.unheld),
                                words=not_in_sources.words, examples=examples))
    if invented_contacts:  # `bot.drafting.contacts`
        bits.append(T.INVENTED_CONTACTS.format(details=_as_code(invented_contacts)))
    if invented_figures:  # `bot.drafting.figures`, the first few: a listing may hold dozens
        more = len(invented_figures) - FIGURES_NAMED
        bits.append(T.INVENTED_FIGURES.format(
            figures=_as_code(invented_figures[:FIGURES_NAMED])
            + (T.AND_MORE.format(n=more) if more > 0 else "")))
    if unoffered_promises:  # `bot.drafting.promises`
        bits.append(T.UNOFFERED_PROMISES.format(remedies=_as_code(unoffered_promises)))
    if foreign_words:  # `bot.drafting.foreign`
        bits.append(T.FOREIGN_WORDS.format(words=_as_code(foreign_words)))
    return " · ".join(bits)


def evidence_line(n: int, sentence: str, sources: list[dict[str, Any]],
                  quoted: bool = False) -> str:
    """The sentence of source [n] that best matches the question (`bot.kb.evidence`), or
    where the answer opens with it (`quoted`), only which page it is from."""
    title = escape_mrkdwn(next((str(s.get("title") or "") for s in sources
                                if s.get("n") == n), "")).replace("*", "")
    if quoted:
        return T.EVIDENCE_QUOTED.format(n=n, title=title)
    return T.EVIDENCE.format(n=n, title=title, sentence=escape_mrkdwn(plain(sentence)))


def under_text(blocks: list[Block]) -> list[Block]:
    """The blocks after a message's text sections: what goes under streamed text."""
    last = max(i for i, block in enumerate(blocks) if block["type"] == "section")
    return blocks[last + 1:]


def _under_text(provenance: str, evidence: str | None) -> list[Block]:
    shown = [evidence, provenance] if evidence else [provenance]
    return [{"type": "context", "elements": [_mrkdwn(line)]} for line in shown]


def draft_blocks(*, draft_id: str, text: str, provenance: str, job: str,
                 header: str | None = None, evidence: str | None = None) -> list[Block]:
    blocks: list[Block] = [{"type": "context", "elements": [_mrkdwn(header or T.DRAFT_LABEL)]}]
    blocks += _sections(text)
    blocks += _under_text(provenance, evidence)
    buttons = [_button("Approve", ids.APPROVE, draft_id, "primary"),
               _button("Edit", ids.EDIT, draft_id)]
    if evidence:  # an answer with a best-matching sentence may be answered with it
        buttons.append(_button(T.USE_QUOTE, ids.QUOTE, draft_id))
    buttons += [_button("Regenerate", ids.REGENERATE, draft_id),
                _button("Reject", ids.REJECT, draft_id, "danger")]
    blocks.append({"type": "actions", "block_id": "review", "elements": buttons})
    others = [j for j in JOBS if j != job]
    blocks.append({"type": "actions", "block_id": "reroute", "elements": [
        _button(T.REROUTE.format(job=T.JOB_ARTICLES[j]), f"{ids.REROUTE}_{j}",
                f"{draft_id}|{j}") for j in others
    ]})
    return blocks


def verdict_blocks(*, text: str, provenance: str, verdict_line: str,
                   header: str | None = None) -> list[Block]:
    blocks: list[Block] = [{"type": "context", "elements": [_mrkdwn(header or T.DRAFT_LABEL)]}]
    blocks += _sections(text)
    blocks.append({"type": "context", "elements": [_mrkdwn(provenance)]})
    blocks.append({"type": "context", "elements": [_mrkdwn(verdict_line)]})
    return blocks


def failed_blocks(*, draft_id: str, what: str, header: str | None = None) -> list[Block]:
    blocks: list[Block] = []
    if header:
        blocks.append({"type": "context", "elements": [_mrkdwn(header)]})
    blocks.append({"type": "section", "text": _mrkdwn(T.FAILED.format(what=what))})
    blocks.append({"type": "actions", "block_id": "retry",
                   "elements": [_button("Retry", ids.RETRY, draft_id, "primary")]})
    return blocks


def feedback_blocks(*, draft_id: str, text: str, provenance: str,
                    evidence: str | None = None) -> list[Block]:
    """An answer posted without review: labelled so, with its feedback buttons."""
    blocks: list[Block] = [{"type": "context", "elements": [_mrkdwn(T.AUTO_POSTED)]}]
    blocks += _sections(text)
    blocks += _under_text(provenance, evidence)
    blocks.append({"type": "actions", "block_id": "feedback", "elements": [
        _button(":+1: Helpful", ids.FEEDBACK_UP, draft_id),
        _button(":-1: Not helpful", ids.FEEDBACK_DOWN, draft_id),
    ]})
    return blocks


def pencil_blocks(draft_id: str) -> list[Block]:
    return [{"type": "section", "text": _mrkdwn(T.PENCIL_PROMPT),
             "accessory": _button("Edit", ids.EDIT_FROM_REACTION, draft_id, "primary")}]


def edit_modal(*, draft_id: str, text: str) -> Block:
    """One input per 3,000 characters, so any draft stays fully editable."""
    parts = split_text(text, 3000)
    blocks = []
    for i, part in enumerate(parts):
        blocks.append({
            "type": "input", "block_id": f"{ids.EDIT_BLOCK_PREFIX}{i}", "optional": i > 0,
            "label": {"type": "plain_text", "text": T.EDIT_PART.format(i=i + 1, n=len(parts))
                      if len(parts) > 1 else "Draft"},
            "element": {"type": "plain_text_input", "action_id": ids.EDIT_ACTION,
                        "multiline": True, "max_length": 3000, "initial_value": part},
        })
    return {"type": "modal", "callback_id": ids.EDIT_VIEW, "private_metadata": draft_id,
            "title": {"type": "plain_text", "text": T.EDIT_TITLE},
            "submit": {"type": "plain_text", "text": T.EDIT_SUBMIT},
            "close": {"type": "plain_text", "text": "Cancel"}, "blocks": blocks}


def edited_text(values: dict[str, dict[str, dict[str, Any]]]) -> str:
    """Rejoin the edit modal's parts in order."""
    keys = sorted((k for k in values if k.startswith(ids.EDIT_BLOCK_PREFIX)),
                  key=lambda k: int(k[len(ids.EDIT_BLOCK_PREFIX):]))
    return "".join((values[k].get(ids.EDIT_ACTION) or {}).get("value") or "" for k in keys)


def reject_modal(draft_id: str) -> Block:
    return {"type": "modal", "callback_id": ids.REJECT_VIEW, "private_metadata": draft_id,
            "title": {"type": "plain_text", "text": T.REJECT_TITLE},
            "submit": {"type": "plain_text", "text": T.REJECT_SUBMIT},
            "close": {"type": "plain_text", "text": "Cancel"},
            "blocks": [{"type": "input", "block_id": ids.REASON_BLOCK, "optional": True,
                        "label": {"type": "plain_text", "text": T.REJECT_LABEL},
                        "element": {"type": "plain_text_input", "action_id": ids.REASON_ACTION,
                                    "multiline": True, "max_length": 2000}}]}


def home_view(*, waiting: list[dict[str, Any]], recent: list[dict[str, Any]],
              rates: list[dict[str, Any]], kb: list[str] | None = None) -> Block:
    """`kb`: lines on the knowledge base (None: no section, as when it is not wanted)."""
    blocks: list[Block] = [{"type": "header", "text": {"type": "plain_text", "text": T.HOME_TITLE}},
                           {"type": "section", "text": _mrkdwn(T.HOME_WAITING)}]
    if not waiting:
        blocks.append({"type": "context", "elements": [_mrkdwn(T.HOME_NONE_WAITING)]})
    for item in waiting[:15]:
        link = f"<{item['permalink']}|open>" if item.get("permalink") else ""
        blocks.append({"type": "section", "text": _mrkdwn(
            f"• {T.JOB_NAMES.get(item['job'], item['job'])} for <@{item['user_id']}> in "
            f"<#{item['channel_id']}> — {item['preview']} {link}")})
    blocks += [{"type": "divider"}, {"type": "section", "text": _mrkdwn(T.HOME_RECENT)}]
    for item in recent[:10]:
        who = f"<@{item['reviewer_id']}>" if item.get("reviewer_id") else "Tandem"
        blocks.append({"type": "context", "elements": [_mrkdwn(
            f"{item['verdict']} · {item['job']} · {who} · {item['when']}")]})
    blocks += [{"type": "divider"}, {"type": "section", "text": _mrkdwn(T.HOME_RATES)}]
    for row in rates:
        blocks.append({"type": "context", "elements": [_mrkdwn(
            f"*{row['job']}* · `{row['model']}`: {row['approval']:.0%} approved, "
            f"{row['edit']:.0%} edited, {row['reject']:.0%} rejected (n={row['n']})")]})
    if kb is not None:
        blocks += [{"type": "divider"}, {"type": "section", "text": _mrkdwn(T.HOME_KB)}]
        blocks += [{"type": "context", "elements": [_mrkdwn(line)]} for line in kb[:12]]
    return {"type": "home", "blocks": blocks[:100]}
