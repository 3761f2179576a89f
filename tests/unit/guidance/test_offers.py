"""Offer eligibility, the offers.yaml loader and the per-call OfferPolicy."""

from __future__ import annotations

from pathlib import Path

import pytest

from assist.errors import AssistError
from assist.guidance.offers import Conditions, Eligibility, Offer, OfferPolicy, load_offers
from assist.guidance.profiles import CustomerProfile

REPO_ROOT = Path(__file__).resolve().parents[3]
BANK_OFFERS = REPO_ROOT / "kb" / "bank" / "offers.yaml"

GOLD = CustomerProfile(
    phone="+12025550143",
    name="Patricia",
    segment="gold",
    tenure_years=12,
    plan="Premier Checking",
    monthly_spend=2400,
    flags=("frequent_traveller",),
)
VIP_NEW = CustomerProfile(phone="+1", segment="vip", tenure_years=1, plan="Private Client", monthly_spend=9000)
STANDARD = CustomerProfile(
    phone="+2",
    segment="standard",
    tenure_years=1,
    plan="Everyday Checking",
    monthly_spend=300,
    flags=("overdraft_user",),
)


def offer(
    id_: str,
    triggers: list[str],
    *,
    priority: int = 50,
    language: str = "en",
    eligibility: Eligibility | None = None,
) -> Offer:
    return Offer(
        id_,
        f"title {id_}",
        f"pitch {id_}",
        language,
        frozenset(triggers),
        eligibility or Eligibility(),
        f"value {id_}",
        priority,
    )


# -- eligibility -------------------------------------------------------------------------------


def test_empty_eligibility_holds_for_everyone() -> None:
    assert Eligibility().holds(GOLD)
    assert Eligibility().holds(STANDARD)


@pytest.mark.parametrize(
    ("conditions", "gold", "standard"),
    [
        ({"segments": ["gold", "vip"]}, True, False),
        ({"segments": ["GOLD"]}, True, False),
        ({"min_tenure_years": 12}, True, False),
        ({"min_tenure_years": 12.5}, False, False),
        ({"plans": ["Premier Checking"]}, True, False),
        ({"flags_any": ["overdraft_user", "frequent_traveller"]}, True, True),
        ({"flags_any": ["high_balance"]}, False, False),
        ({"min_monthly_spend": 1000}, True, False),
    ],
)
def test_each_condition(conditions: dict[str, object], gold: bool, standard: bool) -> None:
    rule = Eligibility.model_validate(conditions)
    assert rule.holds(GOLD) is gold
    assert rule.holds(STANDARD) is standard


def test_top_level_conditions_must_all_hold() -> None:
    rule = Eligibility.model_validate({"segments": ["gold", "vip"], "min_tenure_years": 3})
    assert rule.holds(GOLD)
    assert not rule.holds(VIP_NEW)  # right segment, too new
    assert not rule.holds(STANDARD)  # neither
    old_standard = CustomerProfile(phone="+3", segment="standard", tenure_years=20)
    assert not rule.holds(old_standard)  # long tenure, wrong segment


def test_any_of_needs_one_alternative() -> None:
    rule = Eligibility.model_validate({"any_of": [{"segments": ["vip"]}, {"min_tenure_years": 10}]})
    assert rule.holds(VIP_NEW)  # first alternative
    assert rule.holds(GOLD)  # second alternative
    assert not rule.holds(STANDARD)  # none


def test_any_of_combined_with_top_level_conditions() -> None:
    rule = Eligibility.model_validate(
        {
            "min_monthly_spend": 1000,
            "any_of": [{"segments": ["vip"]}, {"flags_any": ["frequent_traveller"]}],
        }
    )
    assert rule.holds(GOLD)
    assert rule.holds(VIP_NEW)
    poor_vip = CustomerProfile(phone="+4", segment="vip", monthly_spend=10)
    assert not rule.holds(poor_vip)  # an alternative holds but the top level does not


def test_any_of_alternative_is_itself_an_and() -> None:
    rule = Eligibility.model_validate({"any_of": [{"segments": ["vip"], "min_tenure_years": 5}]})
    assert not rule.holds(VIP_NEW)
    assert rule.holds(CustomerProfile(phone="+5", segment="vip", tenure_years=5))


