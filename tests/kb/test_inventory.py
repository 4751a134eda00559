"""What `tandem kb remove` targets name, and `tandem kb list`'s per-collection summary."""

from __future__ import annotations

from collections.abc import Iterable

from bot.kb.inventory import collections, kind, matcher, summarise
from bot.kb.service import KnowledgeBase
from bot.kb.store_base import DocInfo, KindCount
from bot.kb.types import Document


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


def counted(docs: Iterable[DocInfo]) -> list[KindCount]:
    """What `Store.tally` should return for `docs`, counted one document at a time."""
    groups: dict[tuple[str, str, str | None], list[DocInfo]] = {}
    for doc in docs:
        groups.setdefault((doc.collection, kind(doc), doc.private_channel), []).append(doc)
    return sorted((KindCount(*key, len(ds), sum(d.chunks for d in ds),
                             max(d.updated_at for d in ds)) for key, ds in groups.items()),
                  key=str)


def test_summary_counts_documents_chunks_kinds_and_private_channels_per_collection() -> None:
    rows = {s.name: s.as_dict() for s in summarise(counted([*FILES, *THREADS, ANSWER]),
                                                   {"answers": 1})}
    assert rows["default"]["documents"] == 3 and rows["default"]["kinds"] == {"file": 3}
    assert rows["answers"]["kinds"] == {"approved answer": 1}
    assert rows["answers"]["private_channels"] == ["C1"]
    assert rows["answers"]["stale_answers"] == 1 and rows["default"]["stale_answers"] == 0
    assert rows["ops"]["kinds"] == {"Slack thread": 1}


# Every kind, bare and behind a collection prefix, and ids that only look like one.
STORED = [Document(doc_id=d.doc_id, title=d.title, url=d.url, text=f"Body of {d.doc_id}.",
                   collection=d.collection, private_channel=d.private_channel)
          for d in [*FILES, *THREADS, ANSWER,
                    _doc("it:answer:https://x.slack.com/archives/C2/p2", "it"),
                    _doc("it:docs/readme.md", "it"), _doc("faq-12", "default"),
                    _doc("Slack:C0GENERAL:4.0", "slack"), _doc("o:/x", "ops")]]


async def test_the_store_counts_each_kind_as_the_documents_one_by_one_do(
        kb: KnowledgeBase) -> None:
    await kb.upsert(STORED)
    await kb.upsert([Document(doc_id="/srv/docs/long.md", title="Long", url="u",
                              text="\n\n".join(f"Paragraph {i}. " + "word " * 200
                                               for i in range(4)), collection="default")])
    docs = await kb.documents()
    assert max(d.chunks for d in docs) > 1
    assert sorted(kb.store.tally(), key=str) == counted(docs)
    assert sorted(kb.store.tally(collection="it"), key=str) == counted(d for d in docs
                                                              if d.collection == "it")
    listed = {s.name: s for s in await collections(kb)}
    assert listed["it"].kinds == {"other document": 2, "file": 1}
    assert listed["default"].chunks == sum(d.chunks for d in docs if d.collection == "default")
