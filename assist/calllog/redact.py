"""Redaction of sensitive data in live transcripts (English and Chinese) before they are stored or shown.

Pure logic, no I/O. A redaction is recorded by kind and position, never by value.

How it reads an utterance:
1. Patterns with a written shape (e-mail, IBAN, 123-45-6789, formatted phone numbers, 04/27, 2027年4月) are found
   first and claim their spans.
2. The rest is tokenised; numerals, English number words ("oh", "double four", "twenty seven") and Chinese digit
   characters become digit items, and maximal runs of them are formed across spaces, dashes, commas and periods.
3. Each run is cut into segments that cover the most digits: a segment is a card (Luhn), a Chinese resident ID
   (MOD 11-2), a Chinese mobile, or whatever the nearest context keyword allows ("security code" -> 3-4 digits).
Context keywords are remembered for the last two utterances of the call, whoever said them, because the agent asks
and the customer answers.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

REDACTION_KINDS = ("card", "cvv", "expiry", "ssn", "national_id", "phone", "email", "account")
_PLACEHOLDERS = {kind: "[" + kind.replace("_", " ") + "]" for kind in REDACTION_KINDS}
_CONTEXT_TURNS = 2  # utterances of context kept per call, either speaker


@dataclass(frozen=True, slots=True)
class Redaction:
    """One redaction: its kind and the position of its placeholder in the redacted text."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Redacted:
    """A redacted utterance. ``source_spans`` are the same spans in the original text: use, never store."""

    text: str
    redactions: tuple[Redaction, ...]
    source_spans: tuple[tuple[int, int], ...]

    def as_records(self) -> list[dict[str, object]]:
        """The redactions as plain records for storage (kind and position only)."""
        return [{"kind": r.kind, "start": r.start, "end": r.end} for r in self.redactions]


# ---------------------------------------------------------------------------------------------------------------
# Context keywords. English ones are fenced by "no letter" rather than \b: \b fails next to CJK characters.


def _en(*phrases: str) -> str:
    return r"(?<![a-z])(?:" + "|".join(phrases) + r")(?![a-z])"


_CONTEXT_RES: dict[str, re.Pattern[str]] = {
    kind: re.compile("|".join(parts), re.IGNORECASE)
    for kind, parts in {
        "card": [
            _en(r"card\s*(?:number|num|#)", r"long number", r"numbers? on (?:the|your|my) card", r"ending (?:in|with)"),
            r"卡号|卡的?号码|卡上的?号码|卡面上?的?号码",
        ],
        "cvv": [
            _en(r"security code", r"cv[vc]2?", r"csc", r"(?:on|at) the back"),
            _en(r"back of (?:the|your|my) card", r"(?:three|3)[- ]digit (?:code|number)"),
            r"安全码|验证码|校验码|背面",
        ],
        "expiry": [
            _en(r"expir(?:y|es|ed|e|ation)", r"exp\.? date", r"valid (?:until|thru|through|till|to)"),
            _en(r"good (?:thru|through)"),
            r"有效期|到期|过期",
        ],
        "ssn": [_en(r"social security", r"ssn", r"(?:your|my|the) social"), r"社会安全号"],
        "national_id": [_en(r"id number", r"national id", r"identity (?:card|number)"), r"身份证|证件号|身份号"],
        "phone": [
            _en(r"(?:tele)?phone", r"mobile", r"cell", r"number to (?:call|reach)", r"reach (?:you|me)"),
            _en(r"call (?:you|me) (?:back )?(?:on|at)", r"(?:contact|callback|call-back|call back) number", r"text me"),
            r"电话|手机|联系方式",
        ],
        "account": [
            _en(r"account\s*(?:number|num|#)", r"acct", r"sort code", r"routing", r"iban", r"bank account"),
            r"账号|账户|帐号|帐户",
        ],
        "email": [_en(r"e-?mail"), r"邮箱|邮件"],
    }.items()
}


@dataclass(frozen=True, slots=True)
class _Mention:
    kind: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Turn:
    speaker: str
    mentions: dict[str, int]  # context kind -> offset of its last mention in that utterance


def _find_mentions(text: str) -> list[_Mention]:
    return [_Mention(kind, m.start(), m.end()) for kind, rx in _CONTEXT_RES.items() for m in rx.finditer(text)]


