"""`tandem kb ingest | search | eval` through the real argument parser."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.kb import cli as kb_cli


def _main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="tandem")
    kb_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _vpn_docs(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "vpn.md").write_text("# VPN\n\nConnect with WireGuard using the IT profile.\n")
    return docs


def _ingested(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
              capsys: pytest.CaptureFixture[str]) -> Path:
    """The VPN folder ingested into a knowledge base of its own; output so far dropped."""
    monkeypatch.setenv("TANDEM_DATA_DIR", str(tmp_path / "data"))
    docs = _vpn_docs(tmp_path)
    assert _main(["kb", "ingest", str(docs), "--quiet"]) == 0
    capsys.readouterr()
    return docs


def test_eval_prints_metrics_json_last(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_DATA_DIR", str(tmp_path / "data"))
    corpus = _write(tmp_path / "c.jsonl", [
        {"doc_id": "a", "title": "Billing", "text": "Invoices are sent on the first business "
                                                    "day of each month."},
        {"doc_id": "b", "title": "Deploys", "text": "Production deploys are frozen on Fridays."},
        {"doc_id": "c", "title": "Oncall", "text": "The on-call engineer carries the pager."},
    ])
    queries = _write(tmp_path / "q.jsonl", [
        {"query": "when do invoices go out", "relevant": ["a"]},
        {"query": "can I deploy on friday", "relevant": ["b"]},
        {"query": "who has the pager", "relevant": ["c", "x"]},
        {"query": "how do whales sleep at sea", "relevant": ["a"]},
    ])
    assert _main(["kb", "eval", "--corpus", str(corpus), "--queries", str(queries),
                  "--k", "10"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    result = json.loads(last)
    for key in ("recall@1", "recall@5", "recall@10", "mrr", "p50_ms", "p95_ms",
                "ingest_chunks_per_s"):
        assert key in result
    # The off-topic question gets no sources (the "nothing relevant" gate), a miss that
    # `no_sources` tells apart from a ranking one.
    assert result["recall@5"] == 0.75 and result["mrr"] == 0.75 and result["chunks"] == 3
    assert result["no_sources"] == 0.25
    assert not (tmp_path / "data" / "kb.sqlite").exists()  # throwaway index


def test_ingest_then_search_json(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_DATA_DIR", str(tmp_path / "data"))
    docs = _vpn_docs(tmp_path)
    (docs / "bin.txt").write_bytes(b"\x00\x01binary")
    assert _main(["kb", "ingest", str(docs), "--quiet"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert "bin.txt" in out[0] and json.loads(out[-1])["skipped"] == 1
    assert _main(["kb", "search", "wireguard vpn profile", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert hits[0]["n"] == 1 and hits[0]["url"].endswith("vpn.md")


def test_reembed_command_reembeds_with_a_progress_bar_after_an_embedder_change(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    _ingested(tmp_path, monkeypatch, capsys)
    monkeypatch.setenv("TANDEM_EMBED_TAIL_VECTORS", "1")  # part of the embedder's name
    assert _main(["kb", "reembed"]) == 0
    captured = capsys.readouterr()
    done = json.loads(captured.out.strip().splitlines()[-1])
    assert done["embedder"].endswith("+tails") and done["chunks"] == 1
    assert "re-embed" in captured.err and "1/1" in captured.err
    assert _main(["kb", "reembed"]) == 0  # nothing owed: no bar
    assert "re-embed" not in capsys.readouterr().err


def test_prepare_exports_the_embedding_model_to_onnx_where_the_embedder_finds_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.kb.embedding import LocalEmbedder, default_model_path
    from bot.kb.onnx_model import default_onnx_dir
    from bot.llm.model_prep import cache_is_valid

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert _main(["kb", "prepare"]) == 0
    folder = default_onnx_dir(default_model_path())
    assert folder.is_relative_to(tmp_path / "cache") and cache_is_valid(folder)
    assert str(folder) in capsys.readouterr().out
    before = folder.stat().st_mtime_ns
    embedder = LocalEmbedder(precision="fp32")
    assert embedder._encode(["a question"]).shape == (1, 384)
    assert embedder._onnx_query is not None
    assert folder.stat().st_mtime_ns == before  # found, not exported again


def test_search_prints_a_heading_path_without_repeating_the_page_title(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_DATA_DIR", str(tmp_path / "data"))
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "deploy.md").write_text("# Deploy\n\nRun make deploy.\n\n## Rollback\n\n"
                                    "Roll back with make rollback VERSION=x.\n")
    assert _main(["kb", "ingest", str(docs), "--quiet"]) == 0
    capsys.readouterr()
    assert _main(["kb", "search", "roll back with make rollback", "--k", "1"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("[1] Deploy > Rollback  (") and first.count("Deploy") == 1


@pytest.mark.parametrize(("corpus_lines", "query_lines", "message"), [
    (['{"doc_id": "a", "title": "A", "text": "x"}', "not json"],
     ['{"query": "x", "relevant": ["a"]}'], "c.jsonl:2: not JSON"),
    (['{"doc_id": "a", "title": "A", "text": "x"}'], ['{"query": "x"}'],
     'q.jsonl:1: needs "relevant" (a list of doc ids)'),
    (['{"doc_id": "a", "title": "A"}'], ['{"query": "x", "relevant": ["a"]}'],
     'c.jsonl:1: needs "text" (a string)'),
    ([], ['{"query": "x", "relevant": ["a"]}'], "c.jsonl: no lines"),
])
def test_eval_names_the_file_and_line_it_cannot_use_before_ingesting_anything(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        corpus_lines: list[str], query_lines: list[str], message: str) -> None:
    monkeypatch.setenv("TANDEM_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "c.jsonl").write_text("".join(line + "\n" for line in corpus_lines))
    (tmp_path / "q.jsonl").write_text("".join(line + "\n" for line in query_lines))
    assert _main(["kb", "eval", "--corpus", str(tmp_path / "c.jsonl"),
                  "--queries", str(tmp_path / "q.jsonl")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_eval_says_which_file_is_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_DATA_DIR", str(tmp_path / "data"))
    _write(tmp_path / "q.jsonl", [{"query": "x", "relevant": ["a"]}])
    assert _main(["kb", "eval", "--corpus", str(tmp_path / "missing.jsonl"),
                  "--queries", str(tmp_path / "q.jsonl")]) == 2
    assert "missing.jsonl: cannot be read" in capsys.readouterr().err


def test_ingest_of_a_path_that_is_not_there_fails_the_run_but_ingests_the_others(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_DATA_DIR", str(tmp_path / "data"))
    docs = _vpn_docs(tmp_path)
    assert _main(["kb", "ingest", str(docs), str(tmp_path / "typo"), "--quiet"]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert "typo: does not exist" in out[0] and json.loads(out[-1])["added"] == 1


def test_eval_joins_lines_that_share_a_doc_id_and_says_what_counts_as_a_miss(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_DATA_DIR", str(tmp_path / "data"))
    corpus = _write(tmp_path / "c.jsonl", [  # one page given as two passages
        {"doc_id": "deploy", "title": "Deploys", "text": "Roll back with helm rollback."},
        {"doc_id": "deploy", "title": "Deploys", "text": "Deploys are frozen on Fridays."},
        {"doc_id": "blank", "title": "Blank", "text": "  "},
    ])
    queries = _write(tmp_path / "q.jsonl", [
        {"query": "how do I roll back with helm", "relevant": ["deploy"]},
        {"query": "are deploys frozen on fridays", "relevant": ["deploy"]},
        {"query": "what is the wifi password", "relevant": ["wifi"]},
        {"query": " ", "relevant": ["deploy"]},
    ])
    assert _main(["kb", "eval", "--corpus", str(corpus), "--queries", str(queries)]) == 0
    out, err = capsys.readouterr()
    result = json.loads(out.strip().splitlines()[-1])
    assert result["recall@5"] == 0.5  # both passages searched; the last two cannot hit
    assert f"{corpus}: doc_ids on several lines: 1 (deploy)" in err
    assert f"{corpus}: lines without text: 1 (blank)" in err
    assert f"{queries}: questions naming no doc_id of the corpus: 1 (wifi)" in err
    assert f"{queries}: empty questions: 1" in err


def _docs_json(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    capsys.readouterr()
    assert _main(["kb", "list", "--docs", "--json"]) == 0
    return list(json.loads(capsys.readouterr().out.strip().splitlines()[-1]))


def _in_two_collections(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The VPN folder ingested into the default collection, then into "it"."""
    monkeypatch.setenv("TANDEM_DATA_DIR", str(tmp_path / "data"))
    docs = _vpn_docs(tmp_path)
    assert _main(["kb", "ingest", str(docs), "--quiet"]) == 0
    assert _main(["kb", "ingest", str(docs), "--collection", "it", "--quiet"]) == 0
    return docs


