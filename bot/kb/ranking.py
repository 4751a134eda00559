"""Pure ranking logic: query → FTS5 expression, weighted reciprocal-rank fusion.

Kept free of I/O so the knobs (`RankParams`) can be tuned on dev data by the
eval command and unit-tested without a database.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["BM25_B", "BM25_K1", "STOPWORDS", "RankParams", "bm25_idf", "collapse_duplicates",
           "diversify", "fts_query", "fuse", "has_cjk", "lexical", "matching_words",
           "mostly_cjk", "near_query", "normalize", "query_terms", "rescore", "split_cjk",
           "stem", "stemmed_terms", "term_coverage", "window_scores", "word_triples"]

# Function words carry no topic; dropping them keeps BM25 from rewarding chunks
# that merely share "what", "the" or "does" with the question.
STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its itself
just me more most my myself no nor not now of off on once only or other our ours ourselves out
over own same she should so some such than that the their theirs them themselves then there
these they this those through to too under until up very was we were what when where which
while who whom why will with would you your yours yourself yourselves also may might must shall
use used using get gets got s t don doesn didn isn aren wasn weren won
""".split())

_WORD = re.compile(r"[\w][\w\-']*", re.UNICODE)


@dataclass(frozen=True)
class RankParams:
    """Fusion knobs, chosen on three dev sets of different kinds: COVID-QA papers (dev
    half: questions that copy the paper's words, where MiniLM is weak), the COVID FAQ
    paraphrases (short entries, where MiniLM beats BM25 by 0.15), and questions about
    the Node.js and npm docs (`tests/data/kb_docs`). No one setting is best on all
    three; these maximise their summed recall@5. A fourth set (CMake's reference),
    written after the choice, agrees: recall@5 0.82 against 0.68 for the old
    COVID-only weights. A store tuned on its own labelled questions (`tandem kb
    tune`) keeps its own values instead (`meta.rank_params`)."""

    bm25_weight: float = 1.0
    # Pairs of adjacent query words found close together: questions often copy a
    # phrase of the passage that answers them, and plain BM25 ignores word order.
    proximity_weight: float = 0.3
    dense_weight: float = 1.0
    # Best-window rescoring of the BM25 candidates: a chunk whose query words sit
    # together in one passage of `window` words usually holds the answer, while
    # one that scatters them over 200 words usually only shares the topic. The
    # lexical list is reordered by norm(bm25) + window_weight * norm(best window).
    window_weight: float = 2.0
    window: int = 250  # characters, about 40 words
    rrf_k: float = 10.0
    candidates: int = 50
    # Each further chunk of a document already listed counts `doc_decay` times its
    # fused score (1 = off): answers cite several sources, and a long document's
    # many similar chunks would otherwise crowd out the one document that answers.
    doc_decay: float = 0.7
    # A chunk that shares this share of its word triples (and of the other's) with a
    # chunk of another document listed before it is left out: the same passage
    # ingested twice (a page's .md and .html, a docs folder's all-in-one page) would
    # otherwise fill a third of the top 5 with copies (bench_kb_copies: 30 % of the
    # slots; 2.5 % collapsed). Measured on Node's API docs as shipped (.md + .html +
    # all.html), 880 top-10 results: 486 share under 0.1 with any earlier result, 328
    # share 0.6 or more (copies whose chunk boundaries differ make most of the few in
    # between); templated pages that differ in what matters (CMake's CMAKE_BUILD_TYPE
    # and CMAKE_CONFIGURATION_TYPES) share 0.56.
    duplicate_share: float = 0.6
    # "Nothing relevant": the best dense match must reach `min_cosine`, or, failing
    # that, a weaker one (`lexical_min_cosine`) must come with lexical support: a top
    # lexical match that holds every content word of the query, or `min_term_coverage`
    # of them when the query has at least `min_terms_partial`. In a large corpus one
    # of two words matches by chance ("capital" of France in a docs set), so a partial
    # match of a short query is no evidence. Measured against 30 off-topic questions:
    # the old rule (cosine 0.35 or half the words) gave sources to 7-50 % of them, this
    # one to none on the FAQ and the two docs sets and to 17 % on the COVID papers
    # (whose vocabulary is wide), while 98.8-100 % of the dev sets' questions pass.
    # At 64 tokens a chunk (int8, a CPU with AVX2 alone) the docs sets give sources to 1
    # and 2 of 30 and the papers to 8 (bench_kb_docs.py, bench_kb_covid.py); weighing the
    # words by IDF made it 0, 1 and 6 but failed questions of the 4-page sandbox handbook.
    relevance_gate: bool = True  # off while tuning and for raw method baselines
    min_cosine: float = 0.35
    lexical_min_cosine: float = 0.2
    min_term_coverage: float = 0.5
    min_terms_partial: int = 3
    # A top lexical chunk holding every content word of a question of `min_terms_partial`
    # or more passes at this lower cosine: "who gets paged when the primary doesn't
    # acknowledge?" has "paged", "primary" and "acknowledge" in the sandbox handbook's
    # Escalation section, but MiniLM rates the pair 0.17 (64 tokens; 0.28 at 128), and
    # the question got no sources.
    full_match_min_cosine: float = 0.1
    # A question mostly in Chinese or Japanese is split into pairs of characters, and the
    # pairs across a word boundary ("店谁" in "酒店谁来预订") are in no page: on a small
    # hand-written set (tests/data/kb_cjk), answered questions had 0.29-0.73 of their
    # pairs in a top chunk, unanswered ones 0-0.17.
    min_cjk_coverage: float = 0.25


