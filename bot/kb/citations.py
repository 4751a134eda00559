"""Citation hygiene for answers: every [n] must name a retrieved source.

Pure functions. `check_citations` removes markers that point at no source (a
model that invents "[7]" with five sources must not produce a dead link);
`cited_sources` picks the sources the answer actually cites, which
`sources_block` (Slack mrkdwn) and `sources_markdown` render as its "Sources" block.
`ListingGuard` stops a streamed answer where the model starts listing sources of its
own, as the numbered sources in its prompt teach a base model to.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from bot.drafting.safety import without_code
from bot.kb.ranking import query_terms, term_coverage
from bot.kb.types import Source

__all__ = ["CITATION", "CUT_LISTING", "ListingGuard", "answer_basis", "answer_part",
           "check_citations", "cite", "cited_numbers", "cited_sources", "escape_mrkdwn",
           "sources_block", "sources_markdown", "starts_listing", "unknown_citations",
           "with_sources"]

# A citation marker: "[2]", "[1, 3]" (the numbers in group 1).
CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")

# Why an answer was cut short, as a draft's `usage["cut"]` records it.
CUT_LISTING = "made_up_sources"
# A line opening with a source number, as the prompt lists its sources: "[6] A title".
_NUMBERED = re.compile(r"[ \t]*\[(\d+)\][ \t]*(.*)")
_SENTENCE_END = (".", "!", "?", "。", "！", "？", "।", "؟")


def cited_numbers(answer: str) -> list[int]:
    seen: dict[int, None] = {}
    for match in CITATION.finditer(answer):
        for part in match.group(1).split(","):
            seen.setdefault(int(part), None)
    return list(seen)


def answer_basis(answer: str, sources: Sequence[Mapping[str, Any]]) -> dict[str, str | None]:
    """The documents an answer rests on, with their content hashes when it was drafted
    (None where the draft did not record one): those of the sources (as a draft records
    them: "n", "doc_id", "doc_hash") that it cites, or all of them when it cites none."""
    cited = set(cited_numbers(answer))
    used = [x for x in sources if x.get("n") in cited] or list(sources)
    return {str(x["doc_id"]): x.get("doc_hash") for x in used if x.get("doc_id")}


def check_citations(answer: str, sources: Sequence[Source]) -> str:
    """Drop citation numbers that match no source; keep the valid ones in each bracket."""
    valid = {s.n for s in sources}

    def keep(match: re.Match[str]) -> str:
        numbers = [p.strip() for p in match.group(1).split(",")]
        good = [n for n in numbers if int(n) in valid]
        return f"[{', '.join(good)}]" if good else ""

    cleaned = CITATION.sub(keep, answer)
    # A removed marker can leave "word ." or a double space behind.
    cleaned = re.sub(r"[ \t]+([.,;:!?])", r"\1", cleaned)
    return re.sub(r"[ \t]{2,}", " ", cleaned)


def escape_mrkdwn(text: str) -> str:
    """`&`, `<` and `>` as Slack's mrkdwn needs them, so no text becomes a link or ping."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _path(path: str, mrkdwn: bool) -> str:
    """A file path as inline code. A backtick in it would end the code early (the rest
    shown as text, "*rules*" in bold), and Slack's mrkdwn reads `<`, `>` and `&` even in
    code: "R&D <draft>.md" is shown as named, with its backticks as "ˋ"."""
    path = path.replace("`", "ˋ")
    return f"`{escape_mrkdwn(path) if mrkdwn else path}`"


def _link(source: Source) -> str:
    title = escape_mrkdwn(source.title or source.url).replace("|", "/")
    if source.url.startswith(("http://", "https://")):
        return f"<{source.url}|{title}>"
    # A file path is not a link Slack can open: show it as code next to the title.
    code = _path(source.url, mrkdwn=True)
    return f"{title} {code}" if source.title else code


def cited_sources(answer: str, sources: Sequence[Source], question: str = "") -> list[Source]:
    """The sources `answer` cites ("[2]", "[1, 3]"), in their order. When it cites none
    (a small model often leaves the markers out), those that hold a word of `question`,
    so a hotel question does not list the VPN page it was also given; all of them if none
    does (a match by meaning alone)."""
    cited = set(cited_numbers(answer))
    if cited:
        return [s for s in sources if s.n in cited] or list(sources)
    terms = query_terms(question)
    return [s for s in sources if term_coverage(terms, f"{s.title} {s.heading} {s.text}") > 0] \
        or list(sources)


def _recorded(sources: Sequence[Mapping[str, Any]]) -> list[Source]:
    """Sources as a draft records them, as `Source`s."""
    return [Source(n=x["n"], title=x["title"], url=x["url"], text=x["text"],
                   heading=x.get("heading", ""), collection=x.get("collection", ""),
                   score=float(x.get("score", 0.0)), doc_id=x.get("doc_id", ""),
                   chunk_id=x.get("chunk_id", "")) for x in sources]


def cite(text: str, sources: Sequence[Mapping[str, Any]], question: str) -> tuple[str, str]:
    """`text` without citations of sources that were not retrieved, then the Sources block
    (`cited_sources`), from sources as a draft records them. Returns it in Slack mrkdwn and
    in Markdown (what a streamed message ends with)."""
    found = _recorded(sources)
    checked = check_citations(text, found).rstrip()
    shown = cited_sources(checked, found, question)
    return checked + "\n\n" + sources_block(shown), checked + "\n\n" + sources_markdown(shown)


# An index after a name ("argv[0]", "x[1][2]"): brackets a reviewer writes that cite
# nothing, as code does (`without_code`).
_INDEXED = re.compile(r"(?<=[\w\])])\[\d+(?:\s*,\s*\d+)*\]")


