"""File ingestion: every supported type, bad files skipped and counted, incremental re-ingest."""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from bot.kb.ingest import ingest_paths
from bot.kb.readers import read_file
from bot.kb.service import KnowledgeBase


def _pdf(path: Path, text: str) -> None:
    """A one-page PDF whose content stream draws `text` in Helvetica."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=300, height=200)
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"),
                             NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject(
        {NameObject("/F1"): writer._add_object(font)})})
    stream = DecodedStreamObject()
    stream.set_data(f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode())
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