def normalize(text: str) -> str:
    """NFKC folds ligatures and full-width forms ("ﬂu" → "flu") that the tokenizer keeps."""
    return unicodedata.normalize("NFKC", text)


# Han and kana: Chinese and Japanese, written without spaces between words.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def _pairs(run: re.Match[str]) -> str:
    text = run.group()
    pairs = [text[i:i + 2] for i in range(len(text) - 1)] or [text]
    return " " + " ".join(pairs) + " "


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


def split_cjk(text: str) -> str:
    """Each run of Chinese or Japanese as its overlapping pairs of characters ("餐费每天"
    -> "餐费 费每 每天"): the usual way to index such text without a dictionary. Before,
    the tokenizer kept a whole run between punctuation as one word, which no question
    matched. Text in other scripts is returned as it is."""
    return _CJK.sub(_pairs, text) if _CJK.search(text) else text


def lexical(text: str) -> str:
    """The text as the keyword index and every keyword match read it."""
    return split_cjk(normalize(text))


def mostly_cjk(text: str) -> bool:
    """At least half of the text's letters are Chinese or Japanese."""
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and 2 * sum(len(r) for r in _CJK.findall(text)) >= len(letters)


def query_terms(query: str) -> list[str]:
    """The query's content words, split at hyphens and apostrophes as the index splits
    them: "O'Brien" is "brien" (and "o"), "doesn't" is "doesn" and "t", function words.
    Joined, "obrien" matched no chunk (the index holds "o" and "brien"), and "doesnt"
    counted as a content word that a relevant chunk lacked (`term_coverage`)."""
    seen: dict[str, None] = {}
    for raw in _WORD.findall(lexical(query).lower()):
        for word in re.split(r"['-]", raw):
            if word and word not in STOPWORDS and (len(word) > 1 or word.isdigit()):
                seen.setdefault(word, None)
    return list(seen)


def stemmed_terms(text: str) -> dict[str, str]:
    """`query_terms` stemmed: stem -> the word as first written, in order."""
    out: dict[str, str] = {}
    for word in query_terms(text):
        out.setdefault(stem(word), word)
    return out


def fts_query(query: str) -> str:
    """An OR of quoted content words: any word may match, BM25 ranks by how many and how rare."""
    return " OR ".join(f'"{term}"' for term in query_terms(query))


