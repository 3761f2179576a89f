"""CustomerDirectory: number normalisation, lookup rules and the CSV loader."""

from __future__ import annotations

from pathlib import Path

import pytest

from assist.errors import AssistError
from assist.guidance.profiles import CustomerDirectory, CustomerProfile, normalise_number

REPO_ROOT = Path(__file__).resolve().parents[3]
BANK_CUSTOMERS = REPO_ROOT / "kb" / "bank" / "customers.csv"

US = CustomerProfile(phone="+12025550143", name="Patricia Brown", segment="gold")
UK = CustomerProfile(phone="+447700900123", name="Oliver Bennett", segment="silver")
LOCAL = CustomerProfile(phone="4155550162", name="James Smith")  # stored without country code


@pytest.fixture
def directory() -> CustomerDirectory:
    return CustomerDirectory([US, UK, LOCAL])


def test_normalise_number() -> None:
    assert normalise_number("+1 (415) 555-0100") == "14155550100"
    assert normalise_number("00 44 7700 900123") == "447700900123"
    assert normalise_number(None) == ""
    assert normalise_number("") == ""


def test_lookup_by_exact_e164(directory: CustomerDirectory) -> None:
    assert directory.lookup("+12025550143") is US
    assert directory.lookup("+447700900123") is UK


def test_lookup_without_plus(directory: CustomerDirectory) -> None:
    assert directory.lookup("12025550143") is US
    assert directory.lookup("447700900123") is UK


@pytest.mark.parametrize(
    "number",
    [
        "+1 202 555 0143",
        "+1-202-555-0143",
        "+1 (202) 555-0143",
        "1.202.555.0143",
        " +1 (202)-555 0143 ",
    ],
)
def test_lookup_ignores_spaces_dashes_and_parentheses(directory: CustomerDirectory, number: str) -> None:
    assert directory.lookup(number) is US


@pytest.mark.parametrize(
    ("number", "who"),
    [
        ("(202) 555-0143", "Patricia Brown"),
        ("2025550143", "Patricia Brown"),
        ("07700 900123", "Oliver Bennett"),
        ("0044 7700 900123", "Oliver Bennett"),
    ],
)
def test_lookup_by_national_number_uses_the_last_ten_digits(
    directory: CustomerDirectory, number: str, who: str
) -> None:
    found = directory.lookup(number)
    assert found is not None
    assert found.name == who


def test_lookup_with_country_code_finds_a_number_stored_without(
    directory: CustomerDirectory,
) -> None:
    assert directory.lookup("+1 415 555 0162") is LOCAL
    assert directory.lookup("4155550162") is LOCAL


@pytest.mark.parametrize("number", ["+12025550199", "+19995550143", "5550143", "+33 1 23 45 67 89"])
def test_unknown_number_is_none(directory: CustomerDirectory, number: str) -> None:
    assert directory.lookup(number) is None


@pytest.mark.parametrize("number", [None, "", "anonymous", "+1", "12345", "0000012345"])
def test_too_short_or_missing_number_is_none(directory: CustomerDirectory, number: str | None) -> None:
    assert directory.lookup(number) is None


def test_len_counts_profiles(directory: CustomerDirectory) -> None:
    assert len(directory) == 3
    assert len(CustomerDirectory([])) == 0


def test_profile_summary_and_high_value() -> None:
    profile = CustomerProfile(phone="+1", segment="vip", flags=("a", "b"))
    assert profile.high_value
    assert not CustomerProfile(phone="+1", segment="silver").high_value
    summary = profile.summary()
    assert summary["flags"] == ["a", "b"]
    assert summary["high_value"] is True
    assert summary["segment"] == "vip"


# -- from_csv --------------------------------------------------------------------------------------


def test_from_csv_on_the_real_bank_directory() -> None:
    directory = CustomerDirectory.from_csv(BANK_CUSTOMERS)
    assert len(directory) >= 10
    patricia = directory.lookup("+12025550143")
    assert patricia is not None
    assert patricia.name == "Patricia Brown"
    assert patricia.segment == "gold"
    assert patricia.tenure_years == 12.0
    assert patricia.plan == "Premier Checking"
    assert patricia.monthly_spend == 2400.0
    assert patricia.flags == ("frequent_traveller",)
    assert patricia.language == "en"
    assert patricia.account_status == "active"
    assert patricia.high_value
    michael = directory.lookup("(305) 555-0152")
    assert michael is not None
    assert michael.flags == ("frequent_traveller", "high_balance")
    assert michael.segment == "vip"
    james = directory.lookup("+14155550162")
    assert james is not None
    assert james.flags == ()
    oliver = directory.lookup("07700 900123")
    assert oliver is not None
    assert oliver.name == "Oliver Bennett"


def test_from_csv_missing_file_is_an_empty_directory(tmp_path: Path) -> None:
    directory = CustomerDirectory.from_csv(tmp_path / "nope.csv")
    assert len(directory) == 0
    assert directory.lookup("+12025550143") is None


def test_from_csv_defaults_and_normalises(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(
        "phone,name,segment,flags\n +12025550100 , Ann ,GOLD, a ; ;b \n+12025550101,,,\n",
        encoding="utf-8",
    )
    directory = CustomerDirectory.from_csv(path)
    ann = directory.lookup("+12025550100")
    assert ann is not None
    assert (ann.name, ann.segment, ann.flags) == ("Ann", "gold", ("a", "b"))
    other = directory.lookup("+12025550101")
    assert other is not None
    assert (other.segment, other.tenure_years, other.monthly_spend, other.flags) == (
        "standard",
        0.0,
        0.0,
        (),
    )


def test_from_csv_bad_number_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(
        "phone,name,tenure_years,monthly_spend\n+12025550100,Ann,3,100\n+12025550101,Bob,three,100\n",
        encoding="utf-8",
    )
    with pytest.raises(AssistError) as caught:
        CustomerDirectory.from_csv(path)
    assert f"{path}:3:" in str(caught.value)
    assert "three" in str(caught.value)


def test_from_csv_bad_spend_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("phone,monthly_spend\n+12025550100,lots\n", encoding="utf-8")
    with pytest.raises(AssistError, match=r"customers\.csv:2: bad customer row"):
        CustomerDirectory.from_csv(path)


def test_from_csv_without_phone_column(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("name,segment\nAnn,gold\n", encoding="utf-8")
    with pytest.raises(AssistError, match=r"customers\.csv:2:"):
        CustomerDirectory.from_csv(path)


def test_from_csv_line_number_after_a_multiline_field(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(
        'phone,name,tenure_years,notes\n+12025550100,Ann,1,"prefers text alerts\nand email"\n+12025550101,Bob,x,\n',
        encoding="utf-8",
    )
    with pytest.raises(AssistError) as caught:
        CustomerDirectory.from_csv(path)
    assert f"{path}:4:" in str(caught.value)


def test_from_csv_line_number_after_a_blank_line(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("phone,name,tenure_years\n+12025550100,Ann,1\n\n+12025550101,Bob,x\n", encoding="utf-8")
    with pytest.raises(AssistError) as caught:
        CustomerDirectory.from_csv(path)
    assert f"{path}:4:" in str(caught.value)
