"""Hybrid ranking of knowledge articles for what a customer said, with an explicit 'no match'.

For each article of the call's language three signals are combined:
- dense: the best cosine similarity between the query and any of the article's texts, averaged
  over the language's encoders (nearest neighbour);
- head: the probability the linear head gives the article (it has seen all articles' phrasings
  at once, so it knows what separates near neighbours);
- lexical: the article's best BM25 score, squashed to [0, 1).
The weighted sum is the confidence in [0, 1]; below ``threshold`` the matcher says nothing.
Weights and threshold were tuned on carves of Banking77 and CLINC150 never used for testing
(docs/knowledge.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assist.knowledge.corpus import Article
from assist.knowledge.embed import EncoderSet
from assist.knowledge.index import KbIndex, LanguageIndex, tokens


@dataclass(frozen=True, slots=True)
class MatchOptions:
    weight_dense: float = 0.45
    weight_head: float = 0.45
    weight_lexical: float = 0.10
    lexical_scale: float = 6.0  # BM25 score giving 0.5 after squashing
    threshold: float = 0.55  # below: "no match"


@dataclass(frozen=True, slots=True)
class Hit:
    article: Article
    confidence: float
    dense: float
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
        scores = self._scores(part, query)
        order = np.argsort(-scores["total"])[:k]
        return [
            Hit(
                part.articles[i],
                float(scores["total"][i]),
                float(scores["dense"][i]),
                float(scores["head"][i]),
                float(scores["lexical"][i]),
            )
            for i in order
        ]

    def match(self, query: str, *, language: str = "en", k: int = 3) -> list[Hit]:
        """Like rank, keeping only hits at or above the threshold: [] means no match."""
        return [hit for hit in self.rank(query, language=language, k=k) if hit.confidence >= self.options.threshold]

    def _scores(self, part: LanguageIndex, query: str) -> dict[str, np.ndarray]:
        opts = self.options
        vectors = [self.encoders.get(name).encode([query])[0] for name in part.encoders]
        dense_entries = np.mean(
            [part.embeddings[name] @ v for name, v in zip(part.encoders, vectors, strict=True)], axis=0
        )
        dense = np.maximum.reduceat(dense_entries, part.entry_starts)
        if part.head_w is not None and part.head_b is not None:
            logits = np.concatenate(vectors) @ part.head_w + part.head_b
            logits -= logits.max()
            head = np.exp(logits)
            head /= head.sum()
        else:
            head = np.ones(len(part.articles), dtype=np.float32)
        bm25_entries = np.asarray(part.bm25.get_scores(tokens(query)), dtype=np.float32)
        best = np.maximum.reduceat(bm25_entries, part.entry_starts)
        lexical = best / (best + opts.lexical_scale)
        total = opts.weight_dense * np.clip(dense, 0.0, 1.0) + opts.weight_head * head + opts.weight_lexical * lexical
        return {"total": total, "dense": dense, "head": head, "lexical": lexical}