def test_conditions_forbid_unknown_fields() -> None:
    with pytest.raises(ValueError):
        Conditions.model_validate({"segment": ["gold"]})


# -- load_offers ----------------------------------------------------------------------------------


def test_real_bank_offers_load() -> None:
    offers = load_offers(BANK_OFFERS)
    assert len(offers) >= 5
    by_id = {o.id: o for o in offers}
    assert len(by_id) == len(offers)
    for o in offers:
        assert o.title and o.pitch
        assert o.triggers
        assert all(t == t.lower() for t in o.triggers)
        assert o.language == "en"
    assert "churn" in by_id["retention-fee-waiver"].triggers
    assert "replace card" in by_id["premium-card-upgrade"].triggers
    assert by_id["retention-fee-waiver"].eligibility.holds(GOLD)


def test_missing_offers_file_is_an_empty_catalogue(tmp_path: Path) -> None:
    assert load_offers(tmp_path / "offers.yaml") == []


def test_empty_offers_file_is_an_empty_catalogue(tmp_path: Path) -> None:
    path = tmp_path / "offers.yaml"
    path.write_text("", encoding="utf-8")
    assert load_offers(path) == []


def test_load_offers_defaults_and_lower_cases_triggers(tmp_path: Path) -> None:
    path = tmp_path / "offers.yaml"
    path.write_text(
        "offers:\n  - id: a\n    title: T\n    pitch: P\n    trigger_intents: [Replace Card]\n",
        encoding="utf-8",
    )
    [only] = load_offers(path)
    assert only.triggers == frozenset({"replace card"})
    assert only.language == "en"
    assert only.priority == 50
    assert only.value == ""
    assert only.eligibility.holds(STANDARD)


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        (
            "offers:\n  - id: a\n    title: T\n    pitch: P\n    trigger_intents: [x]\n    colour: red\n",
            "invalid offer",
        ),
        (
            "offers:\n  - id: a\n    title: T\n    pitch: P\n    trigger_intents: [x]\n"
            "    eligibility: {segment: [gold]}\n",
            "invalid offer",
        ),
        (
            "offers:\n  - id: a\n    title: T\n    pitch: P\n    trigger_intents: []\n",
            "invalid offer",
        ),
        ("offers:\n  - id: a\n    title: T\n    trigger_intents: [x]\n", "invalid offer"),
        (
            "offers:\n  - {id: a, title: T, pitch: P, trigger_intents: [x]}\n"
            "  - {id: a, title: U, pitch: Q, trigger_intents: [y]}\n",
            r"duplicate offer ids \['a'\]",
        ),
    ],
)
def test_invalid_offers_raise_assist_error(tmp_path: Path, text: str, pattern: str) -> None:
    path = tmp_path / "offers.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AssistError, match=pattern) as caught:
        load_offers(path)
    assert str(path) in str(caught.value)


def test_bad_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "offers.yaml"
    path.write_text('offers:\n  - id: a\n    title: T\n    pitch: "P" extra\n', encoding="utf-8")
    with pytest.raises(AssistError, match="invalid YAML") as caught:
        load_offers(path)
    assert f"{path}:4:" in str(caught.value)


def test_top_level_list_is_an_assist_error(tmp_path: Path) -> None:
    path = tmp_path / "offers.yaml"
    path.write_text("- id: a\n  title: T\n  pitch: P\n  trigger_intents: [x]\n", encoding="utf-8")
    with pytest.raises(AssistError):
        load_offers(path)


# -- OfferPolicy -----------------------------------------------------------------------------------


def test_on_trigger_returns_eligible_offers_by_priority() -> None:
    catalogue = [
        offer("low", ["replace card"], priority=10),
        offer("high", ["replace card"], priority=90),
        offer("gold-only", ["replace card"], priority=95, eligibility=Eligibility(segments=["gold"])),
        offer("other-trigger", ["pay bill"], priority=99),
    ]
    policy = OfferPolicy(catalogue, STANDARD, max_offers=5)
    cards = policy.on_trigger("replace card", reason="customer asked: Replace a card")
    assert [c["offer_id"] for c in cards] == ["high", "low"]

    gold = OfferPolicy(catalogue, GOLD, max_offers=5)
    assert [c["offer_id"] for c in gold.on_trigger("replace card", reason="r")] == [
        "gold-only",
        "high",
        "low",
    ]