def near_query(query: str, distance: int = 3) -> str:
    """FTS5 NEAR groups for each pair of adjacent content words."""
    terms = query_terms(query)
    pairs = zip(terms, terms[1:], strict=False)
    return " OR ".join(f'NEAR("{a}" "{b}", {distance})' for a, b in pairs)


# BM25's constants, FTS5's (SQLite's ranking); the Postgres store scores with them too.
BM25_K1, BM25_B = 1.2, 0.75


def bm25_idf(holding: float, chunks: float) -> float:
    """FTS5's IDF of a word found in `holding` of `chunks` chunks: log((N - n + 0.5) /
    (n + 0.5)), kept above zero so a word in over half the chunks still counts a little."""
    return max(math.log((chunks - holding + 0.5) / (holding + 0.5)), 1e-6)


def matching_words(counts: Sequence[tuple[float, str]], budget: float) -> list[str]:
    """The rarest words whose chunks together stay within `budget`, at least one:
    `counts` is (chunks holding the word, word), rarest first."""
    chosen: list[str] = []
    total = 0.0
    for holding, word in counts:
        if chosen and total + holding > budget:
            break
        chosen.append(word)
        total += holding
    return chosen


def fuse(ranked_lists: Sequence[Sequence[int]], weights: Sequence[float], k: float
         ) -> list[tuple[int, float]]:
    """Weighted reciprocal-rank fusion: score(d) = Σ w_i / (k + rank_i(d))."""
    scores: dict[int, float] = {}
    for ranking, weight in zip(ranked_lists, weights, strict=True):
        if weight <= 0:
            continue
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))


def diversify(ranked: Sequence[tuple[int, float]], doc_of: dict[int, str], decay: float
              ) -> list[tuple[int, float]]:
    """Greedy re-ranking: a chunk's score is multiplied by `decay` for each chunk of
    its document already placed, so a second-best document's best chunk can pass a
    long document's third-best. decay=1 keeps the order. Each chunk keeps the score it
    was placed by, so the scores shown go down with the rank."""
    left = list(ranked)
    placed: dict[str, int] = {}
    out: list[tuple[int, float]] = []

    def decayed(item: tuple[int, float]) -> float:
        return item[1] * decay ** placed.get(doc_of.get(item[0], ""), 0)

    while left:
        best = max(range(len(left)), key=lambda i: (decayed(left[i]), -i))
        item = left.pop(best)
        out.append((item[0], decayed(item)))
        doc = doc_of.get(item[0], "")
        placed[doc] = placed.get(doc, 0) + 1
    return out


def word_triples(text: str) -> set[tuple[str, ...]]:
    words = _WORD.findall(lexical(text).lower())
    return set(zip(words, words[1:], words[2:], strict=False)) if len(words) > 2 else {
        tuple(words)}


def collapse_duplicates(ranked: Sequence[tuple[int, float]], text_of: dict[int, str],
                        doc_of: dict[int, str], share: float, *, limit: int | None = None
                        ) -> list[tuple[int, float]]:
    """Drop each chunk that shares at least `share` of its word triples, and of the
    larger one's, with a chunk of another document kept before it: one passage stored
    twice is listed once, at its better rank. A short entry quoted inside a long one
    stays (it shares most of its own triples but few of the long one's). A document's
    own chunks overlap by design and are never compared (`diversify` spreads them).
    share > 1 keeps everything. Stops once `limit` chunks are kept."""
    if share > 1:
        return list(ranked)[:limit]
    kept: list[tuple[str, set[tuple[str, ...]]]] = []
    out = []
    for item in ranked:
        doc = doc_of.get(item[0], "")
        triples = word_triples(text_of.get(item[0], ""))
        if any(other != doc and len(triples & seen) >= share * max(len(triples), len(seen))
               for other, seen in kept):
            continue
        kept.append((doc, triples))
        out.append(item)
        if len(out) == limit:
            break
    return out


