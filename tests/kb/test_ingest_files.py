"""File ingestion: every supported type, bad files skipped and counted, incremental re-ingest."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from bot.kb.chunking import chunk_document
from bot.kb.evaluation import load_corpus
from bot.kb.ingest import ingest_paths
from bot.kb.inventory import matcher
from bot.kb.readers import Unreadable, read_file
from bot.kb.service import KnowledgeBase


def _pdf(path: Path, *pages: str, title: str = "") -> None:
    """A PDF with a page per argument, each line of it drawn in Helvetica."""
    writer = PdfWriter()
    if title:
        writer.add_metadata({"/Title": title})
    font = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica")}))
    for text in pages:
        page = writer.add_blank_page(width=400, height=400)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
        lines = "".join(f"1 0 0 1 20 {380 - 16 * i} Tm ({line}) Tj "
                        for i, line in enumerate(text.splitlines()))
        stream = DecodedStreamObject()
        stream.set_data(f"BT /F1 12 Tf {lines}ET".encode())
        page[NameObject("/Contents")] = writer._add_object(stream)
    with path.open("wb") as fh:
        writer.write(fh)


def _docs(root: Path) -> Path:
    root.mkdir()
    (root / "deploy.md").write_text("# Deploying\n\nRun the blue-green rollout with kubectl.\n\n"
                                    "## Rollback\n\nUse helm rollback to undo a release.\n")
    (root / "notes.txt").write_text("The office wifi password rotates every Monday.\n")
    (root / "oncall.html").write_text("<html><head><title>On-call guide</title></head><body>"
                                      "<h1>Paging</h1><p>PagerDuty escalates after ten minutes."
                                      "</p><script>var x = 1;</script></body></html>")
    _pdf(root / "handbook.pdf", "Expense reports are due on the fifth of each month")
    (root / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    (root / "blob.txt").write_bytes(b"abc\x00\x01\x02" * 10)
    (root / "huge.md").write_text("x" * 2048)
    return root


def test_read_file_extracts_each_type(tmp_path: Path) -> None:
    root = _docs(tmp_path / "docs")
    md = read_file(root / "deploy.md")
    html = read_file(root / "oncall.html")
    pdf = read_file(root / "handbook.pdf")
    assert md.title == "Deploying" and md.kind == "markdown"
    assert html.title == "On-call guide" and "# Paging" in html.text and "var x" not in html.text
    assert "Expense reports are due" in pdf.text
    assert "wifi password" in read_file(root / "notes.txt").text


async def test_ingest_skips_bad_files_with_reasons(tmp_path: Path, kb: KnowledgeBase) -> None:
    root = _docs(tmp_path / "docs")
    report = await ingest_paths(kb, [root], show_progress=False, max_file_bytes=1024)
    reasons = {Path(p).name: why for p, why in report.skipped}
    assert report.added == 4
    assert set(reasons) == {"image.png", "blob.txt", "huge.md"}
    assert "unsupported" in reasons["image.png"] and "binary" in reasons["blob.txt"]
    assert "too big" in reasons["huge.md"]
    hits = await kb.search("when are expense reports due", k=3)
    assert hits and hits[0].url.endswith("handbook.pdf")


async def test_unreadable_file_is_skipped_not_fatal(tmp_path: Path, kb: KnowledgeBase) -> None:
    root = tmp_path / "docs"
    root.mkdir()
    (root / "ok.md").write_text("# Fine\n\nreadable text about invoices")
    locked = root / "locked.md"
    locked.write_text("secret")
    locked.chmod(0)
    try:
        readable = locked.open().close() is None
    except PermissionError:
        readable = False
    report = await ingest_paths(kb, [root], show_progress=False)
    assert report.added == (2 if readable else 1)  # root ignores file modes
    if not readable:
        assert [Path(p).name for p, _ in report.skipped] == ["locked.md"]


async def test_reingest_is_incremental_and_deletes_vanished(tmp_path: Path,
                                                            kb: KnowledgeBase) -> None:
    root = _docs(tmp_path / "docs")
    (root / "huge.md").unlink()
    first = await ingest_paths(kb, [root], show_progress=False)
    again = await ingest_paths(kb, [root], show_progress=False)
    assert (again.added, again.updated, again.unchanged, again.chunks) == (0, 0, 4, 0)

    (root / "notes.txt").write_text("The office wifi password now rotates every Friday.\n")
    (root / "deploy.md").unlink()
    third = await ingest_paths(kb, [root], show_progress=False)
    assert (third.updated, third.deleted, third.unchanged) == (1, 1, 2)
    assert first.chunks > third.chunks > 0
    assert not await kb.search("helm rollback release kubectl", k=5)
    hits = await kb.search("wifi password rotation day", k=1)
    assert hits and "Friday" in hits[0].text


async def test_files_named_in_bytes_that_are_not_utf8_are_ingested_found_and_removed(
        tmp_path: Path, kb: KnowledgeBase) -> None:
    # Names copied from an old Latin-1 system: "héros/résumé.md". One such name used to
    # stop the whole ingest with a UnicodeEncodeError, losing every file after it.
    root = tmp_path / os.fsdecode(b"h\xe9ros")
    root.mkdir()
    (root / os.fsdecode(b"r\xe9sum\xe9.md")).write_text("Pagers rotate on Tuesdays.\n")
    (root / "zeta.md").write_text("# Zeta\n\nThe staging cluster is rebuilt nightly.\n")
    report = await ingest_paths(kb, [root], show_progress=False)
    assert (report.added, report.skipped) == (2, [])
    hits = await kb.search("which day do pagers rotate", k=1)
    shown = str(tmp_path) + "/h\\xe9ros/r\\xe9sum\\xe9.md"
    assert hits and hits[0].url == shown and hits[0].title == "r\\xe9sum\\xe9"
    again = await ingest_paths(kb, [root], show_progress=False)
    assert (again.added, again.unchanged) == (0, 2)
    assert [d.url for d in await kb.documents() if matcher(str(root / os.fsdecode(
        b"r\xe9sum\xe9.md")))(d)] == [shown]
    (root / os.fsdecode(b"r\xe9sum\xe9.md")).unlink()
    assert (await ingest_paths(kb, [root], show_progress=False)).deleted == 1


async def test_a_folder_is_written_a_batch_at_a_time_as_it_is_read_not_held_whole(
        tmp_path: Path, kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from bot.kb import ingest

    root = tmp_path / "docs"
    root.mkdir()
    for i in range(70):
        (root / f"page{i:02}.md").write_text(f"# Page {i}\n\nRunbook step {i} of the rollout.\n")
    (root / "image.png").write_bytes(b"\x89PNG")
    events: list[str] = []

    def reading(path: Path, **kw: object) -> object:
        events.append("read")
        return read_file(path, **kw)  # type: ignore[arg-type]

    upsert = kb.upsert

    async def writing(docs: list[object]) -> int:
        events.append(f"write {len(docs)}")
        return await upsert(docs)  # type: ignore[arg-type]

    monkeypatch.setattr(ingest, "read_file", reading)
    monkeypatch.setattr(kb, "upsert", writing)
    report = await ingest_paths(kb, [root], show_progress=True)
    assert report.added == 70 and [Path(p).name for p, _ in report.skipped] == ["image.png"]
    # Each batch of 32 is written when read: at most one batch of text is held.
    writes = [i for i, e in enumerate(events) if e.startswith("write")]
    assert [events[i] for i in writes] == ["write 32", "write 32", "write 6"]
    assert events[:writes[0]].count("read") == 33  # image.png, skipped, sorts first
    assert events[writes[0] + 1:writes[1]].count("read") == 32
    err = capsys.readouterr().err
    assert "skipped" in err and "image.png" in err and "71/71" in err  # the bar counts it


def test_markdown_saved_with_a_byte_order_mark_keeps_its_title_and_first_heading(
        tmp_path: Path) -> None:
    page = tmp_path / "deploy.md"  # as Notepad and many Windows editors save UTF-8
    page.write_bytes(b"\xef\xbb\xbf# Deploying\n\nRun the rollout.\n")
    doc = read_file(page)
    assert doc.title == "Deploying"
    assert doc.text.startswith("# Deploying")


def test_text_saved_as_utf16_is_read_not_skipped_as_binary(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_bytes("Le café ouvre à huit heures.".encode("utf-16"))  # with its BOM
    assert read_file(notes).text == "Le café ouvre à huit heures."
    (tmp_path / "blob.txt").write_bytes(b"\xff\xfe" + "ab\x00cd".encode("utf-16-le"))
    with pytest.raises(Unreadable, match="binary"):
        read_file(tmp_path / "blob.txt")


def test_html_page_is_read_in_the_charset_it_declares(tmp_path: Path) -> None:
    sjis = tmp_path / "tokyo.html"
    sjis.write_bytes('<html><head><meta charset="shift_jis"><title>東京</title></head>'
                     '<body><h1>営業時間</h1><p>九時から</p></body></html>'.encode("shift_jis"))
    # iso-8859-1 is read as windows-1252, as browsers do: 0x93/0x94 are curly quotes.
    latin = tmp_path / "menu.html"
    latin.write_bytes(b'<html><head><meta http-equiv="Content-Type" content="text/html; '
                      b'charset=iso-8859-1"><title>Caf\xe9 \x93menu\x94</title></head>'
                      b'<body><p>cr\xe8me br\xfbl\xe9e</p></body></html>')
    xhtml = tmp_path / "docbook.html"
    xhtml.write_bytes(b'<?xml version="1.0" encoding="ISO-8859-15"?><html><head><title>'
                      b'Pr\xe9face</title></head><body><p>Co\xfbt: 5 \xa4</p></body></html>')
    assert read_file(xhtml).title == "Préface" and "Coût: 5 €" in read_file(xhtml).text
    tokyo, menu = read_file(sjis), read_file(latin)
    assert tokyo.title == "東京" and "# 営業時間" in tokyo.text and "九時から" in tokyo.text
    assert menu.title == "Café “menu”" and "crème brûlée" in menu.text


def test_text_in_another_encoding_is_skipped_with_the_reason(tmp_path: Path) -> None:
    legacy = tmp_path / "legacy.md"
    legacy.write_bytes("# Café\n\ncrème".encode("cp1252"))
    with pytest.raises(Unreadable, match=r"not UTF-8 text \(invalid continuation byte"):
        read_file(legacy)


def test_broken_pdf_is_reported_once_in_our_words_without_the_parsers_noise(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\ngarbage")
    with caplog.at_level(logging.WARNING), pytest.raises(Unreadable, match="broken PDF"):
        read_file(broken)
    # Without a handler of the ingest's own, Python prints these to stderr.
    assert [r.getMessage() for r in caplog.records if r.name.startswith("pypdf")] == []


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-256"])
def test_a_pdf_locked_with_a_password_is_skipped_saying_so_not_as_broken(
        tmp_path: Path, algorithm: str) -> None:
    locked = tmp_path / "locked.pdf"
    _pdf(locked, "Salary bands for 2027")
    writer = PdfWriter(clone_from=str(locked))
    writer.encrypt("secret", algorithm=algorithm)
    with locked.open("wb") as fh:
        writer.write(fh)
    with pytest.raises(Unreadable, match="^encrypted PDF: it opens only with a password"):
        read_file(locked)
    # Locked against editing only (an empty password opens it): read as any other.
    writer.encrypt(user_password="", owner_password="owner", algorithm=algorithm)
    with locked.open("wb") as fh:
        writer.write(fh)
    assert "Salary bands for 2027" in read_file(locked).text


def test_a_pdf_of_pages_without_text_is_skipped_with_a_pointer_to_ocr(tmp_path: Path) -> None:
    scan = tmp_path / "scan.pdf"
    writer = PdfWriter()
    writer.add_blank_page(width=400, height=400)
    writer.add_blank_page(width=400, height=400)
    with scan.open("wb") as fh:
        writer.write(fh)
    with pytest.raises(Unreadable, match=r"^no text in its 2 pages \(a scanned PDF .* OCR"):
        read_file(scan)


def test_front_matter_gives_the_page_title_and_description_and_is_not_indexed(
        tmp_path: Path) -> None:
    (tmp_path / "install.md").write_text(
        "---\ntitle: Installing the CLI\nsidebar_position: 2\n"
        "description: How to install the command-line tool.\n---\n\n"
        "Run the installer.\n\n## Linux\n\nUse apt.\n")
    (tmp_path / "hugo.md").write_text('+++\ntitle = "Release process"\ndraft = false\n+++\n'
                                      "Tag the release.\n")
    long = "A " + "very " * 40 + "long description."
    (tmp_path / "long.md").write_text(f"---\ntitle: Upgrading\ndescription: {long}\n---\nBody.\n")
    page, hugo = read_file(tmp_path / "install.md"), read_file(tmp_path / "hugo.md")
    assert page.title == "Installing the CLI: How to install the command-line tool."
    assert hugo.title == "Release process"
    assert page.text.startswith("\nRun the installer.")
    assert "sidebar_position" not in page.text and "draft" not in hugo.text
    assert "## Linux" in page.text
    upgrading = read_file(tmp_path / "long.md")  # too long to name the page: it opens it
    assert upgrading.title == "Upgrading" and upgrading.text == f"{long}\n\nBody.\n"


def test_a_page_that_merely_opens_with_a_rule_keeps_all_its_text(tmp_path: Path) -> None:
    (tmp_path / "rules.md").write_text("---\n\nA page that opens with a rule.\n\n---\n\nMore.\n")
    (tmp_path / "broken.md").write_text("---\ntitle: [unclosed\n---\nBody.\n")
    assert read_file(tmp_path / "rules.md").text.startswith("---\n\nA page that opens")
    assert read_file(tmp_path / "broken.md").text.startswith("---\ntitle: [unclosed")


def test_mdx_page_is_read_as_markdown_without_its_imports_and_component_tags(
        tmp_path: Path) -> None:
    (tmp_path / "setup.mdx").write_text(
        "---\ntitle: Setup\n---\nimport Tabs from '@theme/Tabs';\n"
        "export const meta = {draft: true};\n\nYou can\nimport the data from a CSV.\n\n"
        '<Tabs groupId="os">\n<TabItem value="linux" label="Linux">\n\nUse apt.\n\n'
        "</TabItem>\n</Tabs>\n\n```jsx\nimport React from 'react';\n<Foo />\n```\n")
    doc = read_file(tmp_path / "setup.mdx")
    assert doc.title == "Setup" and doc.kind == "markdown"
    assert "@theme/Tabs" not in doc.text and "TabItem" not in doc.text
    assert "meta =" not in doc.text
    assert "import the data from a CSV" in doc.text and "Use apt." in doc.text
    assert "import React from 'react';\n<Foo />" in doc.text  # code stays as written


def test_eval_corpus_page_with_front_matter_takes_its_title_from_it(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(row) + "\n" for row in (
        {"doc_id": "d1", "text": "---\ntitle: Caching\n---\n\nCache keys include the hash.\n"},
        {"doc_id": "d2", "title": "Deploying", "text": "---\ntitle: deploy\ndescription: "
         "Ship a release\n---\nRun the pipeline.\n"})))
    untitled, titled = load_corpus(corpus)
    assert untitled.title == "Caching" and untitled.text.strip() == "Cache keys include the hash."
    # A line's own title wins; the page's description still goes with it, as for a file.
    assert titled.title == "Deploying: Ship a release" and "description" not in titled.text


_NODE_LIKE = """<html><head><title>fs | Node.js Documentation</title></head><body>
<a class="skip-to-content" href="#apicontent">Skip to content</a>
<div id="content"><div id="column2" role="navigation"><ul><li><a>Buffer</a></li>
<li><a>Crypto</a></li><li><a>Worker threads</a></li></ul></div>
<div id="column1"><header><div id="gtoc">Index | Other versions | Crypto</div></header>
<details id="toc" role="navigation"><summary>Table of contents</summary>
<ul><li>fs.watch()</li></ul></details>
<div id="apicontent" role="main"><h2>File system<span><a class="mark" href="#fs">#</a></span>
</h2><p>The <code>node:fs</code> module reads files.</p>
<h3>fs.watch(filename)<span><a class="mark" href="#w">#</a></span></h3>
<p>Watch for changes.</p><aside class="sidebar"><p>On Linux, watching uses inotify.</p>
</aside><p>Options follow.</p><p>Use <span class="mark">recursive</span> for trees.</p>
</div></div></div><aside><ul><li><a>Buffer</a></li><li><a>Crypto</a></li></ul></aside>
</body></html>"""


def test_html_page_is_read_without_the_sites_navigation_around_its_content(
        tmp_path: Path) -> None:
    (tmp_path / "fs.html").write_text(_NODE_LIKE)
    (tmp_path / "sphinx.html").write_text(
        '<html><body><div class="related"><a>next</a> | <a>modules</a></div>'
        '<div class="sphinxsidebar"><h3>Quick search</h3></div><div class="body">'
        '<h1>Logging<a class="headerlink" href="#l">¶</a></h1><p>Configure handlers.</p>'
        '</div><footer>© Copyright 2024</footer></body></html>')
    node, sphinx = read_file(tmp_path / "fs.html"), read_file(tmp_path / "sphinx.html")
    assert node.text.startswith("## File system\n\nThe node:fs module reads files.")
    assert "### fs.watch(filename)\n" in node.text
    assert "watching uses inotify" in node.text  # a note beside the text is content
    assert "Use recursive for trees." in node.text
    for noise in ("Crypto", "Worker threads", "Skip to content", "Table of contents", "#\n"):
        assert noise not in node.text
    assert sphinx.text.startswith("# Logging\n\nConfigure handlers.")
    assert sphinx.title == "Logging"  # no <title>: its first heading, not the file's name
    assert "Quick search" not in sphinx.text and "modules" not in sphinx.text


def test_html_code_block_keeps_its_indentation_and_its_comments_are_not_headings(
        tmp_path: Path) -> None:
    (tmp_path / "setup.html").write_text(
        "<html><body><h1>Setup</h1><p>Install it:</p><pre># install the tools\n"
        "pip install tandem\nif ok:\n    run()</pre><h2>Next</h2><p>Done.</p></body></html>")
    doc = read_file(tmp_path / "setup.html")
    assert "```\n# install the tools\npip install tandem\nif ok:\n    run()\n```" in doc.text
    (tmp_path / "two.html").write_text(
        "<html><body><pre><code class='mjs'>import fs from 'node:fs';</code><code class='cjs'>"
        "const fs = require('node:fs');</code></pre></body></html>")
    assert "import fs from 'node:fs';\n\nconst fs" in read_file(tmp_path / "two.html").text
    # Fences inside the code (a markdown sample, a text underline) do not end the block.
    (tmp_path / "fences.html").write_text(
        "<html><body><pre>```\n  indented\n```</pre><pre>News\n~~~~~~~~\n  * item</pre>"
        "</body></html>")
    fences = read_file(tmp_path / "fences.html").text
    assert "~~~~\n```\n  indented\n```\n~~~~" in fences
    assert "```\nNews\n~~~~~~~~\n  * item\n```" in fences
    headings = {c.heading for c in chunk_document(doc)}
    assert not any("install the tools" in h for h in headings)


@pytest.mark.timeout(30)
def test_html_nested_thirty_thousand_blocks_deep_is_read_in_one_pass_with_its_breaks(
        tmp_path: Path) -> None:
    # Separators were inserted into the tree, each insert searching the element's last
    # descendant: quadratic in depth, about 70 s for this 400 kB page (199 s at 50,000).
    depth = 30_000
    (tmp_path / "deep.html").write_text(
        "<html><body>" + "<div>" * depth + "<p>Rotate the keys.</p><table><tr><td>a</td>"
        "<td>b</td></tr></table>first<br>second" + "</div>" * depth + "</body></html>")
    assert read_file(tmp_path / "deep.html").text == "Rotate the keys.\n\na b\n\nfirst\nsecond"


def test_html_table_cells_and_definition_terms_stay_separate_words(tmp_path: Path) -> None:
    (tmp_path / "api.html").write_text(
        "<html><body><table><tr><th>Option</th><th>Type</th></tr><tr><td>timeout</td>"
        "<td>number</td></tr></table><dl><dt>encoding</dt><dd>The text encoding.</dd></dl>"
        "</body></html>")
    text = read_file(tmp_path / "api.html").text
    assert "Option Type" in text and "timeout number" in text
    assert "encoding\n\nThe text encoding." in text


def test_pdf_reads_as_text_without_running_heads_page_numbers_or_broken_words(
        tmp_path: Path) -> None:
    head = "Acme Employee Handbook"
    _pdf(tmp_path / "handbook.pdf",
         f"{head}\nTravel\nBook flights through the portal at least two\nPage 1 of 3",
         f"{head}\nweeks ahead. Hotels need written ap-\nproval first.\nPage 2 of 3",
         f"{head}\nExpenses\nReceipts are due monthly.\nPage 3 of 3")
    text = read_file(tmp_path / "handbook.pdf").text
    assert head not in text and "Page" not in text
    assert "at least two\nweeks ahead." in text  # one paragraph across the page break
    assert "Hotels need written approval first." in text
    assert text.startswith("Travel\n") and "\n\nExpenses\nReceipts are due monthly." in text


def test_html_article_is_the_content_unless_it_is_a_small_part_of_the_page(
        tmp_path: Path) -> None:
    (tmp_path / "docusaurus.html").write_text(
        "<html><body><main><div class='row'><article><h1>Caching</h1><p>Cache keys include "
        "the lockfile hash, so a changed lockfile misses the cache.</p></article>"
        "<div class='theme-doc-toc-desktop'><ul><li>Caching</li><li>Cache keys</li></ul>"
        "</div></div></main></body></html>")
    (tmp_path / "card.html").write_text(
        "<html><body><h1>Release notes</h1><p>Version 2.3 adds streaming drafts, reaction "
        "shortcuts, a retry button for failed drafts and faster search.</p>"
        "<article><p>Related: 2.2</p></article></body></html>")
    docusaurus, card = read_file(tmp_path / "docusaurus.html"), read_file(tmp_path / "card.html")
    assert docusaurus.text.startswith("# Caching") and "Cache keys\n" not in docusaurus.text
    assert "streaming drafts" in card.text and "Related: 2.2" in card.text


def test_pdf_title_drops_what_the_word_processor_added_to_it(tmp_path: Path) -> None:
    _pdf(tmp_path / "a.pdf", "Travel policy", title="Microsoft Word - Travel Policy 2024.docx")
    _pdf(tmp_path / "b.pdf", "Expenses", title="Untitled")
    assert read_file(tmp_path / "a.pdf").title == "Travel Policy 2024"
    assert read_file(tmp_path / "b.pdf").title == "b"  # the file's name, not "Untitled"


def test_link_templates_place_a_file_by_its_path_under_the_ingested_folder() -> None:
    from bot.kb.ingest import link_for

    assert link_for("https://github.com/acme/hb/blob/main/docs/", "a b/setup.md") == \
        "https://github.com/acme/hb/blob/main/docs/a%20b/setup.md"
    assert link_for("https://docs.acme.com/{path_noext}/", "guide/setup.md") == \
        "https://docs.acme.com/guide/setup/"
    assert link_for("https://x.test/raw/{path}?plain=1", "notes.txt") == \
        "https://x.test/raw/notes.txt?plain=1"
