"""Hybrid ranking of knowledge articles for what a customer said, with an explicit 'no match'.

For each article of the call's language five signals are combined (each in [0, 1]):
- nearest: the best cosine similarity between the query and any of the article's texts (the
  encoders' similarities mixed, MiniLM 0.6 / USE 0.4 for English);
- neighbourhood: the article's share of a softmax over all texts' similarities (an article with
  several close phrasings beats one lucky near-duplicate);
- head: the probability the embedding head gives the article (it has seen every article's
  phrasings at once, so it knows what separates near neighbours);
- lexical head: the probability from the TF-IDF word/character n-gram classifier;
- BM25: the article's best BM25 score, squashed (rare keywords such as product names).
The weighted sum is the confidence; below ``threshold`` the matcher says nothing. Weights and
threshold were tuned on dev carves of Banking77 and CLINC150 that are never used for testing
(docs/knowledge.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assist.knowledge.corpus import Article
from assist.knowledge.embed import EncoderSet
from assist.knowledge.index import KbIndex, LanguageIndex, tokens

ENCODER_MIX = {"minilm": 0.6, "use": 0.4}


@dataclass(frozen=True, slots=True)
class MatchOptions:
    weight_nearest: float = 0.26
    weight_neighbourhood: float = 0.21
    weight_head: float = 0.26
    weight_lexical_head: float = 0.21
    weight_bm25: float = 0.06
    softmax_temperature: float = 0.02
    bm25_scale: float = 6.0  # BM25 score giving 0.5 after squashing
    threshold: float = 0.45  # below: "no match" (CLINC150 dev: 96.5 % in scope, 80 % OOS recall)


@dataclass(frozen=True, slots=True)
class Hit:
    article: Article
    confidence: float
    nearest: float
    head: float
    lexical: float


class Matcher:
    def __init__(self, index: KbIndex, encoders: EncoderSet, options: MatchOptions | None = None) -> None:
        self.index = index
        self.encoders = encoders
        self.options = options or MatchOptions()

    def rank(self, query: str, *, language: str = "en", k: int = 3) -> list[Hit]:
        """The k best articles, best first, whatever their confidence."""
        part = self.index.part(language)
        if part is None or not query.strip():
            return []
        scores = self.scores(part, query)
        order = np.argsort(-scores["total"])[:k]
        return [
            Hit(
                part.articles[i],
                float(scores["total"][i]),
                float(scores["nearest"][i]),
                float(scores["head"][i]),
                float(scores["lexical_head"][i]),
            )
            for i in order
        ]

    def match(self, query: str, *, language: str = "en", k: int = 3) -> list[Hit]:
        """Like rank, keeping only hits at or above the threshold: [] means no match."""
        return [hit for hit in self.rank(query, language=language, k=k) if hit.confidence >= self.options.threshold]

    def scores(self, part: LanguageIndex, query: str) -> dict[str, np.ndarray]:
        opts = self.options
        vectors = {name: self.encoders.get(name).encode([query])[0] for name in part.encoders}
        mix = {name: ENCODER_MIX.get(name, 1.0) for name in part.encoders}
        total_mix = sum(mix.values())
        similarity = sum(mix[n] / total_mix * (part.embeddings[n] @ vectors[n]) for n in part.encoders)
        similarity = np.asarray(similarity, dtype=np.float32)
        nearest = np.clip(np.maximum.reduceat(similarity, part.entry_starts), 0.0, 1.0)
        weights = np.exp((similarity - similarity.max()) / opts.softmax_temperature)
        neighbourhood = np.add.reduceat(weights, part.entry_starts)
        neighbourhood /= neighbourhood.sum()
        n_articles = len(part.articles)
        if part.head_w is not None and part.head_b is not None:
            logits = np.concatenate([vectors[n] for n in part.encoders]) @ part.head_w + part.head_b
            logits -= logits.max()
            head = np.exp(logits)
            head /= head.sum()
        else:
            head = np.ones(n_articles, dtype=np.float32)
        lexical_head = part.lexical.probabilities(query) if part.lexical else np.ones(n_articles, np.float32)
        bm25_entries = np.asarray(part.bm25.get_scores(tokens(query, pinyin=part.pinyin)), dtype=np.float32)
        best = np.maximum.reduceat(bm25_entries, part.entry_starts)
        bm25 = best / (best + opts.bm25_scale)
        total = (
            opts.weight_nearest * nearest
            + opts.weight_neighbourhood * neighbourhood
            + opts.weight_head * head
            + opts.weight_lexical_head * lexical_head
            + opts.weight_bm25 * bm25
        )
        return {
            "total": total,
            "nearest": nearest,
            "neighbourhood": neighbourhood,
            "head": head,
            "lexical_head": lexical_head,
            "bm25": bm25,
        }