def unknown_citations(text: str, numbers: Collection[int]) -> list[int]:
    """The citation numbers of an answer's text (without its Sources block) that are not
    among `numbers`: in a reviewer's edit, a "[7]" of an answer with five sources. Code
    and indexes ("`argv[0]`", "items[3]") are not citations."""
    prose = _INDEXED.sub(" ", without_code(answer_part(text)))
    return [n for n in cited_numbers(prose) if n not in numbers]


def with_sources(text: str, sources: Sequence[Mapping[str, Any]], draft: str = "") -> str:
    """A reviewer's edit of an answer, with the Sources block of the sources it cites:
    appended when the edit cites some but dropped the block (its "[1]" would name
    nothing the reader can see), and rebuilt when it kept the `draft`'s block as it was
    but cites other sources now (a "[2]" edited in, listed nowhere; a page whose
    sentence was cut, still listed). A block the reviewer changed, or an edit citing
    nothing, is theirs to post as written."""
    answer = answer_part(text)
    cited = set(cited_numbers(answer))
    if not cited:
        return text
    if answer != text and _block(text) != _block(draft):
        return text
    shown = [s for s in _recorded(sources) if s.n in cited]
    return f"{answer.rstrip()}\n\n{sources_block(shown)}" if shown else text


def _block(text: str) -> str:
    """The Sources block `text` ends with (`answer_part` is what comes before it), or ""."""
    return text[len(answer_part(text)):].strip()


def _by_document(shown: Sequence[Source]) -> list[tuple[str, Source]]:
    """One entry per page, its numbers together ("1, 3"), in order of first mention:
    five passages of two pages are two lines, not the same title three times."""
    groups: dict[tuple[str, str], list[Source]] = {}
    for source in shown:
        groups.setdefault((source.url, source.title), []).append(source)
    return [(", ".join(str(s.n) for s in group), group[0]) for group in groups.values()]


# The Sources block's first line, in Slack mrkdwn and in Markdown.
_HEAD, _HEAD_MARKDOWN = "*Sources*", "**Sources**"


def sources_block(shown: Sequence[Source]) -> str:
    """`*Sources*` then one `[n] <url|title>` line per page (Slack mrkdwn)."""
    if not shown:
        return ""
    return "\n".join([_HEAD, *(f"[{ns}] {_link(s)}" for ns, s in _by_document(shown))])


def sources_markdown(shown: Sequence[Source]) -> str:
    """The same block in Markdown, for the end of a streamed message."""
    if not shown:
        return ""
    return "\n".join([_HEAD_MARKDOWN,
                      *(f"[{ns}] {_markdown_link(s)}" for ns, s in _by_document(shown))])


def answer_part(text: str) -> str:
    """A draft's text without the Sources block appended to it (either rendering)."""
    for head in (f"\n\n{_HEAD}\n", f"\n\n{_HEAD_MARKDOWN}\n"):
        if head in text:
            return text[:text.rindex(head)]
    return text


def _markdown_link(source: Source) -> str:
    title = (source.title or source.url).replace("[", "(").replace("]", ")")
    if source.url.startswith(("http://", "https://")):
        return f"[{title}]({source.url})"
    code = _path(source.url, mrkdwn=False)
    return f"{title} ({code})" if source.title else code


def starts_listing(line: str, numbers: Collection[int]) -> bool:
    """Whether `line`, opening a paragraph of an answer, is the model writing a source of
    its own: "[6] A paper's title" (a number no source has), or a heading after a real
    number ("[1] On-call handbook", a URL, nothing), where an answer would have a sentence."""
    match = _NUMBERED.fullmatch(line.rstrip())
    if match is None:
        return False
    return int(match.group(1)) not in numbers or not match.group(2).endswith(_SENTENCE_END)


class ListingGuard:
    """A streamed answer, up to where the model starts listing sources of its own.

    The prompt shows the sources as "[n] Title" then text, and a base model that has
    answered often goes on in kind: "[6] Some paper's title", then made-up or copied
    text, to its token limit (61 of 100 COVID-QA answers of the packaged model did,
    `tests/bench/bench_kb_evidence.py --with-model --no-guard`). `feed` returns the text that can be
    shown now: a line that opens a paragraph with "[" waits for its end, since it may be
    such a heading. At one (`starts_listing`), `cut` is set and the rest is dropped, so the
    stream can stop. `text` is the answer kept.
    """

    def __init__(self, numbers: Collection[int]) -> None:
        self._numbers = set(numbers)
        self._pending = ""  # arrived, not yet shown
        self._line = ""  # shown part of the current line
        self._after_blank = True  # the line before the current one was blank (or none)
        self.text = ""
        self.cut = False

    def feed(self, delta: str) -> str:
        if self.cut:
            return ""
        self._pending += delta
        shown: list[str] = []
        while self._pending:
            line, newline, rest = self._pending.partition("\n")
            opens = self._after_blank and not self._line
            if opens and line.lstrip(" \t")[:1] in ("[", ""):
                if not newline:
                    break  # wait for the line's end: it may be a listing's heading
                if starts_listing(line, self._numbers):
                    self.cut, self._pending = True, ""
                    break
            shown.append(line + newline)
            self._pending = rest
            if newline:
                self._after_blank, self._line = not (self._line + line).strip(), ""
            else:
                self._line += line
        out = "".join(shown)
        self.text += out
        return out

    def finish(self) -> str:
        """The end of the stream: the held last line, unless it is a listing's heading."""
        if self._pending and not self.cut and starts_listing(self._pending, self._numbers):
            self.cut, self._pending = True, ""
        out, self._pending = self._pending, ""
        self.text += out
        return out
