"""Data with a written shape: e-mail (written or spoken), IBAN, 123-45-6789, formatted phone numbers, 04/27, 2027年4月.

These are found first and claim their spans before the digits are read. Fences are ASCII character classes, not
word characters, so that CJK text may touch them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from assist.calllog.redact.checksums import iban_ok
from assist.calllog.redact.kinds import Hit

_TLDS = "com|net|org|edu|gov|mil|info|biz|io|ai|app|dev|me|co|uk|us|ca|au|nz|ie|de|fr|es|it|nl|cn|hk|tw|sg|jp|kr|in"
_MAIL_PROVIDERS = {"gmail", "googlemail", "yahoo", "hotmail", "outlook", "live", "icloud", "aol", "gmx", "proton"}
_MAIL_PROVIDERS |= {"protonmail", "qq", "163", "126", "sina", "sohu", "foxmail", "yeah"}
_EMAIL_RE = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# A literal "." joins only when tight ("john.smith"); a sentence-ending period does not.
_DOT = r"(?:\.(?=[a-z0-9])|\s*(?:(?<![a-z])dot(?![a-z])|点)\s*)"
_LOCAL_SEP = r"(?:[._-](?=[a-z0-9])|\s*(?:(?<![a-z])(?:dot|underscore|dash|hyphen)(?![a-z])|点|下划线)\s*)"
_AT = r"\s*(?:@|(?<![a-z])at(?![a-z])|艾特)\s*"
_SPOKEN_EMAIL_RE = re.compile(
    rf"(?<![a-z0-9._-])(?P<local>[a-z0-9]+(?:{_LOCAL_SEP}[a-z0-9]+){{0,6}})(?P<at>{_AT})"  # bounded: no backtracking
    rf"(?P<domain>[a-z0-9]+(?:{_DOT}[a-z0-9]+){{0,4}}{_DOT}(?:{_TLDS}))(?![a-z0-9])",  # storms on "a dot a dot ..."
    re.IGNORECASE,
)
_IBAN_RE = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])")
_SSN_RE = re.compile(r"(?<![0-9A-Za-z-])[0-9]{3}-[0-9]{2}-[0-9]{4}(?![0-9A-Za-z-])")
_E164_RE = re.compile(r"(?<![0-9A-Za-z])\+[0-9](?:[ .-]?[0-9]){7,14}(?![0-9])")
# A separator (or parentheses) is required: ten bare digits could be anything.
_US_PHONE_RE = re.compile(
    r"(?<![0-9A-Za-z+-])(?:\+?1[ .-]?)?(?:\([0-9]{3}\)\s?|[0-9]{3}[ .-])[0-9]{3}[ .-][0-9]{4}(?![0-9A-Za-z-])"
)
_SLASH_EXPIRY_RE = re.compile(r"(?<![0-9/])(?:0?[1-9]|1[0-2]) ?/ ?(?:20)?[0-9]{2}(?![0-9/])")
_ZH_DIGIT_CHARS = "零〇○一二三四五六七八九幺两"
_ZH_EXPIRY_RE = re.compile(
    rf"(?<![0-9{_ZH_DIGIT_CHARS}])(?:[0-9]{{4}}|[0-9]{{2}}|[{_ZH_DIGIT_CHARS}]{{4}}|[{_ZH_DIGIT_CHARS}]{{2}})\s*年\s*"
    r"(?:0?[1-9]|1[0-2]|十[一二]?|[一二三四五六七八九])\s*月份?"
)


def _spoken_email_ok(m: re.Match[str], in_context: bool) -> bool:
    """'at ... dot com' is common in prose ("looking at amazon dot com"): ask for a sign that it is an address."""
    local, at, domain = m["local"].lower(), m["at"].strip(), m["domain"].lower()
    provider = re.split(r"\s|\.|dot|点", domain, maxsplit=1)[0]
    return (
        in_context
        or at in ("@", "艾特")
        or provider in _MAIL_PROVIDERS
        or any(ch.isdigit() for ch in local)
        or re.search(rf"^[a-z0-9]+{_LOCAL_SEP}", local) is not None
    )


def pattern_hits(text: str, context: set[str]) -> list[Hit]:
    """Spans with a written shape, earliest first and not overlapping; ``context`` holds the kinds in force."""
    hits = [(m.start(), m.end(), "email") for m in _EMAIL_RE.finditer(text)]
    hits += [
        (m.start(), m.end(), "email")
        for m in _SPOKEN_EMAIL_RE.finditer(text)
        if _spoken_email_ok(m, "email" in context)
    ]
    hits += [(m.start(), m.end(), "account") for m in _IBAN_RE.finditer(text) if iban_ok(m.group())]
    hits += [(m.start(), m.end(), "ssn") for m in _SSN_RE.finditer(text)]
    hits += [(m.start(), m.end(), "phone") for rx in (_E164_RE, _US_PHONE_RE) for m in rx.finditer(text)]
    if "expiry" in context:  # 04/27 is also the 27th of April
        hits += [(m.start(), m.end(), "expiry") for rx in (_SLASH_EXPIRY_RE, _ZH_EXPIRY_RE) for m in rx.finditer(text)]
    return _non_overlapping(hits)


def _non_overlapping(hits: Iterable[Hit]) -> list[Hit]:
    """Earliest first, the longer of two that start together; later overlapping hits are dropped."""
    kept: list[Hit] = []
    for hit in sorted(hits, key=lambda h: (h[0], h[0] - h[1])):
        if not kept or hit[0] >= kept[-1][1]:
            kept.append(hit)
    return kept
