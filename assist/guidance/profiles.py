"""Who is calling: the customer directory, looked up by the caller's number at call start."""

from __future__ import annotations

import csv
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from assist.errors import AssistError


@dataclass(frozen=True, slots=True)
class CustomerProfile:
    phone: str
    name: str = ""
    segment: str = "standard"  # standard | silver | gold | vip
    tenure_years: float = 0.0
    plan: str = ""
    monthly_spend: float = 0.0
    flags: tuple[str, ...] = field(default_factory=tuple)
    language: str = ""
    account_status: str = ""
    notes: str = ""

    @property
    def high_value(self) -> bool:
        return self.segment in ("gold", "vip")

    def summary(self) -> dict[str, Any]:
        """What the sidebar shows before anyone speaks."""
        data = asdict(self)
        data["flags"] = list(self.flags)
        data["high_value"] = self.high_value
        return data


def normalise_number(number: str | None) -> str:
    """Digits only, without a leading international prefix: '+1 (415) 555-0100' → '14155550100'."""
    digits = re.sub(r"\D", "", number or "")
    return digits.lstrip("0")


class CustomerDirectory:
    """Profiles keyed by number; a number matches on all digits, or on its last 10 digits when
    the platform drops or adds the country code."""

    def __init__(self, profiles: list[CustomerProfile]) -> None:
        self._by_digits = {normalise_number(p.phone): p for p in profiles}
        self._by_tail = {normalise_number(p.phone)[-10:]: p for p in profiles}

    def __len__(self) -> int:
        return len(self._by_digits)

    def lookup(self, number: str | None) -> CustomerProfile | None:
        digits = normalise_number(number)
        if len(digits) < 6:
            return None
        return self._by_digits.get(digits) or self._by_tail.get(digits[-10:])

    @classmethod
    def from_csv(cls, path: Path) -> CustomerDirectory:
        if not path.exists():
            return cls([])
        profiles = []
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            for row in reader:
                line = reader.line_num  # the physical line, past blank lines and multi-line fields
                try:
                    profiles.append(
                        CustomerProfile(
                            phone=row["phone"].strip(),
                            name=(row.get("name") or "").strip(),
                            segment=(row.get("segment") or "standard").strip().lower(),
                            tenure_years=float(row.get("tenure_years") or 0),
                            plan=(row.get("plan") or "").strip(),
                            monthly_spend=float(row.get("monthly_spend") or 0),
                            flags=tuple(f.strip() for f in (row.get("flags") or "").split(";") if f.strip()),
                            language=(row.get("language") or "").strip(),
                            account_status=(row.get("account_status") or "").strip(),
                            notes=(row.get("notes") or "").strip(),
                        )
                    )
                except (KeyError, ValueError) as error:
                    raise AssistError(f"{path}:{line}: bad customer row: {error}") from error
        return cls(profiles)
