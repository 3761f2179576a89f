"""Decoder-output guards: repetition loops, anomalies, non-speech, token ceilings."""

from __future__ import annotations

import pytest

from assist.stt.text import (
    MAX_TOKENS_PER_S,
    TOKEN_ALLOWANCE,
    collapse_repetitions,
    compression_ratio,
    has_repeated_phrase,
    has_repetition_loop,
    is_anomalous,
    is_non_speech,
    max_new_tokens,
)

NORMAL = "I'd like to check the balance on my savings account please."


@pytest.mark.parametrize(
    "text",
    [
        "savings savings savings savings",
        "ask not ask not ask not",
        "Ask not, ask NOT; ask not!",  # case and punctuation do not hide a loop
        "a b c d c d c d",
        "one a b a b a b",  # off the 2-word grid: only the offset pass sees it
        "so then x y z x y z x y z",  # 3-gram starting off grid
        "w x y z w x y z w x y z",  # 4-gram
        "please hold hold hold",
        "thank you thank you thank you",
        "谢谢，谢谢，谢谢",  # CJK separated by punctuation
    ],
)
def test_repetition_loops_are_caught(text):
    assert has_repetition_loop(text)


@pytest.mark.parametrize(
    "text",
    [
        "no no I said the card",
        "thank you thank you",
        NORMAL,
        "the card, the card number, the card holder",
        "a b c d e a b c d e a b c d e",  # a 5-word cycle is beyond max_ngram
        "",
    ],
)
def test_normal_text_is_not_a_loop(text):
    assert not has_repetition_loop(text)


def test_unspaced_cjk_loop_is_caught():
    assert has_repetition_loop("谢谢谢谢谢谢")


@pytest.mark.parametrize("text", ["...", "???", "- - -"])
def test_punctuation_is_not_a_repetition_loop(text):
    assert not has_repetition_loop(text)
    assert is_anomalous(text, 2, 1.0, -0.3) is None


def test_repetition_thresholds_are_parameters():
    assert has_repetition_loop("thank you thank you", max_repeats=2)
    assert not has_repetition_loop("ask not ask not ask not", max_ngram=1)


def test_is_anomalous_reasons():
    assert is_anomalous(NORMAL, n_tokens=14, audio_s=3.0, avg_logprob=-0.3) is None
    assert is_anomalous("savings savings savings savings", 6, 3.0, -0.3) == "repetition"
    # Repetition wins over the other checks.
    assert is_anomalous("savings savings savings savings", 500, 1.0, -3.0) == "repetition"
    limit = MAX_TOKENS_PER_S * 1.0 + TOKEN_ALLOWANCE
    assert is_anomalous("hello there", int(limit), 1.0, -0.3) is None
    assert is_anomalous("hello there", int(limit) + 1, 1.0, -0.3) == "too_many_tokens"
    # A phrase said twice in a row is caught as repetition ...
    assert is_anomalous("alpha beta gamma delta epsilon " * 4, 20, 5.0, -0.3) == "repetition"
    # ... while text that is merely compressible is caught by the compression ratio.
    cycle = " ".join(f"alpha beta gamma delta epsilon {w}" for w in ("one", "two", "three", "four", "five", "six"))
    assert not has_repetition_loop(cycle)
    assert compression_ratio(cycle) > 2.0
    assert is_anomalous(cycle, 40, 10.0, -0.3) == "compression_ratio"
    assert is_anomalous(NORMAL, 14, 3.0, -1.2) == "low_logprob"
    assert is_anomalous(NORMAL, 14, 3.0, -0.89) is None


def test_compression_ratio_needs_enough_text():
    short = "abab abab abab ab"  # compressible but at most 24 characters
    assert len(short) <= 24
    assert is_anomalous(short, 5, 2.0, -0.3) in (None, "repetition")
    assert is_anomalous(short, 5, 2.0, -0.3) != "compression_ratio"


def test_compression_ratio_of_plain_text_is_low():
    assert compression_ratio(NORMAL) < 1.5
    assert compression_ratio("") == 0.0


@pytest.mark.parametrize("text", ["", " ", "...", " - ", "?!", "♪ ♪"])
def test_punctuation_only_is_non_speech(text):
    assert is_non_speech(text, no_speech_prob=0.0, avg_logprob=-0.1)


