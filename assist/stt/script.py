"""Chinese in the script the call asks for: Whisper writes Mandarin in either script (it
wrote 換一首歌 for 换一首歌), so every zh transcript is converted with OpenCC: simplified for zh,
zh-CN, zh-SG and zh-Hans; traditional with Taiwan's phrasing for zh-TW and zh-Hant; Hong Kong's
for zh-HK and zh-MO. ASCII punctuation between Chinese characters becomes the full-width kind
agents and QA expect. Pure functions (the converters are loaded once, on first use)."""

from __future__ import annotations

import re
from functools import lru_cache

import opencc

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_FULL_WIDTH = {",": "，", "?": "？", "!": "！", ":": "：", ";": "；", ".": "。"}
# A mark right after a Chinese character (and not inside a number such as 3.5).
_MARK_RE = re.compile(rf"(?<=[{_CJK}])\s*([,?!:;]|\.(?!\d))\s*")
# OpenCC turns 帳 into 帐, and Whisper writes either; mainland usage (and every knowledge base,
# redaction rule and QA phrase) writes money matters with 账: 账单, 账户, 账号.
_ACCOUNT_RE = re.compile(r"帐(?=[单户号目期务本])")
# Whisper writes Chinese as UTF-8 bytes, a token or two per character; now and then it gets the
# last byte of a full-width comma wrong (Ｇ for ，) or stops inside a character (U+FFFD).
_BYTE_SLIP_RE = re.compile(rf"(?<=[{_CJK}])[\uff21-\uff3a\uff41-\uff5a]")


def script_for(language: str | None) -> str | None:
    """The OpenCC conversion for a call's language tag; None: not Chinese."""
    code = (language or "").lower().replace("_", "-")
    if code != "zh" and not code.startswith("zh-"):
        return None
    if code in ("zh-tw", "zh-hant", "zh-hant-tw"):
        return "s2twp"
    if code in ("zh-hk", "zh-mo", "zh-hant-hk", "zh-hant-mo"):
        return "s2hk"
    return "t2s"


@lru_cache(maxsize=4)
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(f"{config}.json")


def to_script(text: str, config: str | None) -> str:
    """``text`` in the script ``config`` names, with Chinese punctuation; unchanged when None."""
    if config is None or not text:
        return text
    converted = _BYTE_SLIP_RE.sub("，", str(_converter(config).convert(text).replace("\ufffd", "")))
    if config == "t2s":
        converted = _ACCOUNT_RE.sub("账", converted)
    return _MARK_RE.sub(lambda m: _FULL_WIDTH[m.group(1)], converted)
