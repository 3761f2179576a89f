"""Long turns: when a sentence inside an utterance in progress becomes a final (pure logic)."""

from __future__ import annotations

from assist.stt.commit import CommitOptions, Hypothesis, SentenceCommitter, TimedWord


def _hyp(utterance_id: int, text: str, *, end_s: float, start_s: float = 0.0, word_s: float = 0.4) -> Hypothesis:
    words = tuple(
        TimedWord(word, start_s + i * word_s, start_s + i * word_s + 0.8 * word_s)
        for i, word in enumerate(text.split())
    )
    return Hypothesis(utterance_id, start_s, end_s, words)


def test_a_sentence_end_followed_by_more_speech_is_a_cut_between_the_words():
    cut = SentenceCommitter().observe(_hyp(0, "My card was stolen yesterday. I", end_s=2.6))
    # "yesterday." ends at 4*0.4 + 0.32 = 1.92 s; "I" starts at 2.0 s: cut between them
    assert cut is not None and 1.92 <= cut.at_s <= 2.0
    assert not cut.confirmed  # seen once: only a VAD dip there may confirm it


def test_the_same_boundary_in_two_hypotheses_is_confirmed_even_if_other_words_changed():
    committer = SentenceCommitter()
    committer.observe(_hyp(0, "My cart was stolen yesterday. I", end_s=2.6))
    cut = committer.observe(_hyp(0, "My card was stolen yesterday. I was", end_s=3.1))
    assert cut is not None and cut.confirmed


def test_a_boundary_that_moved_is_not_confirmed():
    committer = SentenceCommitter(CommitOptions(same_boundary_s=0.3))
    committer.observe(_hyp(0, "My card was stolen yesterday. I", end_s=2.6, word_s=0.3))
    cut = committer.observe(_hyp(0, "My card was stolen yesterday. I was", end_s=3.1, word_s=0.45))
    assert cut is not None and not cut.confirmed


def test_no_cut_without_a_later_word():
    assert SentenceCommitter().observe(_hyp(0, "My card was stolen yesterday.", end_s=3.1)) is None


def test_no_cut_before_the_decoder_heard_past_the_sentence():
    committer = SentenceCommitter(CommitOptions(min_heard_after_s=1.0))
    assert committer.observe(_hyp(0, "My card was stolen yesterday. I", end_s=2.5)) is None


def test_no_cut_for_a_sentence_too_short_to_stand_alone():
    committer = SentenceCommitter(CommitOptions(min_sentence_s=1.0))
    assert committer.observe(_hyp(0, "Yes. So my card was", end_s=3.0)) is None


def test_the_last_sentence_end_wins():
    cut = SentenceCommitter().observe(_hyp(0, "I moved house. The router is dead. And then", end_s=4.5))
    # "dead." is word 6: ends at 2.72 s, "And" starts at 2.8 s
    assert cut is not None and 2.72 <= cut.at_s <= 2.8


def test_a_new_utterance_or_forget_starts_afresh():
    committer = SentenceCommitter()
    committer.observe(_hyp(0, "My card was stolen yesterday. I", end_s=2.6))
    cut = committer.observe(_hyp(1, "My card was stolen yesterday. I was", end_s=3.1))
    assert cut is not None and not cut.confirmed
    committer.forget()
    cut = committer.observe(_hyp(1, "My card was stolen yesterday. I was", end_s=3.1))
    assert cut is not None and not cut.confirmed


def test_a_long_clause_joined_by_a_comma_is_a_cut_like_a_sentence():
    committer = SentenceCommitter(CommitOptions(min_clause_s=4.0))
    text = "there's a charge on my card that i really don't recognise, it's for two hundred"
    committer.observe(_hyp(0, text, end_s=6.5))
    cut = committer.observe(_hyp(0, text + " dollars", end_s=7.0))
    # "recognise," is word 11: it ends at 4.32 s, after 4 s of speech
    assert cut is not None and 4.32 <= cut.at_s <= 4.4
    assert cut.confirmed  # the same boundary in both hypotheses


def test_a_short_clause_is_no_cut():
    assert SentenceCommitter().observe(_hyp(0, "well, i think my card was stolen", end_s=3.5)) is None


def test_words_trailing_off_are_no_sentence_end():
    """Whisper writes "it's..." where the speaker trails into the next words."""
    committer = SentenceCommitter()
    assert committer.observe(_hyp(0, "I plugged my laptop into the router it's... still slow", end_s=4.6)) is None
    assert committer.observe(_hyp(0, "I plugged my laptop into the router it's… still slow", end_s=4.6)) is None
