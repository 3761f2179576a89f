"""Guards on decoder output: repetition loops, implausible length, non-speech. Pure functions."""

from __future__ import annotations

import re
import zlib

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# A CJK character is a word of its own (no spaces between words); elsewhere words are runs.
_WORD_RE = re.compile(rf"[{_CJK}]|(?:(?![{_CJK}])[\w'])+")
_CJK_RE = re.compile(rf"[{_CJK}]")
_SENTENCE_END_RE = re.compile(r"[\"')\]]*[.?!]")

# Whisper's rule for non-speech (openai/whisper: no_speech_prob > 0.6 and avg_logprob < -1),
# a little stricter on the log-probability: the VAD already let this audio through, so what
# remains is mostly noise bursts on which tiny.en says "you" at about -0.9.
NO_SPEECH_PROB = 0.6
NO_SPEECH_LOGPROB = -0.8
CERTAIN_NO_SPEECH_PROB = 0.9
# Anomalies that send an utterance back to the decoder with the full 30 s window.
MAX_COMPRESSION_RATIO = 2.0
MIN_AVG_LOGPROB = -0.9
MAX_TOKENS_PER_S = 9.0
TOKEN_ALLOWANCE = 6
MAX_WORDS_PER_S = 5.5  # fast conversational speech peaks near 4.5 words/s
WORD_ALLOWANCE = 2
MIN_PHRASE_WORDS = 4  # a phrase this long said twice in a row is a decoding artefact


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD_RE.findall(text)]


def normalized_words(text: str) -> list[str]:
    """The words of a text without case or punctuation: what two decodes must share to agree."""
    return _words(text)


