"""Text for phrase matching: normalisation, Chinese detection, phrases and phrase sets per language.

Phrase matching ignores case, punctuation and apostrophes ("I've" reads as "I have"); English
phrases match whole words, Chinese phrases match as substrings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from assist.knowledge.index import fuzzy_pinyin

_QUOTES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'"})
_CONTRACTIONS = (
    (re.compile(r"\bcan't\b"), "cannot"),
    (re.compile(r"\bwon't\b"), "will not"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"'ve\b"), " have"),
    (re.compile(r"'ll\b"), " will"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"'m\b"), " am"),
    (re.compile(r"'d\b"), " would"),
)
_PLACEHOLDER = re.compile(r"\[([^\[\]]{1,40})\]")  # redacted text: "[card]" reads as "card"
_NON_WORD = re.compile(r"[^\w]+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
MIN_SOUND_CHARS = 3  # shorter Chinese phrases match by their characters only: too many homophones


def normalize(text: str) -> str:
    """Lower case, contractions expanded, apostrophes and punctuation dropped, single spaces."""
    text = _PLACEHOLDER.sub(r" \1 ", text.translate(_QUOTES).lower())
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    return " ".join(_NON_WORD.sub(" ", text.replace("'", "")).split())


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def cjk_characters(text: str) -> str:
    """The Chinese characters of the text, in order, nothing else."""
    return "".join(_CJK.findall(text))


@dataclass(frozen=True, slots=True)
class Normalized:
    """An utterance ready for matching: words (English) and without spaces (Chinese)."""

    words: str
    compact: str
    sounds: str = ""  # Chinese: one fuzzy pinyin syllable per character, space-separated

    @classmethod
    def of(cls, text: str) -> Normalized:
        words = normalize(text)
        compact = words.replace(" ", "")
        return cls(words, compact, f" {fuzzy_pinyin(compact)} " if has_cjk(compact) else "")


@dataclass(frozen=True, slots=True)
class Phrase:
    text: str
    pattern: re.Pattern[str]
    cjk: bool
    sounds: str = ""  # Chinese phrases of 3+ characters: " gan xie lin de lai dian ", matched when misheard

    @classmethod
    def of(cls, text: str) -> Phrase:
        words = normalize(text)
        if not words:
            raise ValueError(f"phrase {text!r} has no words")
        if has_cjk(words):
            compact = words.replace(" ", "")
            sounds = f" {fuzzy_pinyin(compact)} " if len(cjk_characters(compact)) >= MIN_SOUND_CHARS else ""
            return cls(text, re.compile(re.escape(compact)), True, sounds)
        return cls(text, re.compile(rf"(?<!\w){re.escape(words)}(?!\w)"), False)

    def search(self, text: Normalized) -> int | None:
        found = self.pattern.search(text.compact if self.cjk else text.words)
        if found:
            return found.start()
        # A recogniser writes homophones (感谢您的来店 for 来电): the phrase's sound still matches.
        at = text.sounds.find(self.sounds) if self.sounds and text.sounds else -1
        return text.sounds.count(" ", 0, at) if at >= 0 else None


def language_key(language: str | None) -> str:
    """'zh-CN' → 'zh'; empty → 'en'."""
    return re.split(r"[-_]", (language or "en").strip().lower())[0] or "en"


@dataclass(frozen=True)
class PhraseSet:
    """Phrases per language; a language without its own list uses the English one."""

    by_language: Mapping[str, tuple[Phrase, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, table: Mapping[str, Sequence[str]]) -> PhraseSet:
        return cls({language_key(lang): tuple(Phrase.of(p) for p in phrases) for lang, phrases in table.items()})

    def __bool__(self) -> bool:
        return any(self.by_language.values())

    def for_language(self, language: str) -> tuple[Phrase, ...]:
        key = language_key(language)
        return self.by_language.get(key) or self.by_language.get("en") or ()

    def search(self, text: Normalized, language: str) -> tuple[int, str] | None:
        """The earliest match in the text: (position, the phrase as written)."""
        best: tuple[int, str] | None = None
        for phrase in self.for_language(language):
            position = phrase.search(text)
            if position is not None and (best is None or position < best[0]):
                best = (position, phrase.text)
        return best


@dataclass(frozen=True)
class PatternTable:
    """Regular expressions per language, matched on normalised text: English on its words
    ("I've" reads "i have"), Chinese on its characters without punctuation. A language without
    its own list uses the English one."""

    by_language: Mapping[str, tuple[re.Pattern[str], ...]]

    @classmethod
    def of(cls, table: Mapping[str, Sequence[str]]) -> PatternTable:
        return cls({language_key(lang): tuple(re.compile(p) for p in patterns) for lang, patterns in table.items()})

    def matches(self, text: Normalized, language: str) -> bool:
        key = language_key(language)
        spoken = text.compact if key == "zh" else text.words
        return any(p.search(spoken) for p in self.by_language.get(key) or self.by_language.get("en") or ())


def word_count(text: str) -> int:
    """Words, with two Chinese characters counting as one word."""
    return len(_CJK.sub(" ", text).split()) + len(_CJK.findall(text)) // 2