_PER_TURN = 10**7  # a keyword in an earlier utterance ranks behind every keyword in this one


def _rank(here: Sequence[_Mention], turns: Sequence[_Turn], start: int, end: int) -> list[str]:
    """Context kinds in force for the span [start, end), nearest first."""
    best: dict[str, int] = {}

    def keep(kind: str, distance: int) -> None:
        best[kind] = min(distance, best.get(kind, distance))

    for age, turn in enumerate(reversed(turns), start=1):
        for kind, offset in turn.mentions.items():
            keep(kind, age * _PER_TURN - offset)
    for m in here:
        keep(m.kind, start - m.end if m.end <= start else 2 * (m.start - end) + 1)  # "123 on the back" is nearer
    return sorted(best, key=best.__getitem__)


# ---------------------------------------------------------------------------------------------------------------
# Patterns with a written shape. Fences are ASCII classes (not \w) so that CJK text may touch them.

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

_Hit = tuple[int, int, str]  # start, end, kind (in the original text)


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


def _iban_ok(text: str) -> bool:
    s = text.replace(" ", "")
    if not 15 <= len(s) <= 34:
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def _pattern_hits(text: str, context: set[str]) -> list[_Hit]:
    hits = [(m.start(), m.end(), "email") for m in _EMAIL_RE.finditer(text)]
    hits += [
        (m.start(), m.end(), "email")
        for m in _SPOKEN_EMAIL_RE.finditer(text)
        if _spoken_email_ok(m, "email" in context)
    ]
    hits += [(m.start(), m.end(), "account") for m in _IBAN_RE.finditer(text) if _iban_ok(m.group())]
    hits += [(m.start(), m.end(), "ssn") for m in _SSN_RE.finditer(text)]
    hits += [(m.start(), m.end(), "phone") for rx in (_E164_RE, _US_PHONE_RE) for m in rx.finditer(text)]
    if "expiry" in context:  # 04/27 is also the 27th of April
        hits += [(m.start(), m.end(), "expiry") for rx in (_SLASH_EXPIRY_RE, _ZH_EXPIRY_RE) for m in rx.finditer(text)]
    return _non_overlapping(hits)


def _non_overlapping(hits: Iterable[_Hit]) -> list[_Hit]:
    """Earliest first, the longer of two that start together; later overlapping hits are dropped."""
    kept: list[_Hit] = []
    for hit in sorted(hits, key=lambda h: (h[0], h[0] - h[1])):
        if not kept or hit[0] >= kept[-1][1]:
            kept.append(hit)
    return kept


# ---------------------------------------------------------------------------------------------------------------
# Tokens and digit items.

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3007\u25cb"  # with 〇 and ○, both written for zero
_TOKEN_RE = re.compile(
    r"(?P<alnum>(?:[A-Za-z]+\d|\d+[A-Za-z])[A-Za-z\d]*)"  # 3rd, A12, 4G: not numbers (but see the ID's X)
    r"|(?P<num>\d+)"
    r"|(?P<word>[A-Za-z]+(?:'[A-Za-z]+)*)"
    rf"|(?P<cjk>[{_CJK}])"
    r"|(?P<other>\S)"
)
_ID_WITH_X_RE = re.compile(r"\d+[Xx]")


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # num, alnum, word, cjk, other, claimed
    text: str
    start: int
    end: int


def _tokenise(text: str, claimed: Sequence[_Hit]) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    for start, end, _ in [*claimed, (len(text), len(text), "")]:
        for m in _TOKEN_RE.finditer(text, pos, start):
            kind = m.lastgroup or "other"
            if kind == "alnum" and _ID_WITH_X_RE.fullmatch(m.group()):
                kind = "num"  # a resident ID ending in its check character X
            tokens.append(_Token(kind, m.group(), m.start(), m.end()))
        if end > start:
            tokens.append(_Token("claimed", "", start, end))
        pos = end
    return tokens