def test_non_speech_probabilities():
    assert is_non_speech("you", no_speech_prob=0.95, avg_logprob=-0.1)  # certain no-speech
    assert is_non_speech("you", no_speech_prob=0.7, avg_logprob=-0.9)  # Whisper's rule
    assert not is_non_speech("you", no_speech_prob=0.7, avg_logprob=-0.5)  # confident text
    assert not is_non_speech("yes", no_speech_prob=0.5, avg_logprob=-2.0)  # low, but speech
    assert not is_non_speech(NORMAL, no_speech_prob=0.01, avg_logprob=-0.2)
    assert not is_non_speech("42", no_speech_prob=0.0, avg_logprob=-0.2)


def test_max_new_tokens_grows_with_audio():
    lengths = [0.0, 0.5, 1.0, 5.0, 10.0, 30.0]
    ceilings = [max_new_tokens(s) for s in lengths]
    assert ceilings == sorted(ceilings)
    assert len(set(ceilings)) == len(ceilings)
    assert ceilings[0] > 0
    # The ceiling leaves room for is_anomalous to notice a run-away decode.
    for s in lengths:
        assert max_new_tokens(s) > MAX_TOKENS_PER_S * s + TOKEN_ALLOWANCE
    assert max_new_tokens(30.0) < 448  # within Whisper's decoder context


def test_a_sentence_said_twice_is_a_repetition():
    twice = "How can I help you today? How can I help you today?"
    assert has_repeated_phrase(twice)
    assert is_anomalous(twice, 14, 1.8, -0.2) == "repetition"
    assert collapse_repetitions(twice) == "How can I help you today?"
    assert not has_repeated_phrase("no no I said the card")


def test_implausible_word_rate():
    assert is_anomalous("one two three four five six seven eight nine ten", 12, 1.0, -0.2) == "too_many_words"
    assert is_anomalous("one two three four five six seven", 9, 2.0, -0.2) is None


def test_collapse_keeps_ordinary_text():
    assert collapse_repetitions("thank you thank you") == "thank you thank you"
    assert collapse_repetitions("ask not ask not ask not what") == "ask not ask not what"
    assert collapse_repetitions("谢谢谢谢谢谢") == "谢谢"


# -- timestamped output on short windows ------------------------------------------------------

from assist.stt.text import cut_restart, keep_segments, restart_index  # noqa: E402


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My name is Elizabeth. My name is", "My name is Elizabeth."),
        ("My debit card. My debit card. My debit card. My debit", "My debit card."),
        ("Savings Savings Savings", "Savings"),
        ("715 715 715 715", "715"),
        ("I lost my debit card. I", "I lost my debit card."),
        ("So this is it and this is it", "So this is it and this is it"),  # repeats, never restarts
        ("I'd like to check my balance", "I'd like to check my balance"),
        ("谢谢谢谢", "谢谢谢谢"),  # CJK words repeat in earnest
    ],
)
def test_cut_restart(text, expected):
    assert cut_restart(text) == expected


def test_restart_index_needs_the_start_again():
    assert restart_index(["a", "b", "c", "a", "b"]) == 3
    assert restart_index(["a", "b", "c", "d"]) is None
    assert restart_index(["x", "a", "b", "a", "b"]) is None  # a repeat in the middle is not a restart


def test_keep_segments_drops_what_the_audio_cannot_hold():
    segments = [(0.0, "Which card would you like to replace?"), (4.0, "1. Which card would you like to replace?")]
    assert keep_segments(segments, speech_s=2.5) == [(0, "Which card would you like to replace?")]


def test_keep_segments_drops_a_segment_that_says_it_all_again():
    segments = [(0.0, "I need to check my account balance."), (2.0, "I need to check my account balance.")]
    assert keep_segments(segments, speech_s=3.0) == [(0, "I need to check my account balance.")]


def test_keep_segments_keeps_sentences_that_follow_each_other():
    segments = [(0.0, "So $135 has been transferred."), (7.0, "Is there anything else I can help you with?")]
    assert [text for _, text in keep_segments(segments, speech_s=9.6)] == [
        "So $135 has been transferred.",
        "Is there anything else I can help you with?",
    ]


def test_keep_segments_skips_empty_segments_and_keeps_indices():
    assert keep_segments([(0.0, " "), (0.5, "Hello.")], speech_s=2.0) == [(1, "Hello.")]
