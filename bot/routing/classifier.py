"""The text classifier: Bernoulli-style naive Bayes over multilingual features.

Pure Python, trained in well under a second from the phrases in
`seeds.yaml` the first time it is needed (never at import). Naive Bayes
posteriors are famously over-confident because features are not independent,
so scores are divided by a temperature that grows with the number of
features before the softmax; that keeps "confidence" usable as a threshold
for asking the LLM.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.errors import ConfigError
from bot.routing.features import features

__all__ = ["JOBS", "TextClassifier", "default_seed_path", "load_seeds"]

JOBS = ("document", "question", "support")


def default_seed_path() -> Path:
    return Path(__file__).resolve().parent / "seeds.yaml"


def load_seeds(path: Path | None = None) -> list[tuple[str, str]]:
    """(text, job) pairs from a seed file shaped `job: {lang: [phrases]}`."""
    path = path or default_seed_path()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"routing seed file {path} cannot be read: {exc}") from exc
    pairs: list[tuple[str, str]] = []
    for job, by_lang in (data or {}).items():
        if job not in JOBS or not isinstance(by_lang, dict):
            raise ConfigError(f"routing seed file {path}: unknown job {job!r}")
        for phrases in by_lang.values():
            pairs.extend((str(p), job) for p in phrases or [])
    return pairs


@dataclass(frozen=True)
class Prediction:
    job: str
    confidence: float
    scores: Mapping[str, float]  # posterior per job, sums to 1


class TextClassifier:
    """Naive Bayes over feature presence, with Laplace smoothing."""

    def __init__(
        self, *, alpha: float = 0.5, temperature: float = 1.0, short_text: int = 25
    ) -> None:
        self.alpha = alpha
        self.short_text = short_text
        self.temperature = temperature
        self._log_prob: dict[str, dict[str, float]] = {}
        self._log_unseen: dict[str, float] = {}
        self._vocab: set[str] = set()

    @classmethod
    def from_seeds(cls, path: Path | None = None) -> TextClassifier:
        return cls().fit(load_seeds(path))

    def fit(self, examples: Iterable[tuple[str, str]]) -> TextClassifier:
        counts = {job: Counter[str]() for job in JOBS}
        totals = Counter[str]()
        for text, job in examples:
            feats = features(text)
            counts[job].update(feats)
            totals[job] += len(feats)
            self._vocab |= feats
        size = len(self._vocab)
        for job in JOBS:
            denom = totals[job] + self.alpha * size
            self._log_prob[job] = {
                f: math.log((c + self.alpha) / denom) for f, c in counts[job].items()
            }
            self._log_unseen[job] = math.log(self.alpha / denom)
        return self

    def log_likelihoods(self, text: str) -> dict[str, float]:
        # Features never seen in training say nothing about the job; skipping
        # them keeps long messages from drifting toward the smallest class. Summed in
        # sorted order: a set's order (the hash seed's) changed the sums' last bits from
        # process to process.
        feats = sorted(f for f in features(text) if f in self._vocab)
        # Dividing by sqrt(n) tempers the independence assumption; the extra
        # factor for very short texts ("ok", "hello") keeps a handful of
        # incidental n-grams from sounding certain, so context and the LLM
        # get the say there.
        n = max(len(feats), 1)
        scale = self.temperature / math.sqrt(n) * min(1.0, n / self.short_text)
        return {
            job: scale * sum(self._log_prob[job].get(f, self._log_unseen[job]) for f in feats)
            for job in JOBS
        }

    def evidence(self, text: str, job: str, k: int = 2) -> list[str]:
        """The words of `text` that pointed most strongly to `job`, for the reason line."""
        others = [j for j in JOBS if j != job]
        ranked: list[tuple[float, str]] = []
        for feat in features(text):
            kind, _, value = feat.partition(":")
            if kind not in ("w", "b", "c2", "c3") or feat not in self._vocab:
                continue
            mine = self._log_prob[job].get(feat, self._log_unseen[job])
            best_other = max(self._log_prob[o].get(feat, self._log_unseen[o]) for o in others)
            if mine - best_other > 0.5:
                ranked.append((mine - best_other, value.replace("_", " ")))
        ranked.sort(reverse=True)
        picked: list[str] = []
        for _, value in ranked:
            if not any(value in p or p in value for p in picked):
                picked.append(value)
            if len(picked) == k:
                break
        return picked

    def predict(self, text: str, prior: Mapping[str, float] | None = None) -> Prediction:
        """The most likely job; `prior` (job → probability) weighs in the context."""
        if not self._log_prob:
            raise RuntimeError("TextClassifier.predict called before fit")
        scores = self.log_likelihoods(text)
        if prior:
            scores = {j: s + math.log(max(prior.get(j, 0.0), 1e-6)) for j, s in scores.items()}
        top = max(scores.values())
        exp = {j: math.exp(s - top) for j, s in scores.items()}
        total = sum(exp.values())
        post = {j: v / total for j, v in exp.items()}
        job = max(post, key=post.__getitem__)
        return Prediction(job=job, confidence=post[job], scores=post)