_UNITS = {"zero": 0, "oh": 0, "o": 0, "nought": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
_UNITS |= {"six": 6, "seven": 7, "eight": 8, "nine": 9}
_TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16}
_TEENS |= {"seventeen": 17, "eighteen": 18, "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_REPEATS = {"double": 2, "triple": 3}
_ZH_DIGITS = {"零": "0", "〇": "0", "○": "0", "幺": "1", "一": "1", "两": "2", "二": "2", "三": "3", "四": "4"}
_ZH_DIGITS |= {"五": "5", "六": "6", "七": "7", "八": "8", "九": "9"}
_MONTHS = {
    name: n
    for n, names in enumerate(
        [
            "january jan",
            "february feb",
            "march mar",
            "april apr",
            "may",
            "june jun",
            "july jul",
            "august aug",
            "september sept sep",
            "october oct",
            "november nov",
            "december dec",
        ],
        start=1,
    )
    for name in names.split()
}
_SEPARATORS = frozenset("-–—‐,.，、。．") | {"dash", "hyphen", "slash"}
_PLUS = frozenset({"+", "plus"})
_X = frozenset({"x", "叉"})  # the resident ID's check character, written or said
# Amounts, counts and durations are not identifiers: a number next to these is left alone.
_CURRENCY = frozenset("$£€¥￥")
_MONEY_AFTER = {"dollars", "dollar", "bucks", "pounds", "pound", "quid", "euros", "euro", "cents", "cent", "pence"}
_TIME_AFTER = {"years", "year", "yrs", "months", "month", "weeks", "week", "days", "day", "hours", "hour", "hrs"}
_TIME_AFTER |= {"minutes", "minute", "mins", "seconds", "secs", "times", "am", "pm"}
_COUNT_AFTER = {"percent", "%", "kg", "km", "miles", "lbs", "people", "items"}
_ZH_AFTER = set("元块角毛分岁年月日号天个次点万千百十亿周秒小钟")  # 25元, 3号 (a date), 十 (in 二十五)
_UNIT_AFTER = frozenset(_MONEY_AFTER | _TIME_AFTER | _COUNT_AFTER | _ZH_AFTER)
_YEAR_BEFORE = frozenset({"since", "in", "from", "until", "till", "before", "after"})


@dataclass(slots=True)
class _Item:
    kind: str  # num, month, sep, plus, stop
    start: int
    end: int
    text: str  # lower-cased token text
    digits: str = ""  # num: the digits read ("X" for a check character); month: "01".."12"
    source: str = ""  # num: "numeral", "word" (English number words) or "cjk" (Chinese digit characters)
    excluded: bool = False  # an amount, count, duration or year


def _lower_word(tokens: Sequence[_Token], j: int) -> str | None:
    return tokens[j].text.lower() if j < len(tokens) and tokens[j].kind == "word" else None


def _read_below_100(tokens: Sequence[_Token], j: int) -> tuple[int, int] | None:
    """'seven', 'seventeen', 'seventy', 'seventy-seven' -> (value, next token)."""
    w = _lower_word(tokens, j)
    if w in _TEENS:
        return _TEENS[w], j + 1
    if w in _TENS:
        k = j + 1
        if k < len(tokens) and tokens[k].text == "-" and tokens[k].start == tokens[j].end:  # twenty-seven
            k += 1
        unit = _lower_word(tokens, k)
        if unit in _UNITS and _UNITS[unit] and unit not in ("o", "oh"):
            return _TENS[w] + _UNITS[unit], k + 1
        return _TENS[w], j + 1
    if w is not None and _UNITS.get(w):
        return _UNITS[w], j + 1
    return None


def _read_scaled(tokens: Sequence[_Token], i: int) -> tuple[str, int]:
    """'four hundred and twelve', 'two thousand twenty seven' (card readers seldom say these; years do)."""
    scale = 100 if _lower_word(tokens, i + 1) == "hundred" else 1000
    value, j = _UNITS[_lower_word(tokens, i) or ""] * scale, i + 2
    w = _lower_word(tokens, j)
    if scale == 1000 and w in _UNITS and _UNITS[w] and _lower_word(tokens, j + 1) == "hundred":
        value, j = value + _UNITS[w] * 100, j + 2
    if _lower_word(tokens, j) == "and" and _read_below_100(tokens, j + 1):
        j += 1
    rest = _read_below_100(tokens, j)
    if rest:
        value, j = value + rest[0], rest[1]
    return str(value), j


def _read_number_words(tokens: Sequence[_Token], i: int) -> tuple[str, int] | None:
    """English number words at token i -> (digits, next token), or None."""
    w = _lower_word(tokens, i)
    if w in _REPEATS:  # double four, triple 1
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        digit = _lower_word(tokens, i + 1)
        if digit in _UNITS:
            return str(_UNITS[digit]) * _REPEATS[w], i + 2
        if nxt is not None and nxt.kind == "num" and len(nxt.text) == 1:
            return _to_ascii(nxt.text) * _REPEATS[w], i + 2
        return None
    if w in _UNITS:
        if _UNITS[w] and _lower_word(tokens, i + 1) in ("hundred", "thousand"):
            return _read_scaled(tokens, i)
        return str(_UNITS[w]), i + 1
    below = _read_below_100(tokens, i)
    return (str(below[0]), below[1]) if below else None


def _to_ascii(digits: str) -> str:
    """Any script's decimal digits (full-width too) as ASCII."""
    return "".join(str(int(ch)) if ch.isdecimal() else ch.upper() for ch in digits)


def _read_items(tokens: Sequence[_Token]) -> list[_Item]:
    items: list[_Item] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        low = tok.text.lower()
        parsed = _read_number_words(tokens, i) if tok.kind == "word" else None
        if parsed:
            digits, j = parsed
            items.append(_Item("num", tok.start, tokens[j - 1].end, low, digits, "word"))
            i = j
            continue
        if tok.kind == "num":
            items.append(_Item("num", tok.start, tok.end, low, _to_ascii(tok.text), "numeral"))
        elif tok.kind == "cjk" and tok.text in _ZH_DIGITS:
            items.append(_Item("num", tok.start, tok.end, low, _ZH_DIGITS[tok.text], "cjk"))
        elif low in _X and tok.kind in ("word", "cjk"):
            items.append(_Item("num", tok.start, tok.end, low, "X", tok.kind))
        elif tok.kind == "word" and low in _MONTHS and tok.text != "may":  # "may" the verb; Whisper writes "May"
            items.append(_Item("month", tok.start, tok.end, low, f"{_MONTHS[low]:02d}"))
        elif low in _SEPARATORS:
            items.append(_Item("sep", tok.start, tok.end, low))
        elif low in _PLUS:
            items.append(_Item("plus", tok.start, tok.end, low))
        else:
            items.append(_Item("stop", tok.start, tok.end, low))
        i += 1
    _mark_amounts(items)
    return items


def _mark_amounts(items: list[_Item]) -> None:
    """Exclude amounts, counts, durations, dates, years and times ("$4,111.50", "12 years", "since 2015")."""
    i = 0
    while i < len(items):
        if items[i].kind != "num":
            i += 1
            continue
        j = i + 1
        while j < len(items) and _one_number(items[j - 1], items[j]):
            j += 1
        while items[j - 1].kind == "sep":
            j -= 1
        before = items[i - 1].text if i else ""
        after = items[j].text if j < len(items) else ""
        digits = "".join(it.digits for it in items[i:j])
        ending_in = i > 1 and items[i - 2].text in ("ending", "ends")  # the card ending in 2019
        is_year = before in _YEAR_BEFORE and not ending_in and len(digits) == 4 and digits[:2] in ("19", "20")
        written = "".join(it.text for it in items[i:j])
        is_date = _DATE_RE.fullmatch(written) is not None
        is_decimal = _DECIMAL_RE.fullmatch(written) is not None  # 49.99, 2.5
        is_time = before in ("at", "around") and items[i].source == "word" and len(digits) <= 4  # at ten thirty
        if before in _CURRENCY or after in _UNIT_AFTER or is_year or is_date or is_decimal or is_time:
            for it in items[i:j]:
                it.excluded = True
        i = j


def _one_number(a: _Item, b: _Item) -> bool:
    """Read as one number: tight (4,111.50, 2024-05-03, 四千五) or number words in a row (twenty twenty four)."""
    tight = b.start == a.end and b.kind in ("num", "sep")
    return tight or a.source == b.source == "word"


_DAY, _MONTH, _YEAR = r"(?:0?[1-9]|[12][0-9]|3[01])", r"(?:0?[1-9]|1[0-2])", r"(?:19|20)[0-9]{2}"
_DATE_RE = re.compile(rf"{_YEAR}([-.]){_MONTH}\1{_DAY}|{_DAY}([-.]){_DAY}\2{_YEAR}")
_DECIMAL_RE = re.compile(r"[0-9]{1,6}\.[0-9]{1,2}")


@dataclass(slots=True)
class _Run:
    items: list[_Item]  # num and month items only
    plus: bool = False  # said or written after "+": an international number
    edges: set[int] = field(default_factory=set)  # k: a group edge sits between items k-1 and k


def _is_edge(prev: _Item, it: _Item, sep: str) -> bool:
    """Where a reader visibly grouped the digits: punctuation, a written number's own ends, a pause in Chinese.

    Spoken English digits are only spaced words, so "four one one ... two" has no edges inside, and a card (or
    ID, or mobile) is not looked for in a part of it: some 13-15 digit part of any long run passes Luhn.
    """
    if sep:
        return True
    if "numeral" in (prev.source, it.source):
        return True
    return prev.source == it.source == "cjk" and it.start > prev.end


def _digit_count(items: Iterable[_Item]) -> int:
    return sum(len(it.digits) for it in items if it.kind == "num")


def _runs(items: Sequence[_Item]) -> list[_Run]:
    """Maximal runs of digit items; spaces, dashes, commas and periods may sit between them."""
    runs: list[_Run] = []
    cur = _Run([])
    sep = ""  # the separator since the last digit item ("" for plain space)
    for it in items:
        if it.kind == "num" and it.digits == "X":
            if _digit_count(cur.items) == 17 and cur.items[0].kind == "num":
                cur.items.append(it)
            runs.append(cur)
            cur, sep = _Run([]), ""
        elif it.kind == "num":
            if len(cur.items) == 1 and cur.items[0].text in ("oh", "o") and sep:  # "Oh, 1234": not a zero
                cur.items.clear()
            if cur.items and _is_edge(cur.items[-1], it, sep):
                cur.edges.add(len(cur.items))
            cur.items.append(it)
            sep = ""
        elif it.kind == "month":
            runs.append(cur)
            cur, sep = _Run([it]), ""
        elif it.kind == "sep" and cur.items:
            sep = it.text
        elif it.kind == "stop" and it.text == "of" and len(cur.items) == 1 and cur.items[0].kind == "month":
            continue  # April of 2027
        else:
            runs.append(cur)
            cur, sep = _Run([], plus=it.kind == "plus"), ""
    runs.append(cur)
    return [run for run in runs if run.items]


# ---------------------------------------------------------------------------------------------------------------
# Classification of a run's segments.

_MAX_SEGMENT_ITEMS = 20  # a month and 19 digits, or 18 ID characters: nothing sensitive is longer
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _resident_id_ok(chars: str) -> bool:
    """Chinese resident ID: 17 digits, a plausible birth date, and the ISO 7064 MOD 11-2 check character."""
    if len(chars) != 18 or not chars[:17].isdigit() or chars[0] == "0":
        return False
    year, month, day = int(chars[6:10]), int(chars[10:12]), int(chars[12:14])
    if not (1900 <= year <= 2099 and 1 <= month <= 12 and 1 <= day <= 31):
        return False
    check = "10X98765432"[sum(int(d) * w for d, w in zip(chars, _ID_WEIGHTS, strict=False)) % 11]
    return chars[17] == check


def _numeric_expiry(d: str) -> bool:
    """MYY, MMYY, M20YY, MM20YY: 427, 0427, 42027, 042027."""
    if len(d) in (3, 5):
        return d[0] != "0" and (len(d) == 3 or d[1:3] == "20")
    if len(d) in (4, 6):
        return 1 <= int(d[:2]) <= 12 and (len(d) == 4 or d[2:4] == "20")
    return False


# What each context accepts as a bare run of digits.
_CONTEXT_ACCEPTS: dict[str, Callable[[str], bool]] = {
    "card": lambda d: 4 <= len(d) <= 19,  # cards are read in chunks
    "cvv": lambda d: 3 <= len(d) <= 4,
    "expiry": _numeric_expiry,
    "ssn": lambda d: len(d) in (4, 9),  # "the last four of your social"
    "national_id": lambda d: len(d) in (15, 18),
    "phone": lambda d: 7 <= len(d) <= 15,
    "account": lambda d: 6 <= len(d) <= 19,  # 账号 is often a 16-19 digit bank card number
}


def _shape_kind(digits: str, plus: bool) -> str | None:
    """A kind known from the digits alone (a check digit, a numbering plan), no context needed."""
    if _resident_id_ok(digits):
        return "national_id"
    if not digits.isdigit():
        return None
    if 13 <= len(digits) <= 19 and digits[0] != "0" and _luhn_ok(digits):
        return "card"
    if len(digits) == 11 and re.match(r"1[3-9]|0", digits):  # Chinese mobile; UK and Chinese numbers with 0
        return "phone"
    if plus and 8 <= len(digits) <= 15:
        return "phone"
    return None


def _context_kind(digits: str, ranked: Sequence[str]) -> str | None:
    """The nearest context that accepts these digits."""
    if not digits.isdigit():  # a check character X that failed the check: misheard, or said in an ID's context
        return "national_id" if "national_id" in ranked and len(digits) == 18 else None
    return next((kind for kind in ranked if kind in _CONTEXT_ACCEPTS and _CONTEXT_ACCEPTS[kind](digits)), None)


def _run_hits(run: _Run, rank_at: Callable[[int, int], list[str]]) -> list[_Hit]:
    """Cut the run into segments that cover the most digits; then prefer passed check digits, then fewer segments.

    A shape is only looked for in a segment delimited by the run's ends or its edges.
    """
    items = run.items
    n = len(items)
    best: list[tuple[int, int, int]] = [(0, 0, 0)] * (n + 1)  # (digits covered, digits checked, -segments) from i
    pick: list[tuple[int, str] | None] = [None] * (n + 1)
    for i in range(n - 1, -1, -1):
        best[i], pick[i] = best[i + 1], None
        for j in range(i + 1, min(n, i + _MAX_SEGMENT_ITEMS) + 1):
            segment = items[i:j]
            if any(it.excluded for it in segment):
                break
            digits = "".join(it.digits for it in segment if it.kind == "num")
            ranked = rank_at(items[i].start, items[j - 1].end)
            kind, checked = None, False
            if items[i].kind == "month":  # April 2027, April twenty seven
                year = len(digits) == 2 or (len(digits) == 4 and digits.startswith("20"))
                kind = "expiry" if year and "expiry" in ranked else None
            elif items[j - 1].kind == "month":
                break
            elif (i == 0 or i in run.edges) and (j == n or j in run.edges):
                kind = _shape_kind(digits, run.plus and i == 0)
                checked = kind in ("card", "national_id")  # a check digit passed: stronger than any context
            kind = kind or _context_kind(digits, ranked)
            if kind is None:
                continue
            rest = best[j]
            score = (len(digits) + rest[0], len(digits) * checked + rest[1], rest[2] - 1)
            if score > best[i]:
                best[i], pick[i] = score, (j, kind)
    hits: list[_Hit] = []
    i = 0
    while i < n:
        choice = pick[i]
        if choice is None:
            i += 1
            continue
        j, kind = choice
        hits.append((items[i].start, items[j - 1].end, kind))
        i = j
    return hits


# ---------------------------------------------------------------------------------------------------------------
# The public API.

_CONTINUED = frozenset({"card", "account", "phone", "national_id"})  # long numbers read in chunks over utterances


INTERIM_MASK_DIGITS = 4
_OPEN_KIND = "account"  # the placeholder an open digit run shows until the final judges it


def _open_runs(runs: Sequence[_Run], hits: Sequence[_Hit]) -> list[_Hit]:
    """Digit runs of an interim that no rule claimed, long enough to be part of something."""
    found: list[_Hit] = []
    for run in runs:
        items = [it for it in run.items if it.kind == "num"]
        if not items or _digit_count(items) < INTERIM_MASK_DIGITS:
            continue
        start, end = items[0].start, items[-1].end
        if not any(s < end and start < e for s, e, _ in hits):
            found.append((start, end, _OPEN_KIND))
    return found


class Redactor:
    """Which kinds of data are redacted; makes one CallRedactor per call."""

    def __init__(self, kinds: Iterable[str] = REDACTION_KINDS) -> None:
        self.kinds = frozenset(kinds)
        unknown = self.kinds - set(REDACTION_KINDS)
        if unknown:
            raise ValueError(f"unknown redaction kinds: {sorted(unknown)}; known: {list(REDACTION_KINDS)}")

    def new_call(self) -> CallRedactor:
        return CallRedactor(self.kinds)


class CallRedactor:
    """Redacts one call's utterances, remembering context keywords from its last utterances (either speaker)."""

    def __init__(self, kinds: frozenset[str]) -> None:
        self._kinds = kinds
        self._turns: deque[_Turn] = deque(maxlen=_CONTEXT_TURNS)

    def redact(self, speaker: str, text: str, *, language: str = "en") -> Redacted:
        """Redact a final utterance and remember its context for the next ones.

        ``language`` is accepted for symmetry with the transcriber; the rules read both scripts whatever it says,
        because calls switch language and Whisper's tag on a short utterance is often wrong.
        """
        redacted, mentions = self._redact(text)
        self._turns.append(_Turn(speaker, mentions))
        return redacted

    def redact_interim(self, speaker: str, text: str, *, language: str = "en") -> Redacted:
        """Redact an interim (partial) utterance at least as strictly as a final: the same rules,
        and any other run of ``INTERIM_MASK_DIGITS`` or more digits is masked while the utterance
        is open (it may be the start of a card whose keyword was misheard, or whose last digits
        are still to come); the final judges it. The context does not move on."""
        return self._redact(text, strict=True)[0]

    def _redact(self, text: str, *, strict: bool = False) -> tuple[Redacted, dict[str, int]]:
        here = _find_mentions(text)

        def rank_at(start: int, end: int) -> list[str]:
            return _rank(here, self._turns, start, end)

        patterns = _pattern_hits(text, set(rank_at(0, 0)))
        hits = list(patterns)
        runs = _runs(_read_items(_tokenise(text, patterns)))
        for run in runs:
            hits += _run_hits(run, rank_at)
        mentions = {m.kind: m.start for m in sorted(here, key=lambda m: m.start)}
        for start, _, kind in sorted(hits):
            if kind in _CONTINUED:  # the next chunk of this number needs no keyword of its own
                mentions[kind] = max(start, mentions.get(kind, start))
        hits = [h for h in hits if h[2] in self._kinds]
        if strict:
            hits += _open_runs(runs, hits)
        return _build(text, sorted(hits)), mentions


def _build(text: str, hits: Sequence[_Hit]) -> Redacted:
    parts: list[str] = []
    redactions: list[Redaction] = []
    spans: list[tuple[int, int]] = []
    cursor = length = 0
    for start, end, kind in hits:
        parts.append(text[cursor:start])
        length += start - cursor
        placeholder = _PLACEHOLDERS[kind]
        redactions.append(Redaction(kind, length, length + len(placeholder)))
        spans.append((start, end))
        parts.append(placeholder)
        length += len(placeholder)
        cursor = end
    parts.append(text[cursor:])
    return Redacted("".join(parts), tuple(redactions), tuple(spans))


def redact_words(original_text: str, words: Sequence[str], redacted: Redacted) -> list[str]:
    """Redact Whisper's per-word texts to match ``redacted``; the list keeps its length (one entry per timing).

    Words are found in ``original_text`` in order (a word that cannot be found is kept as it is). The first word
    that touches a redacted span carries its placeholder; later words inside the same span become "". Text of a
    word outside the span (a trailing comma, "是" before the digits) is kept.
    """
    pairs = zip(redacted.source_spans, redacted.redactions, strict=True)
    spans = [(s, e, _PLACEHOLDERS[r.kind]) for (s, e), r in pairs]
    placed: set[int] = set()
    out: list[str] = []
    cursor = 0
    for word in words:
        core = word.strip()
        pos = original_text.find(core, cursor) if core else -1
        if pos < 0:
            out.append(word)
            continue
        start, end = pos, pos + len(core)
        cursor = end
        touching = [k for k, (s, e, _) in enumerate(spans) if s < end and e > start]
        if not touching:
            out.append(word)
            continue
        # A word that starts inside a span already shown as its placeholder is a continuation: no space of its own.
        continued = touching[0] in placed and spans[touching[0]][0] < start
        pieces: list[str] = []
        at = start
        for k in touching:
            s, e, placeholder = spans[k]
            pieces.append(original_text[at:s] if s > at else "")
            if k not in placed:
                pieces.append(placeholder)
                placed.add(k)
            at = min(e, end)
        pieces.append(original_text[at:end])
        body = "".join(pieces)
        lead = "" if continued else word[: len(word) - len(word.lstrip())]
        out.append(lead + body if body else "")
    return out
