"""What `tandem kb remove` targets name, and `tandem kb list`'s per-collection summary."""

from __future__ import annotations

from bot.kb.inventory import matcher, summarise
from bot.kb.store_base import DocInfo


def _doc(doc_id: str, collection: str, title: str = "t", url: str = "",
         private: str | None = None, chunks: int = 1) -> DocInfo:
    return DocInfo(doc_id, collection, title, url or doc_id, 1.0, private, chunks)


FILES = [_doc("/srv/docs/a.md", "default"), _doc("/srv/docs/sub/b.md", "default"),
         _doc("/srv/docs-old/c.md", "default"), _doc("it:/srv/docs/a.md", "it")]
THREADS = [_doc("slack:C0GENERAL:1.0", "slack", "#general: standup moved"),
           _doc("slack:C0RANDOM:2.0", "slack", "#random: #general is quiet"),
           _doc("ops:slack:C0GENERAL:3.0", "ops", "#general: deploys frozen")]
ANSWER = _doc("answer:https://x.slack.com/archives/C1/p1", "answers",
              url="https://x.slack.com/archives/C1/p1", private="C1")


def _named(target: str) -> list[str]:
    return [d.doc_id for d in [*FILES, *THREADS, ANSWER] if matcher(target)(d)]


def test_a_folder_names_the_files_under_it_in_every_collection_but_not_a_sibling_prefix(
        ) -> None:
    assert _named("/srv/docs") == ["/srv/docs/a.md", "/srv/docs/sub/b.md", "it:/srv/docs/a.md"]
    assert _named("/srv/docs/sub/b.md") == ["/srv/docs/sub/b.md"]


def test_a_channel_by_name_or_id_names_its_threads_and_a_link_names_its_document() -> None:
    assert _named("#general") == ["slack:C0GENERAL:1.0", "ops:slack:C0GENERAL:3.0"]
    assert _named("C0GENERAL") == ["slack:C0GENERAL:1.0", "ops:slack:C0GENERAL:3.0"]
    assert _named("https://x.slack.com/archives/C1/p1") == [ANSWER.doc_id]
    assert _named("https://x.slack.com/archives/C1") == []


def test_summary_counts_documents_chunks_kinds_and_private_channels_per_collection() -> None:
    rows = {s.name: s.as_dict() for s in summarise([*FILES, *THREADS, ANSWER])}
    assert rows["default"]["documents"] == 3 and rows["default"]["kinds"] == {"file": 3}
    assert rows["answers"]["kinds"] == {"approved answer": 1}
    assert rows["answers"]["private_channels"] == ["C1"]
    assert rows["ops"]["kinds"] == {"Slack thread": 1}

