"""What digits alone can tell: check digits (Luhn, resident ID, IBAN) and the shape of a numeric expiry date."""

from __future__ import annotations

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def resident_id_ok(chars: str) -> bool:
    """Chinese resident ID: 17 digits, a plausible birth date, and the ISO 7064 MOD 11-2 check character."""
    if len(chars) != 18 or not chars[:17].isdigit() or chars[0] == "0":
        return False
    year, month, day = int(chars[6:10]), int(chars[10:12]), int(chars[12:14])
    if not (1900 <= year <= 2099 and 1 <= month <= 12 and 1 <= day <= 31):
        return False
    check = "10X98765432"[sum(int(d) * w for d, w in zip(chars, _ID_WEIGHTS, strict=False)) % 11]
    return chars[17] == check


def iban_ok(text: str) -> bool:
    """An IBAN (spaces allowed) of a possible length whose ISO 7064 MOD 97-10 check passes."""
    s = text.replace(" ", "")
    if not 15 <= len(s) <= 34:
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def numeric_expiry(d: str) -> bool:
    """MYY, MMYY, M20YY, MM20YY: 427, 0427, 42027, 042027."""
    if len(d) in (3, 5):
        return d[0] != "0" and (len(d) == 3 or d[1:3] == "20")
    if len(d) in (4, 6):
        return 1 <= int(d[:2]) <= 12 and (len(d) == 4 or d[2:4] == "20")
    return False
