"""Chinese transcripts in the script the call asks for, with Chinese punctuation; other
languages untouched; applied to what a zh call's transcriber publishes, words included."""

from __future__ import annotations

import pytest

from assist.events import FinalTranscript
from assist.stt.engine import DecodedWord, DecodeOutput
from assist.stt.script import script_for, to_script
from tests.unit.stt.test_transcriber_revisions import RATE_HZ, FakeService, ScriptedEngine, _call, _finish


@pytest.mark.parametrize(
    ("language", "config"),
    [("zh", "t2s"), ("zh-CN", "t2s"), ("zh_SG", "t2s"), ("zh-Hans", "t2s"), ("zh-TW", "s2twp"), ("zh-HK", "s2hk")],
)
def test_each_chinese_tag_gets_its_script(language: str, config: str) -> None:
    assert script_for(language) == config


@pytest.mark.parametrize("language", ["en", "en-US", "", None, "zu", "yue-x"])
def test_other_languages_are_left_alone(language: str | None) -> None:
    assert script_for(language) is None
    assert to_script("Hello, world.", script_for(language)) == "Hello, world."


def test_simplified_traditional_and_punctuation() -> None:
    assert to_script("換一首歌", "t2s") == "换一首歌"
    assert to_script("这个软件的内存", "s2twp") == "這個軟體的記憶體"  # Taiwan's words, not just characters
    assert to_script("你好,我想问一下账单?谢谢!", "t2s") == "你好，我想问一下账单？谢谢！"
    assert to_script("一共3.5元.", "t2s") == "一共3.5元。", "a decimal point stays a point"
    assert to_script("我用 iPhone, OK.", "t2s") == "我用 iPhone, OK.", "marks after Latin text stay"


async def test_a_zh_call_publishes_simplified_text_and_words() -> None:
    said = DecodeOutput(
        "換一首歌,謝謝",
        -0.2,
        0.0,
        4.0,
        non_speech=False,
        words=(DecodedWord("換", 0.1, 0.3, 0.9), DecodedWord("歌", 0.3, 0.5, 0.9)),
    )
    engine = ScriptedEngine(said, said)  # Whisper writing Mandarin in traditional characters
    service = FakeService(engine)
    service.scheduler.engines["base"] = engine  # a zh call goes to the multilingual model
    call = service.new_call("zh1", language="zh-CN", clock=lambda: 0.0)
    audio = _call(silence_s=0.5, burst_s=1.5, tail_s=1.0)
    for begin in range(0, len(audio), RATE_HZ // 10):
        await call.push("customer", audio[begin : begin + RATE_HZ // 10])
    events = await _finish(call)
    finals = [e for e in events if isinstance(e, FinalTranscript) and e.text]
    assert finals and finals[0].text == "换一首歌，谢谢"
    assert [w.text for w in finals[0].words] == ["换", "歌"]
    assert all("換" not in e.text for e in events)
    service.close()


def test_byte_slips_in_chinese_output_are_repaired() -> None:
    # A wrong last byte of a full-width comma, and a decode that stopped inside a character.
    assert to_script("莫名其妙就给扣了Ｇ你们得给我退回来\ufffd", "t2s") == "莫名其妙就给扣了，你们得给我退回来"
    assert to_script("ＡＢＣ卡", "t2s") == "ＡＢＣ卡"  # full-width letters that start the text are kept