def test_a_folder_ingested_into_two_collections_is_held_by_both_and_stays_in_each(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    docs = _in_two_collections(tmp_path, monkeypatch)
    capsys.readouterr()
    # The scheduled re-ingest of the first collection finds its page as it left it.
    assert _main(["kb", "ingest", str(docs), "--quiet"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (report["unchanged"], report["updated"], report["embedded"]) == (1, 0, 0)
    held = _docs_json(capsys)
    assert sorted(d["collection"] for d in held) == ["default", "it"]
    assert {d["url"] for d in held} == {str((docs / "vpn.md").resolve())}
    capsys.readouterr()
    assert _main(["kb", "list"]) == 0
    out = capsys.readouterr().out
    assert "default: 1 document (1 file), 1 chunk" in out and "it: 1 document" in out


def test_reingesting_a_store_made_before_collections_had_their_own_ids_leaves_no_copies(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from bot.kb.service import KnowledgeBase
    from bot.kb.types import Document
    from bot.settings import load_settings

    monkeypatch.setenv("TANDEM_DATA_DIR", str(tmp_path / "data"))
    page = (_vpn_docs(tmp_path) / "vpn.md").resolve()

    async def old_layout() -> None:  # what an older version stored: the bare path as id
        kb = await KnowledgeBase.open(load_settings())
        await kb.upsert([Document(doc_id=str(page), title="VPN", url=str(page),
                                  text=page.read_text(), collection="it", kind="markdown")])
        await kb.close()

    asyncio.run(old_layout())
    assert _main(["kb", "ingest", str(page.parent), "--collection", "it", "--quiet"]) == 0
    held = _docs_json(capsys)
    assert [(d["collection"], d["doc_id"]) for d in held] == [("it", f"it:{page}")]


def test_remove_takes_out_a_folder_that_no_longer_exists_and_only_from_the_named_collection(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    docs = _in_two_collections(tmp_path, monkeypatch)
    docs.rename(tmp_path / "moved")
    assert _main(["kb", "ingest", str(docs), "--quiet"]) == 1
    assert "tandem kb remove" in capsys.readouterr().out  # the pages stay, and it says so
    assert len(_docs_json(capsys)) == 2

    assert _main(["kb", "remove", str(docs), "--collection", "it", "--dry-run"]) == 0
    assert "would remove: it  VPN" in capsys.readouterr().out
    assert len(_docs_json(capsys)) == 2
    assert _main(["kb", "remove", str(docs), "--collection", "it"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert json.loads(out[-1]) == {"removed": 1, "chunks": 1, "dry_run": False}
    assert [d["collection"] for d in _docs_json(capsys)] == ["default"]
    assert _main(["kb", "remove", str(docs)]) == 0
    assert _docs_json(capsys) == []
    assert _main(["kb", "search", "wireguard vpn profile", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == []


def test_remove_fails_the_run_and_says_so_when_a_target_matches_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    docs = _ingested(tmp_path, monkeypatch, capsys)
    assert _main(["kb", "remove", str(tmp_path / "typo"), str(docs)]) == 1
    captured = capsys.readouterr()
    assert f"nothing matches {tmp_path / 'typo'}" in captured.err
    assert json.loads(captured.out.strip().splitlines()[-1])["removed"] == 1
    assert _main(["kb", "remove"]) == 2
    assert "name a path" in capsys.readouterr().err
    assert _main(["kb", "remove", "--collection", "nope"]) == 1
    assert "holds nothing" in capsys.readouterr().err


def test_ingest_with_a_url_template_cites_where_the_pages_are_published(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_DATA_DIR", str(tmp_path / "data"))
    docs = _vpn_docs(tmp_path)
    (docs / "how to").mkdir()
    (docs / "how to" / "printers.md").write_text("# Printers\n\nBadge in at the printer.\n")
    assert _main(["kb", "ingest", str(docs), "--quiet",
                  "--url", "https://docs.example.com/{path_noext}.html"]) == 0
    capsys.readouterr()
    assert _main(["kb", "search", "badge in at the printer", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert hits[0]["url"] == "https://docs.example.com/how%20to/printers.html"
    # Removing by path still works: a page is known by its file, wherever it links to.
    assert _main(["kb", "remove", str(docs / "how to")]) == 0
    assert [d["url"] for d in _docs_json(capsys)] == ["https://docs.example.com/vpn.html"]


def test_ingest_of_a_web_address_says_how_to_ingest_a_site_and_touches_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_DATA_DIR", str(tmp_path / "data"))
    docs = _vpn_docs(tmp_path)
    assert _main(["kb", "ingest", str(docs), "https://docs.example.com/", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "wget --mirror" in err and "--url 'https://docs.example.com/{path}'" in err
    assert not (tmp_path / "data" / "kb.sqlite").exists()


def test_list_names_and_remove_stale_takes_out_answers_whose_sources_changed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from bot.kb.service import KnowledgeBase
    from bot.settings import load_settings

    docs = _ingested(tmp_path, monkeypatch, capsys)
    page = f"{(docs / 'vpn.md').resolve()}"
    link = "https://team.slack.com/archives/C1/p1"

    async def approve() -> None:
        kb = await KnowledgeBase.open(load_settings())
        await kb.add_answer(question="How do I connect to the VPN?", answer="WireGuard [1].",
                            permalink=link, channel_id="C1", private=False, basis=[page])
        await kb.close()

    asyncio.run(approve())
    assert [d["stale"] for d in _docs_json(capsys)] == [False, False]
    (docs / "vpn.md").write_text("# VPN\n\nConnect with OpenVPN now; WireGuard is retired.\n")
    assert _main(["kb", "ingest", str(docs), "--quiet"]) == 0
    held = {d["url"]: d["stale"] for d in _docs_json(capsys)}
    assert held == {link: True, page: False}
    assert _main(["kb", "list"]) == 0
    assert "answers: 1 document (1 approved answer), 1 chunk" in (out := capsys.readouterr().out)
    assert "1 stale answer (sources changed since approval" in out
    assert _main(["kb", "list", "--docs"]) == 0
    assert "STALE: its sources changed" in capsys.readouterr().out
    assert _main(["kb", "remove", "--stale", "--dry-run"]) == 0
    assert f"would remove: answers  How do I connect to the VPN?  ({link})" in \
        capsys.readouterr().out
    assert _main(["kb", "remove", "--stale"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["removed"] == 1
    assert [d["url"] for d in _docs_json(capsys)] == [page]  # the page itself stays
    assert _main(["kb", "remove", "--stale"]) == 0  # none left is not a failure
    assert "no stale answers" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["search", "vpn", "--k", "0"], ["search", "vpn", "--k", "-3"],
                                  ["eval", "--corpus", "c", "--queries", "q", "--k", "0"],
                                  ["gaps", "--limit", "0"], ["search", "vpn", "--k", "five"],
                                  ["ingest", "docs", "--collection", ""],
                                  ["list", "--collection", "  "]])
def test_a_count_below_one_or_not_a_number_or_a_blank_collection_is_refused_with_the_reason(
        argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        _main(["kb", *argv])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "must be at least 1" in err or "not a whole number: 'five'" in err \
        or "argument --collection: a collection needs a name" in err


def test_an_empty_search_is_refused_rather_than_reported_as_nothing_relevant(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TANDEM_DATA_DIR", str(tmp_path / "data"))
    assert _main(["kb", "search", "   "]) == 2
    out = capsys.readouterr()
    assert out.err.strip() == "tandem kb search: the query is empty" and out.out == ""


def test_ingest_slack_given_no_channel_says_a_shell_drops_an_unquoted_hash(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # `tandem kb ingest-slack #general` reaches the command as `tandem kb ingest-slack`.
    from bot.cli import main

    monkeypatch.setenv("TANDEM_DATA_DIR", str(tmp_path / "data"))
    assert main(["kb", "ingest-slack"]) == 2
    err = capsys.readouterr().err
    assert "'#general': unquoted, a shell reads it as a comment" in err


def test_remove_given_a_channel_name_without_its_hash_says_how_to_name_the_channel(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from bot.kb.service import KnowledgeBase
    from bot.kb.types import Document
    from bot.settings import load_settings

    monkeypatch.setenv("TANDEM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)

    async def a_thread() -> None:
        kb = await KnowledgeBase.open(load_settings())
        await kb.upsert([Document(
            doc_id="slack:slack:C0GENERAL:1.0", title="#general: standup moved to 10:30",
            url="https://slack.example/archives/C0GENERAL/p10", collection="slack",
            text="Standup moves to 10:30 tomorrow.", kind="slack")])
        await kb.close()

    asyncio.run(a_thread())
    assert _main(["kb", "remove", "general"]) == 1
    assert "nothing matches general (the Slack channel's threads? '#general')" in \
        capsys.readouterr().err
    assert _main(["kb", "remove", "#general"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["removed"] == 1
    assert _main(["kb", "remove"]) == 2
    assert "'#channel' (quoted: unquoted, a shell reads #channel as a comment" in \
        capsys.readouterr().err
