"""Chunking follows headings and paragraphs and keeps exact offsets."""

from __future__ import annotations

from bot.kb.chunking import chunk_document
from bot.kb.types import Document

MD = """# Guide

Intro paragraph.

## Install

Step one. Step two.

### Linux

Use apt.

# Other

Closing words.
"""


def test_chunks_carry_heading_path_and_offsets() -> None:
    doc = Document(doc_id="g", title="Guide", url="g.md", text=MD, kind="markdown")
    chunks = chunk_document(doc, max_chars=40, overlap=0)
    assert [c.heading for c in chunks] == ["Guide", "Guide > Install",
                                           "Guide > Install > Linux", "Other"]
    for c in chunks:
        assert MD[c.start:c.start + len(c.text)] == c.text


def test_long_paragraph_splits_at_sentences_with_overlap() -> None:
    text = " ".join(f"Sentence number {i} says something." for i in range(60))
    chunks = chunk_document(Document(doc_id="t", title="", url="t", text=text),
                            max_chars=300, overlap=80)
    assert len(chunks) > 5
    assert all(len(c.text) <= 300 for c in chunks)
    assert all(c.text.startswith("Sentence") for c in chunks)
    assert chunks[1].start < chunks[0].start + len(chunks[0].text)  # overlap


def test_setext_headings_make_sections_and_code_comments_do_not() -> None:
    text = ("Guide\n=====\n\nIntro paragraph.\n\nInstall\n-------\n\n```bash\n"
            "# fetch the sources\ngit clone repo\n```\n\nThen build.\n\n---\n\nA closing rule.\n")
    doc = Document(doc_id="s", title="Guide", url="s.md", text=text, kind="markdown")
    chunks = chunk_document(doc, max_chars=60, overlap=0)
    assert [c.heading for c in chunks] == ["Guide", "Guide > Install", "Guide > Install"]
    assert "# fetch the sources" in chunks[1].text
    assert all(text[c.start:c.start + len(c.text)] == c.text for c in chunks)


def test_in_spans_sweeps_sorted_positions_against_sorted_spans() -> None:
    from bot.kb.chunking import in_spans

    spans = [(2, 5), (8, 9)]
    assert list(in_spans([0, 2, 4, 5, 7, 8, 9, 12], spans)) == [
        False, True, True, False, False, True, False, False]
    assert list(in_spans([1, 3], [])) == [False, False]


def test_a_long_chinese_paragraph_splits_after_its_stops_not_mid_sentence() -> None:
    sentence = "告警首先发给主值班工程师，十五分钟内没有确认就会升级到副值班工程师。"
    text = sentence * 30
    chunks = chunk_document(Document(doc_id="z", title="", url="z", text=text),
                            max_chars=300, overlap=80)
    assert len(chunks) > 3
    assert all(c.text.startswith("告警") and c.text.endswith("。") for c in chunks)
    assert chunks[1].start < chunks[0].start + len(chunks[0].text)  # overlap
