"""load_kb / parse_article validation, kb_from_examples and the stratified carve()."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from assist.errors import AssistError
from assist.knowledge.corpus import KnowledgeBase, KnowledgeError, kb_from_examples, load_kb
from assist.knowledge.evaluate import carve

REPO_ROOT = Path(__file__).resolve().parents[3]
BANK = REPO_ROOT / "kb" / "bank"

KB_YAML = "name: Test Bank\ndescription: for tests\nlanguages: [en, zh]\ndefault_language: en\n"

REPLACE_CARD = """\
---
id: replace-card
title: Replace a lost card
answer: "We cancel the old card and send a new one in 5 to 7 business days."
intent: replace card
tags: [lost card, debit card]
language: en
phrasings:
  - "i lost my debit card"
  - "my card was stolen"
source: https://example.test/cards/replace
related: [check-balance]
---
- Block the card first.
- Express delivery costs $15.
"""

CHECK_BALANCE = """\
---
id: check-balance
title: Check the account balance
answer: "Your balance is in the app under Accounts."
intent: check balance
phrasings: ["what is my balance", "how much money do i have"]
---
Body of the balance article.
"""

ZH_CARD = """\
---
id: zh-replace-card
title: 补办银行卡
answer: 我们会注销旧卡并寄出新卡。
intent: replace card
language: zh
phrasings: [我的卡丢了]
---
"""

PROBLEM = re.compile(r"^articles/[^:]+\.md:\d+: .+|^kb\.yaml:\d+: .+", re.S)


def write_kb(root: Path, articles: dict[str, str], kb_yaml: str | None = KB_YAML) -> Path:
    (root / "articles").mkdir(parents=True, exist_ok=True)
    if kb_yaml is not None:
        (root / "kb.yaml").write_text(kb_yaml, encoding="utf-8")
    for name, text in articles.items():
        (root / "articles" / name).write_text(text, encoding="utf-8")
    return root


def article(id_: str = "a", **fields: str) -> str:
    """Front matter with the given raw YAML lines (in this order); default a valid article."""
    values = {
        "id": id_,
        "title": "A title",
        "answer": "An answer.",
        "intent": "some intent",
        "phrasings": '["a phrasing"]',
    }
    values.update(fields)
    lines = [f"{key}: {value}" for key, value in values.items() if value is not None]
    return "---\n" + "\n".join(lines) + "\n---\nbody\n"


def problems_of(root: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as caught:
        load_kb(root)
    return caught.value.problems


def line_of(problem: str) -> int:
    return int(problem.split(":")[1])


# -- valid articles -------------------------------------------------------------------------------


def test_valid_articles_load_with_all_fields(tmp_path: Path) -> None:
    kb = load_kb(
        write_kb(
            tmp_path,
            {
                "replace-card.md": REPLACE_CARD,
                "check-balance.md": CHECK_BALANCE,
                "zh-replace-card.md": ZH_CARD,
            },
        )
    )
    assert isinstance(kb, KnowledgeBase)
    assert kb.name == "Test Bank"
    assert kb.description == "for tests"
    assert kb.languages == ("en", "zh")
    assert kb.default_language == "en"
    assert kb.root == tmp_path
    assert [a.id for a in kb.articles] == ["check-balance", "replace-card", "zh-replace-card"]
    card = kb.by_id["replace-card"]
    assert card.title == "Replace a lost card"
    assert card.answer.startswith("We cancel the old card")
    assert card.intent == "replace card"
    assert card.language == "en"
    assert card.phrasings == ("i lost my debit card", "my card was stolen")
    assert card.source == "https://example.test/cards/replace"
    assert card.related == ("check-balance",)
    assert card.path == "articles/replace-card.md"
    assert card.texts() == ["Replace a lost card", "i lost my debit card", "my card was stolen"]
    assert card.body == "- Block the card first.\n- Express delivery costs $15."


def test_tags_include_the_intent_once(tmp_path: Path) -> None:
    kb = load_kb(write_kb(tmp_path, {"replace-card.md": REPLACE_CARD, "check-balance.md": CHECK_BALANCE}))
    assert kb.by_id["replace-card"].tags == ("lost card", "debit card", "replace card")
    assert kb.by_id["check-balance"].tags == ("check balance",)
    again = article("a", intent="pay bill", tags="[pay bill, bills]")
    kb2 = load_kb(write_kb(tmp_path / "two", {"a.md": again}))
    assert kb2.by_id["a"].tags == ("pay bill", "bills")


def test_defaults_for_optional_fields(tmp_path: Path) -> None:
    kb = load_kb(write_kb(tmp_path, {"check-balance.md": CHECK_BALANCE}))
    balance = kb.by_id["check-balance"]
    assert balance.language == "en"
    assert balance.source is None
    assert balance.related == ()
    assert balance.body == "Body of the balance article."


def test_kb_without_kb_yaml_is_named_after_its_folder(tmp_path: Path) -> None:
    kb = load_kb(write_kb(tmp_path / "my-kb", {"check-balance.md": CHECK_BALANCE}, kb_yaml=None))
    assert kb.name == "my-kb"
    assert kb.languages == ("en",)


def test_intents_are_sorted_and_unique(tmp_path: Path) -> None:
    kb = load_kb(
        write_kb(
            tmp_path,
            {
                "replace-card.md": REPLACE_CARD,
                "check-balance.md": CHECK_BALANCE,
                "zh-replace-card.md": ZH_CARD,
            },
        )
    )
    assert kb.intents() == ["check balance", "replace card"]


def test_content_hash_is_stable_and_tracks_phrasings_not_body(tmp_path: Path) -> None:
    articles = {"replace-card.md": REPLACE_CARD, "check-balance.md": CHECK_BALANCE}
    first = load_kb(write_kb(tmp_path / "one", articles)).content_hash
    assert first == load_kb(write_kb(tmp_path / "two", articles)).content_hash
    assert re.fullmatch(r"[0-9a-f]{16}", first)

    body_changed = REPLACE_CARD.replace("Express delivery costs $15.", "Express delivery is free.")
    assert load_kb(write_kb(tmp_path / "body", {**articles, "replace-card.md": body_changed})).content_hash == first

    phrasing_changed = REPLACE_CARD.replace("my card was stolen", "someone stole my card")
    assert load_kb(write_kb(tmp_path / "phr", {**articles, "replace-card.md": phrasing_changed})).content_hash != first

    title_changed = REPLACE_CARD.replace("title: Replace a lost card", "title: Replace a card")
    assert load_kb(write_kb(tmp_path / "title", {**articles, "replace-card.md": title_changed})).content_hash != first


# -- mistakes, each with file:line ----------------------------------------------------------------


def test_missing_front_matter(tmp_path: Path) -> None:
    problems = problems_of(write_kb(tmp_path, {"a.md": "id: a\ntitle: no dashes\n"}))
    assert len(problems) == 1
    assert problems[0].startswith("articles/a.md:1: missing YAML front matter")


@pytest.mark.parametrize("link", ["javascript:alert(1)", "data:text/html,x", "ftp://host/file", "//evil.example"])
def test_a_source_link_must_be_http_or_mailto(tmp_path: Path, link: str) -> None:
    text = f"---\nid: a\ntitle: T\nanswer: A\nintent: i\nphrasings: [p]\nsource: '{link}'\n---\n"
    problems = problems_of(write_kb(tmp_path, {"a.md": text}))
    assert len(problems) == 1 and "http(s)://" in problems[0], problems


def test_invalid_yaml_points_at_the_bad_line(tmp_path: Path) -> None:
    text = '---\nid: a\ntitle: T\nanswer: "quoted" trailing\nintent: i\nphrasings: [p]\n---\n'
    problems = problems_of(write_kb(tmp_path, {"a.md": text}))
    assert len(problems) == 1
    assert problems[0].startswith("articles/a.md:4: invalid YAML")


def test_invalid_yaml_bad_indentation_line(tmp_path: Path) -> None:
    text = "---\nid: a\ntitle: T\nanswer: x\n  bad: indent\nintent: i\n---\n"
    problems = problems_of(write_kb(tmp_path, {"a.md": text}))
    assert problems[0].startswith("articles/a.md:5: invalid YAML")


def test_front_matter_that_is_not_a_mapping(tmp_path: Path) -> None:
    problems = problems_of(write_kb(tmp_path, {"a.md": "---\n- just\n- a list\n---\n"}))
    assert problems == ["articles/a.md:2: front matter must be a mapping of fields"]


def test_missing_required_field_points_at_line_1(tmp_path: Path) -> None:
    problems = problems_of(write_kb(tmp_path, {"a.md": article("a", answer=None)}))
    assert len(problems) == 1
    assert problems[0].startswith("articles/a.md:1: answer:")
    assert "required" in problems[0].lower()


def test_unknown_field_is_rejected_at_its_line(tmp_path: Path) -> None:
    text = article("a", category="cards")  # line 7: after id, title, answer, intent, phrasings
    problems = problems_of(write_kb(tmp_path, {"a.md": text}))
    assert len(problems) == 1
    assert problems[0].startswith("articles/a.md:7: category:")
    assert "extra" in problems[0].lower() or "not permitted" in problems[0].lower()


def test_id_not_matching_file_name_points_at_the_id_line(tmp_path: Path) -> None:
    text = "---\ntitle: T\nid: other-name\nanswer: x\nintent: i\nphrasings: [p]\n---\n"
    problems = problems_of(write_kb(tmp_path, {"a.md": text}))
    assert len(problems) == 1
    assert problems[0].startswith("articles/a.md:3: id 'other-name' must match the file name 'a'")


def test_copied_article_cannot_load_twice(tmp_path: Path) -> None:
    # A copy under another file name keeps the old id: the id/file-name rule catches the duplicate
    # (two files with one stem cannot exist, so load_kb's own duplicate-id branch is unreachable).
    problems = problems_of(
        write_kb(tmp_path, {"check-balance.md": CHECK_BALANCE, "check-balance-copy.md": CHECK_BALANCE})
    )
    assert len(problems) == 1
    assert problems[0].startswith("articles/check-balance-copy.md:2: id 'check-balance'")


def test_bad_id_shape(tmp_path: Path) -> None:
    problems = problems_of(write_kb(tmp_path, {"Bad_Id.md": article("Bad_Id")}))
    assert len(problems) == 1
    assert problems[0].startswith("articles/Bad_Id.md:2: id:")
    assert "lower-case" in problems[0]


def test_empty_phrasings_list(tmp_path: Path) -> None:
    problems = problems_of(write_kb(tmp_path, {"a.md": article("a", phrasings="[]")}))
    assert problems == ["articles/a.md:6: phrasings: add at least one customer phrasing"]


def test_missing_phrasings(tmp_path: Path) -> None:
    problems = problems_of(write_kb(tmp_path, {"a.md": article("a", phrasings=None)}))
    assert len(problems) == 1
    assert problems[0].startswith("articles/a.md:1: phrasings: add at least one")


def test_blank_phrasing_string(tmp_path: Path) -> None:
    problems = problems_of(write_kb(tmp_path, {"a.md": article("a", phrasings='["ok", "   "]')}))
    assert len(problems) == 1
    assert problems[0].startswith("articles/a.md:6: phrasings:")
    assert "empty" in problems[0]


def test_language_not_in_kb_languages(tmp_path: Path) -> None:
    kb_yaml = "name: t\nlanguages: [en]\n"
    problems = problems_of(write_kb(tmp_path, {"zh-replace-card.md": ZH_CARD}, kb_yaml=kb_yaml))
    assert len(problems) == 1
    assert re.match(r"^articles/zh-replace-card\.md:\d+: language 'zh' not in kb\.yaml languages", problems[0])


def test_related_article_that_does_not_exist(tmp_path: Path) -> None:
    problems = problems_of(write_kb(tmp_path, {"a.md": article("a", related="[b, ghost]"), "b.md": article("b")}))
    assert len(problems) == 1
    assert re.match(r"^articles/a\.md:\d+: related article 'ghost' does not exist", problems[0])


def test_invalid_kb_yaml_is_reported(tmp_path: Path) -> None:
    problems = problems_of(write_kb(tmp_path, {"a.md": article("a")}, kb_yaml="name: t\nowner: nobody\n"))
    assert len(problems) == 1
    assert problems[0].startswith("kb.yaml:1:")


def test_no_articles_folder_or_no_articles(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="no articles/ folder"):
        load_kb(tmp_path)
    (tmp_path / "articles").mkdir()
    with pytest.raises(KnowledgeError, match="no articles"):
        load_kb(tmp_path)


def test_every_mistake_is_reported_at_once(tmp_path: Path) -> None:
    root = write_kb(
        tmp_path,
        {
            "good.md": article("good"),
            "nofront.md": "just text\n",
            "badyaml.md": '---\nid: badyaml\ntitle: "x" y\n---\n',
            "noanswer.md": article("noanswer", answer=None),
            "extra.md": article("extra", colour="blue"),
            "mismatch.md": article("something-else"),
            "BadShape.md": article("BadShape"),
            "nophrase.md": article("nophrase", phrasings="[]"),
            "zh.md": article("zh", language="fr"),
            "dangling.md": article("dangling", related="[nowhere]"),
        },
    )
    with pytest.raises(KnowledgeError) as caught:
        load_kb(root)
    error = caught.value
    assert isinstance(error, AssistError)
    problems = error.problems
    assert isinstance(problems, list)
    assert all(isinstance(p, str) and PROBLEM.match(p) for p in problems), problems
    files = Counter(p.split(":")[0] for p in problems)
    assert set(files) == {
        f"articles/{name}.md"
        for name in (
            "nofront",
            "badyaml",
            "noanswer",
            "extra",
            "mismatch",
            "BadShape",
            "nophrase",
            "zh",
            "dangling",
        )
    }
    assert not any(p.startswith("articles/good.md") for p in problems)
    # the message lists them all too
    for problem in problems:
        assert problem in str(error)
    by_file = {p.split(":")[0]: p for p in problems}
    assert line_of(by_file["articles/badyaml.md"]) == 3
    assert line_of(by_file["articles/mismatch.md"]) == 2
    assert line_of(by_file["articles/extra.md"]) == 7


def test_a_kb_with_errors_is_never_half_loaded(tmp_path: Path) -> None:
    root = write_kb(tmp_path, {"check-balance.md": CHECK_BALANCE, "broken.md": "no front matter"})
    with pytest.raises(KnowledgeError):
        load_kb(root)


# -- the real bank knowledge base -----------------------------------------------------------------


BANK_INTENTS = [
    "check balance",
    "get branch hours",
    "order checks",
    "pay bill",
    "replace card",
    "reset password",
    "schedule appointment",
    "transfer money",
]


def test_real_bank_kb_loads_and_covers_the_core_intents() -> None:
    kb = load_kb(BANK)
    assert kb.name
    assert "en" in kb.languages
    assert set(BANK_INTENTS) <= set(kb.intents())
    for a in kb.articles:
        assert a.phrasings, a.id
        assert a.intent in a.tags
        assert all(other in kb.by_id for other in a.related)
    assert len({a.id for a in kb.articles}) == len(kb.articles)


# -- kb_from_examples ----------------------------------------------------------------------------


def test_kb_from_examples_one_article_per_label() -> None:
    examples = {
        "card_arrival": ["where is my card", "card not arrived"],
        "Top Up Failed": ["my top up failed"],
        "balance": ["balance?"],
    }
    kb = kb_from_examples("eval", examples, language="en")
    assert kb.name == "eval"
    assert kb.languages == ("en",)
    assert kb.default_language == "en"
    assert len(kb.articles) == 3
    by_intent = {a.intent: a for a in kb.articles}
    assert set(by_intent) == set(examples)
    arrival = by_intent["card_arrival"]
    assert arrival.id == "card-arrival"
    assert arrival.title == "card arrival"
    assert arrival.phrasings == ("where is my card", "card not arrived")
    assert arrival.language == "en"
    assert by_intent["Top Up Failed"].id == "top-up-failed"
    assert kb.by_id["balance"].phrasings == ("balance?",)


def test_kb_from_examples_language() -> None:
    kb = kb_from_examples("zh", {"查余额": ["我的余额"]}, language="zh")
    assert kb.articles[0].language == "zh"
    assert kb.languages == ("zh",)


# -- carve -----------------------------------------------------------------------------------------


def _rows() -> list[tuple[str, str]]:
    sizes = {"a": 10, "b": 20, "c": 30}
    return [(f"{label} text {i}", label) for label, n in sizes.items() for i in range(n)]


FRACTIONS = {"train": 0.7, "dev": 0.1, "test": 0.2}


def test_carve_is_stratified() -> None:
    out = carve(_rows(), FRACTIONS)
    assert list(out) == ["train", "dev", "test"]
    counts = {name: Counter(label for _, label in rows) for name, rows in out.items()}
    assert counts["train"] == {"a": 7, "b": 14, "c": 21}
    assert counts["dev"] == {"a": 1, "b": 2, "c": 3}
    assert counts["test"] == {"a": 2, "b": 4, "c": 6}


def test_carve_partitions_without_overlap() -> None:
    rows = _rows()
    out = carve(rows, FRACTIONS)
    together = [row for part in out.values() for row in part]
    assert len(together) == len(rows)
    assert sorted(together) == sorted(rows)
    parts = [set(part) for part in out.values()]
    for i, one in enumerate(parts):
        for other in parts[i + 1 :]:
            assert not one & other


def test_carve_is_reproducible_with_the_same_seed() -> None:
    rows = _rows()
    assert carve(rows, FRACTIONS, seed=7) == carve(list(rows), FRACTIONS, seed=7)
    assert carve(rows, FRACTIONS) == carve(rows, FRACTIONS)
    assert carve(rows, FRACTIONS, seed=1) != carve(rows, FRACTIONS, seed=2)


def test_carve_last_part_takes_the_remainder() -> None:
    rows = [(f"t{i}", "x") for i in range(3)]
    out = carve(rows, {"train": 0.5, "test": 0.5})
    assert len(out["train"]) + len(out["test"]) == 3


def test_speech_prompts_per_language_come_from_kb_yaml(tmp_path: Path) -> None:
    prompt = "speech_prompt:\n  zh: 流明通信，国际漫游、账单、宽带。\n"
    kb = load_kb(write_kb(tmp_path, {"check-balance.md": CHECK_BALANCE}, kb_yaml=KB_YAML + prompt))
    assert kb.speech_prompts == (("zh", "流明通信，国际漫游、账单、宽带。"),)
    assert load_kb(BANK).speech_prompts == ()
    too_long = "speech_prompt:\n  zh: " + "流" * 201 + "\n"
    with pytest.raises(KnowledgeError, match="speech_prompt"):
        load_kb(write_kb(tmp_path / "long", {"check-balance.md": CHECK_BALANCE}, kb_yaml=KB_YAML + too_long))