def test_on_trigger_caps_offers_per_trigger() -> None:
    catalogue = [offer(f"o{i}", ["churn"], priority=i) for i in range(5)]
    policy = OfferPolicy(catalogue, GOLD)
    assert [c["offer_id"] for c in policy.on_trigger("churn", reason="r")] == ["o4", "o3"]
    # the next trigger may bring the next best, never the ones already shown
    assert [c["offer_id"] for c in policy.on_trigger("churn", reason="r")] == ["o2", "o1"]


def test_each_offer_at_most_once_per_call() -> None:
    catalogue = [offer("a", ["churn", "close account"])]
    policy = OfferPolicy(catalogue, GOLD)
    assert len(policy.on_trigger("churn", reason="r")) == 1
    assert policy.on_trigger("churn", reason="r") == []
    assert policy.on_trigger("close account", reason="r") == []
    assert policy.shown == {"a"}
    # another call starts afresh
    assert len(OfferPolicy(catalogue, GOLD).on_trigger("close account", reason="r")) == 1


def test_on_trigger_respects_language() -> None:
    catalogue = [
        offer("en-offer", ["churn"], language="en"),
        offer("zh-offer", ["churn"], language="zh"),
    ]
    assert [c["offer_id"] for c in OfferPolicy(catalogue, GOLD, "zh").on_trigger("churn", reason="r")] == ["zh-offer"]
    assert [c["offer_id"] for c in OfferPolicy(catalogue, GOLD, "en").on_trigger("churn", reason="r")] == ["en-offer"]


def test_on_trigger_without_a_profile_offers_nothing() -> None:
    policy = OfferPolicy([offer("a", ["churn"])], None)
    assert policy.on_trigger("churn", reason="r") == []
    assert policy.shown == set()


def test_unknown_trigger_offers_nothing() -> None:
    assert OfferPolicy([offer("a", ["churn"])], GOLD).on_trigger("pay bill", reason="r") == []


def test_trigger_is_case_insensitive() -> None:
    cards = OfferPolicy([offer("a", ["replace card"])], GOLD).on_trigger("Replace Card", reason="r")
    assert [c["offer_id"] for c in cards] == ["a"]
    assert cards[0]["trigger"] == "replace card"


def test_offer_card_shape() -> None:
    [card] = OfferPolicy([offer("upgrade", ["replace card"])], GOLD).on_trigger(
        "replace card", reason="customer asked: Replace a card"
    )
    assert card["type"] == "offer"
    assert card["card_id"] == "offer:upgrade"
    assert card["offer_id"] == "upgrade"
    assert card["title"] == "title upgrade"
    assert card["pitch"] == "pitch upgrade"
    assert card["value"] == "value upgrade"
    assert card["confidence"] == 1.0
    reason = card["reason"]
    assert reason.startswith("customer asked: Replace a card · eligible: ")
    assert "gold customer" in reason
    assert "12 years" in reason
    assert "frequent_traveller" in reason


def test_real_catalogue_for_a_gold_customer() -> None:
    catalogue = load_offers(BANK_OFFERS)
    policy = OfferPolicy(catalogue, GOLD)
    churn = policy.on_trigger("churn", reason="Churn risk")
    assert [c["offer_id"] for c in churn][:1] == ["retention-fee-waiver"]
    card = policy.on_trigger("replace card", reason="customer asked")
    assert [c["offer_id"] for c in card] == ["premium-card-upgrade"]
    # a standard customer is eligible for neither
    standard = OfferPolicy(catalogue, STANDARD)
    assert standard.on_trigger("churn", reason="r") == []
    assert standard.on_trigger("replace card", reason="r") == []
    assert [c["offer_id"] for c in standard.on_trigger("overdraft fees", reason="r")] == ["overdraft-protection"]
