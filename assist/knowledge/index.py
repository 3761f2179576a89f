"""Build, save and load the search index of a knowledge base, one part per language.

Each part holds: every article's texts (title + phrasings) embedded by each encoder of the
language; a linear head (multinomial logistic regression on the concatenated embeddings, one
class per article) that learns which directions separate the articles; and a BM25 index of the
same texts. Embeddings and head are cached on disk under the knowledge base's content hash, so
a restart or a reload of an unchanged knowledge base costs no encoding.
"""

from __future__ import annotations

import itertools
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np
import numpy.typing as npt

from assist.knowledge.corpus import Article, KnowledgeBase
from assist.knowledge.embed import EncoderSet, Matrix, encoders_for

log = logging.getLogger(__name__)

HEAD_C = 8.0  # inverse L2 strength of the linear head (tuned on a Banking77 validation carve)
_WORD = re.compile(r"[a-z0-9']+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "i",
        "me",
        "my",
        "we",
        "our",
        "you",
        "your",
        "to",
        "of",
        "and",
        "or",
        "in",
        "on",
        "for",
        "at",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "it",
        "this",
        "that",
        "do",
        "does",
        "did",
        "can",
        "could",
        "would",
        "should",
        "will",
        "with",
        "from",
        "as",
        "so",
        "but",
        "if",
        "just",
        "please",
        "hi",
        "hello",
        "um",
        "uh",
        "yeah",
        "ok",
        "okay",
    ]
)


def tokens(text: str) -> list[str]:
    """BM25 terms: lower-case words without stop words; CJK characters and their bigrams."""
    lowered = text.lower()
    terms = [w for w in _WORD.findall(lowered) if w not in STOPWORDS]
    cjk = _CJK.findall(lowered)
    terms += cjk + [a + b for a, b in itertools.pairwise(cjk)]
    return terms or ["<empty>"]


@dataclass
class LanguageIndex:
    language: str
    articles: list[Article]
    encoders: tuple[str, ...]
    entry_starts: npt.NDArray[np.int64]  # entries are grouped by article; where each group starts
    embeddings: dict[str, Matrix]  # encoder → (entries, dim)
    head_w: Matrix | None  # (sum of dims, articles); None with a single article
    head_b: Matrix | None
    bm25: bm25s.BM25

    @property
    def n_entries(self) -> int:
        return int(next(iter(self.embeddings.values())).shape[0])


@dataclass
class KbIndex:
    kb: KnowledgeBase
    parts: dict[str, LanguageIndex]

    def part(self, language: str) -> LanguageIndex | None:
        return self.parts.get(language) or self.parts.get(self.kb.default_language)


def _texts(articles: list[Article]) -> tuple[list[str], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    texts: list[str] = []
    labels: list[int] = []
    starts: list[int] = []
    for index, article in enumerate(articles):
        starts.append(len(texts))
        for text in article.texts():
            texts.append(text)
            labels.append(index)
    return texts, np.asarray(labels, dtype=np.int64), np.asarray(starts, dtype=np.int64)


def _train_head(features: Matrix, labels: npt.NDArray[np.int64], n_classes: int) -> tuple[Matrix, Matrix] | None:
    if n_classes < 2:
        return None
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=HEAD_C, max_iter=500)
    model.fit(features, labels)
    weights = np.zeros((features.shape[1], n_classes), dtype=np.float32)
    bias = np.full(n_classes, -1e4, dtype=np.float32)  # classes never seen stay improbable
    if len(model.classes_) == 2:  # sklearn keeps one weight vector for two classes
        weights[:, model.classes_[1]] = model.coef_[0]
        bias[model.classes_[1]] = model.intercept_[0]
        bias[model.classes_[0]] = 0.0
        weights[:, model.classes_[0]] = 0.0
    else:
        weights[:, model.classes_] = model.coef_.T
        bias[model.classes_] = model.intercept_
    return weights, bias


def build_part(
    language: str, articles: list[Article], encoders: EncoderSet, cache: Path | None, kb_hash: str
) -> LanguageIndex:
    names = encoders_for(language)
    texts, labels, starts = _texts(articles)
    cache_file = cache / f"{kb_hash}-{language}-{'+'.join(names)}.npz" if cache else None
    embeddings: dict[str, Matrix] = {}
    head: tuple[Matrix, Matrix] | None = None
    if cache_file is not None and cache_file.exists():
        stored = np.load(cache_file)
        embeddings = {name: stored[f"emb_{name}"] for name in names}
        head = (stored["head_w"], stored["head_b"]) if "head_w" in stored else None
        log.info("knowledge index %s/%s loaded from cache", kb_hash, language)
    else:
        started = time.perf_counter()
        embeddings = {name: encoders.get(name).encode(texts) for name in names}
        features = np.concatenate([embeddings[n] for n in names], axis=1)
        head = _train_head(features, labels, len(articles))
        log.info(
            "knowledge index %s/%s built: %d texts in %.1f s",
            kb_hash,
            language,
            len(texts),
            time.perf_counter() - started,
        )
        if cache_file is not None:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            arrays = {f"emb_{n}": embeddings[n] for n in names}
            if head is not None:
                arrays |= {"head_w": head[0], "head_b": head[1]}
            partial = cache_file.with_suffix(".partial.npz")
            np.savez(partial, **arrays)
            partial.replace(cache_file)
    bm25 = bm25s.BM25()
    bm25.index([tokens(t) for t in texts], show_progress=False)
    return LanguageIndex(
        language, articles, names, starts, embeddings, head[0] if head else None, head[1] if head else None, bm25
    )


def build_index(kb: KnowledgeBase, encoders: EncoderSet, cache: Path | None = None) -> KbIndex:
    by_language: dict[str, list[Article]] = {}
    for article in kb.articles:
        by_language.setdefault(article.language, []).append(article)
    parts = {
        language: build_part(language, articles, encoders, cache, kb.content_hash)
        for language, articles in by_language.items()
    }
    return KbIndex(kb, parts)
