"""reStructuredText pages are read with their structure, includes and substitutions."""

from __future__ import annotations

from pathlib import Path

from bot.kb.chunking import chunk_document
from bot.kb.readers import read_file
from bot.kb.rst import rst_to_markdown

PAGE = """\
.. _find-header:

find_header
-----------

.. |SEARCH_XXX| replace:: a header file on the system
.. |VAR| replace::
   the cache entry :variable:`HEADER_PATH`

.. only:: html

  .. contents::

This command is used to search for |SEARCH_XXX|. The result goes to |VAR|.
See :command:`find_library <find_library>` and ``NO_CACHE``.

.. versionadded:: 3.2
  The ``REQUIRED`` option.

.. include:: COMMON_OPTIONS.txt

Options
^^^^^^^

.. code-block:: cmake

  find_header(<VAR> NAMES name1)

.. include:: ../../outside.txt
"""


def _tree(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    (docs / "command").mkdir(parents=True)
    (docs / "command" / "find_header.rst").write_text(PAGE)
    (docs / "command" / "COMMON_OPTIONS.txt").write_text(
        "Searches the directories named by |VAR| first.\n")
    (tmp_path / "outside.txt").write_text("A private note outside the docs folder.\n")
    return docs


def test_rst_page_becomes_markdown_with_includes_substitutions_and_headings(
        tmp_path: Path) -> None:
    docs = _tree(tmp_path)
    page = docs / "command" / "find_header.rst"
    title, text = rst_to_markdown(page.read_text(), source=page, root=docs)
    assert title == "find_header"
    assert text.startswith("# find_header\n")
    assert "## Options" in text
    assert ("This command is used to search for a header file on the system. The result "
            "goes to the cache entry HEADER_PATH.") in text
    assert "See find_library and `NO_CACHE`." in text
    assert "New in version 3.2." in text
    # The include is inlined, with the page's substitutions applied to it.
    assert "Searches the directories named by the cache entry HEADER_PATH first." in text
    assert "find_header(<VAR> NAMES name1)" in text
    for markup in (".. ", "|SEARCH_XXX|", ":variable:", "^^^", "-----"):
        assert markup not in text
    # Nothing from outside the ingested folder is pulled in.
    assert "private note" not in text


def test_ingested_rst_page_is_chunked_by_its_headings(tmp_path: Path) -> None:
    docs = _tree(tmp_path)
    doc = read_file(docs / "command" / "find_header.rst", root=docs)
    assert doc.title == "find_header" and doc.kind == "markdown"
    headings = [c.heading for c in chunk_document(doc, max_chars=200, overlap=0)]
    assert headings[0] == "find_header" and headings[-1] == "find_header > Options"


def test_rst_include_cycles_and_missing_files_are_left_out(tmp_path: Path) -> None:
    (tmp_path / "a.rst").write_text("Title\n=====\n\nA says hi.\n\n.. include:: b.txt\n")
    (tmp_path / "b.txt").write_text("B says hi.\n\n.. include:: a.rst\n\n.. include:: gone.txt\n")
    _, text = rst_to_markdown((tmp_path / "a.rst").read_text(), source=tmp_path / "a.rst")
    assert text.count("A says hi.") == 1 and text.count("B says hi.") == 1
    assert "include" not in text


def test_short_titles_and_roles_that_wrap_or_nest_targets_read_as_prose() -> None:
    page = ("CC\n--\n\nThis is a CMake :ref:`Environment Variable <CMake Language\n"
            "Environment Variables>`. It is stored as\n"
            ":variable:`CMAKE_C_COMPILER <CMAKE_<LANG>_COMPILER>`, unlike\n"
            ":variable:`CMAKE_<LANG>_FLAGS`.\n")

    title, text = rst_to_markdown(page)

    assert title == "CC"
    assert text.startswith("# CC\n")
    assert "a CMake Environment Variable. It is" in text
    assert "stored as\nCMAKE_C_COMPILER, unlike\nCMAKE_<LANG>_FLAGS." in text


def test_an_eval_corpus_line_without_a_kind_is_read_as_the_markup_it_is(tmp_path: Path) -> None:
    import json

    from bot.kb.evaluation import load_corpus

    rows = [{"doc_id": "rst", "title": "", "text": PAGE},
            {"doc_id": "html", "title": "", "text": "<html><title>Guide</title><body>"
             "<h1>Install</h1><p>Run :ref:`x` here.</p><h2>Upgrade</h2><p>Later.</p></body>"},
            {"doc_id": "md", "title": "Notes", "text": "# Usage\n\n.. note:: kept as is"},
            {"doc_id": "plain", "title": "Paper", "kind": "text", "text": PAGE}]
    path = tmp_path / "corpus.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))

    docs = {d.doc_id: d for d in load_corpus(path)}

    assert docs["rst"].title == "find_header"
    assert docs["rst"].text.startswith("# find_header\n")
    assert "search for a header file on the system" in docs["rst"].text
    assert docs["html"].title == "Guide" and "## Upgrade" in docs["html"].text
    assert docs["md"].text == "# Usage\n\n.. note:: kept as is"
    assert docs["plain"].text == PAGE and docs["plain"].kind == "text"
