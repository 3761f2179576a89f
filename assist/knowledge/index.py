"""Build, save and load the search index of a knowledge base, one part per language.

Each part holds: every article's texts (title + phrasings) embedded by each encoder of the
language; a linear head (multinomial logistic regression on the concatenated embeddings, one
class per article) that learns which directions separate the articles; a lexical head (logistic
regression on TF-IDF word and character n-grams: it catches product names and wordings the
embeddings blur); and a BM25 index of the same texts. Everything learned is cached on disk under
the knowledge base's content hash, so a restart or a reload of an unchanged knowledge base costs
no encoding and no training.
"""

from __future__ import annotations

import itertools
import logging
import pickle
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

HEAD_C = 16.0  # inverse L2 strength of the embedding head (tuned on a Banking77 dev carve)
LEXICAL_C = 10.0  # ... of the TF-IDF head
LEXICAL_SUFFIX = ".lexical-v2.pkl"  # v2: pinyin features for Chinese; older cache files are rebuilt
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


# Near-homophones a recogniser (or a regional accent) confuses: retroflex and flat initials,
# front and back nasals, n and l. Applied to toneless pinyin, so 慢游 meets 漫游 and 山 meets 三.
_FUZZY_PINYIN = (
    (re.compile(r"^(z|c|s)h"), r"\1"),
    (re.compile(r"^n(?=[aeiou])"), "l"),
    (re.compile(r"(?<=[aeio])ng$"), "n"),
)


def fuzzy_pinyin(text: str) -> str:
    """The Chinese characters of ``text`` as toneless, accent-tolerant pinyin syllables, one per
    character: what matching compares when the characters themselves are misheard homophones."""
    from pypinyin import lazy_pinyin

    syllables = lazy_pinyin("".join(_CJK.findall(text)), errors="ignore")
    out = []
    for syllable in syllables:
        for pattern, replacement in _FUZZY_PINYIN:
            syllable = pattern.sub(replacement, syllable)
        out.append(syllable)
    return " ".join(out)


def tokens(text: str, *, pinyin: bool = True) -> list[str]:
    """BM25 terms: lower-case words without stop words; CJK characters, their bigrams and the
    bigrams' fuzzy pinyin (a misheard homophone still shares the sound)."""
    lowered = text.lower()
    terms = [w for w in _WORD.findall(lowered) if w not in STOPWORDS]
    cjk = _CJK.findall(lowered)
    if cjk:
        terms += cjk + [a + b for a, b in itertools.pairwise(cjk)]
    if cjk and pinyin:
        sounds = fuzzy_pinyin(lowered).split()
        terms += [f"{a}_{b}" for a, b in itertools.pairwise(sounds)]
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
    lexical: LexicalHead | None = None
    pinyin: bool = True  # Chinese: terms and features of the sounds too (off only to measure it)

    @property
    def n_entries(self) -> int:
        return int(next(iter(self.embeddings.values())).shape[0])


@dataclass
class KbIndex:
    kb: KnowledgeBase
    parts: dict[str, LanguageIndex]

    def part(self, language: str) -> LanguageIndex | None:
        return self.parts.get(language) or self.parts.get(self.kb.default_language)


class LexicalHead:
    """TF-IDF (words + character n-grams; characters only for unspaced scripts) → logistic
    regression over articles."""

    def __init__(
        self, texts: list[str], labels: npt.NDArray[np.int64], n_classes: int, language: str, *, pinyin: bool = True
    ) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        self.vectorizers = [TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)]
        if language == "zh" and pinyin:  # syllables and syllable pairs: homophones the recogniser wrote wrong
            self.vectorizers.append(
                TfidfVectorizer(preprocessor=fuzzy_pinyin, token_pattern=r"\S+", ngram_range=(1, 2), sublinear_tf=True)
            )
        elif language != "ja":
            self.vectorizers.insert(0, TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True))
        self.model = LogisticRegression(C=LEXICAL_C, max_iter=2000).fit(self._features(texts, fit=True), labels)
        self.n_classes = n_classes

    def _features(self, texts: list[str], *, fit: bool = False) -> object:
        from scipy.sparse import hstack

        parts = [v.fit_transform(texts) if fit else v.transform(texts) for v in self.vectorizers]
        return hstack(parts).tocsr()

    def probabilities(self, query: str) -> npt.NDArray[np.float32]:
        out = np.zeros(self.n_classes, dtype=np.float32)
        out[self.model.classes_] = self.model.predict_proba(self._features([query]))[0]
        return out


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
    language: str,
    articles: list[Article],
    encoders: EncoderSet,
    cache: Path | None,
    kb_hash: str,
    *,
    pinyin: bool = True,
) -> LanguageIndex:
    lexical_suffix = LEXICAL_SUFFIX if pinyin else LEXICAL_SUFFIX.replace(".pkl", "-nopinyin.pkl")
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
        lexical_file = cache_file.with_suffix(lexical_suffix)
        # Our own cache file, written by this code under a content hash: safe to unpickle.
        lexical = pickle.loads(lexical_file.read_bytes()) if lexical_file.exists() else None
    else:
        started = time.perf_counter()
        embeddings = {name: encoders.get(name).encode(texts) for name in names}
        features = np.concatenate([embeddings[n] for n in names], axis=1)
        head = _train_head(features, labels, len(articles))
        lexical = LexicalHead(texts, labels, len(articles), language, pinyin=pinyin) if len(articles) > 1 else None
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
            if lexical is not None:
                cache_file.with_suffix(lexical_suffix).write_bytes(pickle.dumps(lexical))
            partial = cache_file.with_suffix(".partial.npz")
            np.savez(partial, **arrays)  # type: ignore[arg-type]
            partial.replace(cache_file)  # last: an .npz present means the whole entry is
    bm25 = bm25s.BM25()
    bm25.index([tokens(t, pinyin=pinyin) for t in texts], show_progress=False)
    if lexical is None and len(articles) > 1:  # a cache entry from before this lexical head
        lexical = LexicalHead(texts, labels, len(articles), language, pinyin=pinyin)
        if cache_file is not None:
            cache_file.with_suffix(lexical_suffix).write_bytes(pickle.dumps(lexical))
    return LanguageIndex(
        language,
        articles,
        names,
        starts,
        embeddings,
        head[0] if head else None,
        head[1] if head else None,
        bm25,
        lexical,
        pinyin,
    )


def build_index(kb: KnowledgeBase, encoders: EncoderSet, cache: Path | None = None, *, pinyin: bool = True) -> KbIndex:
    by_language: dict[str, list[Article]] = {}
    for article in kb.articles:
        by_language.setdefault(article.language, []).append(article)
    parts = {
        language: build_part(language, articles, encoders, cache, kb.content_hash, pinyin=pinyin)
        for language, articles in by_language.items()
    }
    return KbIndex(kb, parts)
