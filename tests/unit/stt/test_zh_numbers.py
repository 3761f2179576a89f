import pytest

from assist.stt.zh_numbers import numbers_as_digits


@pytest.mark.parametrize(
    ("said", "written"),
    [
        ("我的账单上多收了一百二十元。", "我的账单上多收了120元。"),
        ("一共三百八十块钱", "一共380块钱"),
        ("我的号码是一三八一二三四五六七八", "我的号码是13812345678"),
        ("尾号幺三八", "尾号138"),
        ("二零二五年十二月三号", "2025年12月3号"),
        ("百分之二十", "20%"),
        ("三点五G", "3.5G"),
        ("每分钟一美元", "每分钟1美元"),
        ("封顶五十美元", "封顶50美元"),
        ("两百块", "200块"),
        ("打七五折", "打75折"),
        ("十一点半", "11点半"),
        ("五天", "5天"),
        ("十二个月", "12个月"),
    ],
)
def test_numbers_the_knowledge_base_redaction_and_qa_need_become_digits(said: str, written: str) -> None:
    assert numbers_as_digits(said) == written


@pytest.mark.parametrize(
    "words",
    [
        "帮我查一下",
        "我一直用你们的",
        "统一",
        "第一次",
        "一会儿",
        "万一",
        "千万别",
        "一点都没有信号",
        "十分满意",
        "三四天",
        "一两个",
        "一块儿去",
        "一模一样",
        "我想办一个套餐",
        "三个月",
    ],
)
def test_numerals_inside_ordinary_words_and_approximations_stay(words: str) -> None:
    assert numbers_as_digits(words) == words


def test_text_without_numerals_is_returned_as_is() -> None:
    assert numbers_as_digits("") == ""
    assert numbers_as_digits("My card is 4111") == "My card is 4111"