def repeated_phrases(text: str, *, min_words: int = MIN_PHRASE_WORDS) -> list[list[str]]:
    """Every phrase of at least ``min_words`` words that is immediately said again (normalised words)."""
    words = _words(text)
    found = []
    for n in range(min_words, len(words) // 2 + 1):
        for i in range(len(words) - 2 * n + 1):
            if words[i : i + n] == words[i + n : i + 2 * n]:
                found.append(words[i : i + n])
    return found


def has_repeated_phrase(text: str, *, min_words: int = MIN_PHRASE_WORDS) -> bool:
    """True if a phrase of at least ``min_words`` words is immediately said again."""
    return bool(repeated_phrases(text, min_words=min_words))


def occurrences(phrase: list[str], text: str) -> int:
    """How often the phrase's words (normalised) occur in the text."""
    words, n = _words(text), len(phrase)
    return sum(1 for i in range(len(words) - n + 1) if words[i : i + n] == phrase)


def collapse_repetitions(text: str) -> str:
    """Keep one copy of a repeated phrase (>= MIN_PHRASE_WORDS words, or any loop of 3+)."""
    spaced = " " in text.strip()
    tokens = text.split() if spaced else list(text)
    keys = [_words(t) for t in tokens]
    changed = True
    while changed:
        changed = False
        for n in range(len(tokens) // 2, 0, -1):
            for i in range(len(tokens) - 2 * n + 1):
                first, second = keys[i : i + n], keys[i + n : i + 2 * n]
                if not any(first) or first != second:
                    continue
                third = keys[i + 2 * n : i + 3 * n]
                if n >= MIN_PHRASE_WORDS or third == first:
                    del tokens[i + n : i + 2 * n]
                    del keys[i + n : i + 2 * n]
                    changed = True
                    break
            if changed:
                break
    return (" " if spaced else "").join(tokens)


def compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / max(1, len(zlib.compress(data)))


def has_repetition_loop(text: str, *, max_repeats: int = 3, max_ngram: int = 4) -> bool:
    """True if some 1..max_ngram-word sequence repeats back to back max_repeats times or more."""
    words = _words(text)
    for n in range(1, max_ngram + 1):
        run = 1
        for i in range(n, len(words) - n + 1, n):
            if words[i : i + n] == words[i - n : i]:
                run += 1
                if run >= max_repeats:
                    return True
            else:
                run = 1
    # Stepping by n misses loops that start off the grid; check the offset grids as well.
    for n in range(2, max_ngram + 1):
        for offset in range(1, n):
            sub = words[offset:]
            run = 1
            for i in range(n, len(sub) - n + 1, n):
                if sub[i : i + n] == sub[i - n : i]:
                    run += 1
                    if run >= max_repeats:
                        return True
                else:
                    run = 1
    return False


def is_anomalous(text: str, n_tokens: int, audio_s: float, avg_logprob: float) -> str | None:
    """Why a decode should be retried with the full window, or None if it looks sound."""
    if has_repetition_loop(text) or has_repeated_phrase(text):
        return "repetition"
    if n_tokens > MAX_TOKENS_PER_S * audio_s + TOKEN_ALLOWANCE:
        return "too_many_tokens"
    if len(_words(text)) > MAX_WORDS_PER_S * audio_s + WORD_ALLOWANCE:
        return "too_many_words"
    if len(text) > 24 and compression_ratio(text) > MAX_COMPRESSION_RATIO:
        return "compression_ratio"
    if avg_logprob < MIN_AVG_LOGPROB:
        return "low_logprob"
    return None


def is_non_speech(text: str, no_speech_prob: float, avg_logprob: float) -> bool:
    if not any(ch.isalnum() for ch in text):
        return True
    if no_speech_prob > CERTAIN_NO_SPEECH_PROB:
        return True
    return no_speech_prob > NO_SPEECH_PROB and avg_logprob < NO_SPEECH_LOGPROB


def max_new_tokens(audio_s: float) -> int:
    """A ceiling on decoder steps: loops cannot run away past what speech this long can hold."""
    return int(TOKEN_ALLOWANCE + MAX_TOKENS_PER_S * audio_s) + 4


# -- timestamped output ------------------------------------------------------------------------
#
# On an encoder window fitted to the utterance (a few seconds instead of Whisper's 30), tiny.en
# transcribes the speech correctly and then, instead of ending, starts the utterance again
# ("My name is Elizabeth. My name is"): the window's end does not look like the end of audio it
# was trained on. Decoding with timestamps gives each segment a start; what starts after the
# speech ended, or restarts what was already said, is the decoder talking past the audio
# (measured in docs/stt.md: WER 19.6 % -> 8.9 % on a 3 s minimum window).


def restart_index(words: list[str], sentence_ends: frozenset[int] = frozenset()) -> int | None:
    """Where the text starts again from its own beginning ("a b c a b"), if it does.

    The tail from the returned index is a prefix of the whole: at least two words, or one word
    right after a one- or two-word start ("yes yes") or after the end of a sentence ("I lost my
    card. I"; ``sentence_ends`` holds the indices of words that end one)."""
    n = len(words)
    for k in range(1, n):
        tail = words[k:]
        if tail == words[: len(tail)] and (len(tail) >= 2 or k <= 2 or k - 1 in sentence_ends):
            return k
    return None


def cut_restart(text: str) -> str:
    """The text up to where it starts over (see ``restart_index``)."""
    if _CJK_RE.search(text):
        return text  # "谢谢" and "好的好的" are words of their own, never a restart
    matches = list(_WORD_RE.finditer(text))
    ends = frozenset(i for i, m in enumerate(matches) if i + 1 < len(matches) and _SENTENCE_END_RE.match(text, m.end()))
    index = restart_index([m.group(0).lower() for m in matches], ends)
    if index is None:
        return text
    return text[: matches[index].start()].rstrip(" ,;:")


def keep_segments(segments: list[tuple[float, str]], speech_s: float) -> list[tuple[int, str]]:
    """Segments (start_s, text) the audio can hold, as (index, text): none starting after
    ``speech_s``, none that repeats what the utterance said before; each cut where it starts
    over by itself."""
    kept: list[str] = []
    indices: list[int] = []
    said: list[str] = []
    for index, (start_s, raw) in enumerate(segments):
        text = cut_restart(raw.strip())
        words = _words(text)
        if not words:
            continue
        if kept and start_s >= speech_s:
            break
        previous = _words(kept[-1]) if kept else []
        if said and (words == said[: len(words)] or words == previous[: len(words)]):
            break
        kept.append(text)
        indices.append(index)
        said += words
    return list(zip(indices, kept, strict=True))
