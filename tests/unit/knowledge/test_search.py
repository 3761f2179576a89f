"""build_index + Matcher on tiny deterministic fake encoders (no real embedding model)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assist.knowledge.corpus import Article, KnowledgeBase
from assist.knowledge.embed import encoders_for
from assist.knowledge.index import STOPWORDS, build_index, tokens
from assist.knowledge.search import Hit, Matcher, MatchOptions
from tests.fakes import DIM, FakeEncoders


def make_article(
    id_: str,
    phrasings: list[str],
    *,
    language: str = "en",
    title: str | None = None,
    intent: str | None = None,
) -> Article:
    intent = intent or id_.replace("-", " ")
    return Article(
        id=id_,
        title=title or intent,
        answer=f"answer for {id_}",
        intent=intent,
        tags=(intent,),
        language=language,
        phrasings=tuple(phrasings),
        source=None,
        related=(),
        body="",
        path=f"articles/{id_}.md",
    )


EN_ARTICLES = (
    make_article(
        "replace-card",
        ["i lost my debit card", "my card was stolen", "need a new card"],
        title="Replace a lost card",
    ),
    make_article(
        "check-balance",
        ["what is my account balance", "how much money do i have"],
        title="Check balance",
    ),
    make_article("pay-bill", ["pay my electricity bill", "i want to pay a bill"], title="Pay a bill"),
)
ZH_ARTICLES = (
    make_article("zh-replace-card", ["我的卡丢了", "补办银行卡"], language="zh", title="补办银行卡"),
    make_article("zh-check-balance", ["查询余额", "我的账户还有多少钱"], language="zh", title="查询余额"),
)


def make_kb(articles: tuple[Article, ...], languages: tuple[str, ...] = ("en",)) -> KnowledgeBase:
    return KnowledgeBase("test", "", languages, "en", articles)


@pytest.fixture
def encoders() -> FakeEncoders:
    return FakeEncoders()


@pytest.fixture
def matcher(tmp_path: Path, encoders: FakeEncoders) -> Matcher:
    kb = make_kb(EN_ARTICLES + ZH_ARTICLES, ("en", "zh"))
    return Matcher(build_index(kb, encoders, tmp_path), encoders)


# -- the fakes themselves -------------------------------------------------------------------------


def test_fake_encoders_cover_every_encoder_name(encoders: FakeEncoders) -> None:
    for language in ("en", "zh"):
        for name in encoders_for(language):
            vectors = encoders.get(name).encode(["hello card", "lost card"])
            assert vectors.shape == (2, DIM)
            assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


# -- ranking ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("I lost my debit card", "replace-card"),
        ("someone stole my card", "replace-card"),
        ("what's my account balance", "check-balance"),
        ("I want to pay my bill", "pay-bill"),
    ],
)
def test_rank_puts_the_best_matching_article_first(matcher: Matcher, query: str, expected: str) -> None:
    hits = matcher.rank(query, language="en")
    assert hits
    assert all(isinstance(h, Hit) for h in hits)
    assert hits[0].article.id == expected
    confidences = [h.confidence for h in hits]
    assert confidences == sorted(confidences, reverse=True)
    assert 0.0 <= hits[-1].confidence <= hits[0].confidence <= 1.0


def test_rank_returns_k_hits_from_the_language_part(matcher: Matcher) -> None:
    hits = matcher.rank("lost card", language="en", k=2)
    assert len(hits) == 2
    assert {h.article.language for h in hits} == {"en"}
    assert len(matcher.rank("lost card", language="en", k=10)) == len(EN_ARTICLES)


def test_exact_phrasing_is_a_confident_match(matcher: Matcher) -> None:
    hits = matcher.match("i lost my debit card", language="en")
    assert [h.article.id for h in hits][:1] == ["replace-card"]
    assert hits[0].confidence >= matcher.options.threshold
    assert hits[0].nearest == pytest.approx(1.0, abs=1e-5)
    assert hits[0].lexical > 0


def test_match_returns_nothing_below_the_threshold(matcher: Matcher) -> None:
    assert matcher.rank("um okay", language="en")  # rank always answers
    assert matcher.match("um okay", language="en") == []
    strict = Matcher(matcher.index, matcher.encoders, MatchOptions(threshold=1.01))
    assert strict.match("i lost my debit card", language="en") == []


def test_empty_query_ranks_nothing(matcher: Matcher) -> None:
    assert matcher.rank("   ", language="en") == []
    assert matcher.match("", language="en") == []


def test_language_routing_keeps_zh_queries_on_zh_articles(matcher: Matcher) -> None:
    hits = matcher.rank("我的卡丢了怎么办", language="zh", k=5)
    assert hits
    assert {h.article.language for h in hits} == {"zh"}
    assert hits[0].article.id == "zh-replace-card"
    balance = matcher.rank("查询余额", language="zh", k=5)
    assert balance[0].article.id == "zh-check-balance"
    # an English query in an English call never sees zh articles
    assert {h.article.language for h in matcher.rank("补办银行卡 card", language="en", k=5)} == {"en"}


def test_unknown_language_falls_back_to_the_default(matcher: Matcher) -> None:
    hits = matcher.rank("I lost my debit card", language="fr")
    assert hits[0].article.id == "replace-card"


def test_zh_part_uses_only_the_multilingual_encoder(matcher: Matcher) -> None:
    assert matcher.index.parts["zh"].encoders == ("use",)
    assert matcher.index.parts["en"].encoders == ("minilm", "use")
    assert matcher.index.parts["en"].n_entries == sum(len(a.texts()) for a in EN_ARTICLES)


def test_single_article_part_has_no_head(tmp_path: Path, encoders: FakeEncoders) -> None:
    kb = make_kb(EN_ARTICLES[:1])
    index = build_index(kb, encoders, tmp_path)
    assert index.parts["en"].head_w is None
    hits = Matcher(index, encoders).rank("i lost my debit card")
    assert [h.article.id for h in hits] == ["replace-card"]
    assert hits[0].head == 1.0


# -- the on-disk cache ---------------------------------------------------------------------------


def test_index_cache_is_written_and_reused(tmp_path: Path) -> None:
    kb = make_kb(EN_ARTICLES + ZH_ARTICLES, ("en", "zh"))
    first = FakeEncoders()
    built = build_index(kb, first, tmp_path)
    assert first.calls > 0
    files = sorted(p.name for p in tmp_path.iterdir())
    stems = [f"{kb.content_hash}-en-minilm+use", f"{kb.content_hash}-zh-use"]
    assert files == sorted([f"{s}.{ext}" for s in stems for ext in ("npz", "lexical-v2.pkl")])

    second = FakeEncoders()
    loaded = build_index(kb, second, tmp_path)
    assert second.calls == 0  # nothing was encoded: embeddings and head came from the cache
    for language in ("en", "zh"):
        a, b = built.parts[language], loaded.parts[language]
        for name in a.encoders:
            np.testing.assert_array_equal(a.embeddings[name], b.embeddings[name])
        assert (a.head_w is None) == (b.head_w is None)
        if a.head_w is not None:
            np.testing.assert_array_equal(a.head_w, b.head_w)
            np.testing.assert_array_equal(a.head_b, b.head_b)
    query = "someone stole my card"
    ranked_a = Matcher(built, first).rank(query)
    ranked_b = Matcher(loaded, second).rank(query)
    assert [h.article.id for h in ranked_a] == [h.article.id for h in ranked_b]
    assert [h.confidence for h in ranked_a] == pytest.approx([h.confidence for h in ranked_b])


def test_changed_kb_is_not_served_from_a_stale_cache(tmp_path: Path) -> None:
    build_index(make_kb(EN_ARTICLES), FakeEncoders(), tmp_path)
    changed = (make_article("replace-card", ["my card is gone"]), *EN_ARTICLES[1:])
    fresh = FakeEncoders()
    build_index(make_kb(changed), fresh, tmp_path)
    assert fresh.calls > 0
    assert len(list(tmp_path.glob("*.npz"))) == 2


def test_no_cache_folder_always_encodes(tmp_path: Path) -> None:
    kb = make_kb(EN_ARTICLES)
    for _ in range(2):
        fakes = FakeEncoders()
        build_index(kb, fakes, None)
        assert fakes.calls > 0
    assert list(tmp_path.iterdir()) == []


# -- tokens ----------------------------------------------------------------------------------------


def test_tokens_drop_english_stop_words_and_lower_case() -> None:
    assert tokens("Please check MY balance") == ["check", "balance"]
    assert tokens("I can't find the card") == ["can't", "find", "card"]
    assert not set(tokens("the a an i me my we our you your")) - {"<empty>"}
    assert {"the", "please", "um"} <= STOPWORDS


def test_tokens_of_only_stop_words_is_a_placeholder() -> None:
    assert tokens("the a um") == ["<empty>"]
    assert tokens("") == ["<empty>"]


def test_tokens_cjk_unigrams_and_bigrams() -> None:
    chars = ["我", "的", "卡", "丢", "了", "我的", "的卡", "卡丢", "丢了"]
    assert tokens("我的卡丢了", pinyin=False) == chars
    assert tokens("我的卡丢了") == [*chars, "wo_de", "de_ka", "ka_diu", "diu_le"]  # and how they sound
    assert tokens("余额", pinyin=False) == ["余", "额", "余额"]


def test_tokens_mixed_latin_and_cjk() -> None:
    assert tokens("ATM 吞卡") == ["atm", "吞", "卡", "吞卡", "tun_ka"]
