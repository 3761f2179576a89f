"""Chinese numbers as digits where the knowledge base, redaction and QA need them: amounts
(一百二十元 → 120元), phone and card numbers read digit by digit (一三八…, 幺 for 1), dates
(二零二五年十二月三号 → 2025年12月3号), percentages (百分之二十 → 20%) and decimals (三点五G).

Whisper writes most numbers as digits already; these are the ones it spells out. A numeral in
ordinary words stays as it is: 一下, 一直, 统一, 第一次, 十分满意 and 一点都没有 are not numbers,
and neither are approximations (三四天, 一两个). The rule: a run with a magnitude (十百千万亿)
or of three or more digits is a number; a single numeral is a number only before a unit of
money, date, time or data. Conversion of a span is cn2an's. Pure functions.
"""

from __future__ import annotations

import logging
import re
import warnings

import cn2an

_DIGITS = "零〇一二两三四五六七八九幺"
_MAGNITUDES = "十百千万亿"
_DIGIT_VALUE = {c: str(i) for i, c in enumerate("零一二三四五六七八九")} | {"〇": "0", "幺": "1", "两": "2"}
# A run starts with a digit or 十 (万一 and 千万 are words, not numbers); 点 is a decimal point
# only between numerals.
_RUN = rf"[{_DIGITS}十][{_DIGITS}{_MAGNITUDES}]*(?:点[{_DIGITS}]+)?"
_UNITS = (
    "元|块|毛|角|美元|欧元|英镑|日元|港币|人民币|号|日|年|月份|月|点钟|点半|分钟|小时|天|周|"
    "G|GB|M|MB|兆|%|岁|折|期|位|台"
)
_NUMBER_RE = re.compile(rf"(百分之)?({_RUN})")
_UNIT_RE = re.compile(rf"(?:{_UNITS})(?!儿)")  # 一块儿 is "together", not one yuan
_NOT_A_NUMBER = ("一一", "一二", "一两", "两三", "三三两两")  # "one by one", "a few"


def _convert_run(run: str) -> str | None:
    """A numeral run as digits; None when cn2an cannot read it."""
    if any(c in _MAGNITUDES for c in run) or "点" in run:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                value = cn2an.cn2an(run.replace("幺", "一").replace("〇", "零"), "smart")
        except (ValueError, KeyError, TypeError):
            return None
        number = str(value)
        return number[:-2] if number.endswith(".0") else number
    return "".join(_DIGIT_VALUE[c] for c in run)


def _replace(match: re.Match[str]) -> str:
    percent, run = match.group(1), match.group(2)
    if run in _NOT_A_NUMBER:
        return match.group(0)
    # One numeral (十 included: 十分满意 is "very satisfied") is a number only before a unit.
    is_number = len(run) >= 3 or (len(run) == 2 and (any(c in _MAGNITUDES for c in run) or "点" in run))
    unit = _UNIT_RE.match(match.string, match.end())
    if len(run) == 2 and not is_number and unit is not None and unit.group(0) != "折":
        return match.group(0)  # 三四天: an approximation (七五折 is a discount, 75 %)
    if not is_number and not percent and unit is None:
        return match.group(0)  # 一下, 第一次: words, not numbers
    digits = _convert_run(run)
    if digits is None:
        return match.group(0)
    return f"{digits}%" if percent else digits


def numbers_as_digits(text: str) -> str:
    """``text`` with its Chinese numbers written as digits (see the module docstring)."""
    if not text or not any(c in _DIGITS or c in _MAGNITUDES for c in text):
        return text
    return _NUMBER_RE.sub(_replace, text)


logging.getLogger("cn2an").setLevel(logging.ERROR)  # it logs every span it cannot read
