from assist.knowledge.index import fuzzy_pinyin, tokens


def test_homophones_and_near_homophones_sound_the_same() -> None:
    assert fuzzy_pinyin("国际漫游") == fuzzy_pinyin("国际慢游")
    assert fuzzy_pinyin("宽带") == fuzzy_pinyin("款待")  # kuan dai
    assert fuzzy_pinyin("山") == fuzzy_pinyin("三")  # sh/s, as many southern speakers say it
    assert fuzzy_pinyin("流量") == fuzzy_pinyin("牛量")  # l/n
    assert fuzzy_pinyin("漫游") != fuzzy_pinyin("账单")


def test_bm25_terms_of_chinese_carry_characters_bigrams_and_their_sounds() -> None:
    terms = tokens("开通漫游")
    assert {"漫", "漫游", "man_you"} <= set(terms)
    assert "man_you" in tokens("开通慢游")  # the misheard spelling still shares the sound
    assert tokens("open roaming please") == ["open", "roaming"]