def term_coverage(terms: Sequence[str], text: str) -> float:
    """Share of query terms found (by prefix, a crude stemmer) among the text's words."""
    if not terms:
        return 0.0
    # Split at hyphens and apostrophes as `query_terms` splits the question ("post-mortem").
    words = {part for word in _WORD.findall(lexical(text).lower())
             for part in (word, *re.split(r"['-]", word)) if part}
    hits = sum(1 for t in terms if any(w.startswith(t[:max(4, len(t) - 2)]) for w in words))
    return hits / len(terms)


# Longest first; each entry is (suffix, replacement). A light stemmer, not Porter:
# it only has to make a query word and its inflections in a passage agree.
_SUFFIXES = (("ational", "ate"), ("ization", "ize"), ("ations", "ate"), ("ation", "ate"),
             ("tions", "t"), ("tion", "t"), ("nesses", ""), ("ness", ""), ("ments", ""),
             ("ment", ""), ("ings", ""), ("ing", ""), ("ities", ""), ("ity", ""),
             ("ically", "ic"), ("ally", "al"), ("edly", ""), ("ies", "y"), ("ied", "y"),
             ("ed", ""), ("ly", ""), ("sses", "ss"), ("xes", "x"), ("ches", "ch"),
             ("shes", "sh"), ("uses", "us"), ("s", ""))
_KEEP_S = ("ss", "us", "is")


def stem(word: str) -> str:
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix, repl in _SUFFIXES:
        if (word.endswith(suffix) and len(word) - len(suffix) >= 3
                and not (suffix == "s" and word.endswith(_KEEP_S))):
            word = word[: len(word) - len(suffix)] + repl
            break
    # "transmitted" → "transmit", "analyse" / "analysed" agree.
    if len(word) > 4 and word[-1] == word[-2] and word[-1] not in "lsz":
        word = word[:-1]
    return word[:-1] if word.endswith("e") and len(word) > 4 else word


def window_scores(terms: Sequence[str], texts: Sequence[str], weights: dict[str, float],
                  width: int, k1: float = 1.2) -> list[float]:
    """For each text, the BM25-saturated weight of query words in its best window of
    `width` characters (the window starting at each query-word hit is tried)."""
    wanted = {stem(t): weights.get(t, 1.0) for t in terms}
    wanted = {t: w for t, w in wanted.items() if w > 0}
    if not wanted:
        return [0.0] * len(texts)
    # One regex finds every word that could stem to a query term, so Python only
    # looks at the few hits instead of every word of 50 chunks.
    heads = sorted({t[:4] for t in wanted}, key=len, reverse=True)
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, heads)) + r")\w*")
    out = []
    for text in texts:
        hits = [(m.start(), key) for m in pattern.finditer(lexical(text).lower())
                if (key := stem(m.group())) in wanted]
        best, j = 0.0, 0
        counts: dict[str, int] = {}
        # Two pointers over the hits: [i, j) is the window starting at hit i.
        for start, key in hits:
            while j < len(hits) and hits[j][0] < start + width:
                counts[hits[j][1]] = counts.get(hits[j][1], 0) + 1
                j += 1
            score = sum(wanted[t] * n * (k1 + 1) / (n + k1) for t, n in counts.items())
            best = max(best, score)
            counts[key] -= 1
            if not counts[key]:
                del counts[key]
        out.append(best)
    return out


def rescore(base: Sequence[float], extra: Sequence[float], weight: float) -> list[int]:
    """Positions of `base` reordered by base/max(base) + weight * extra/max(extra)."""
    top_b, top_e = max(base, default=0.0) or 1.0, max(extra, default=0.0) or 1.0
    combined = [b / top_b + weight * e / top_e for b, e in zip(base, extra, strict=True)]
    return sorted(range(len(combined)), key=lambda i: (-combined[i], i))
