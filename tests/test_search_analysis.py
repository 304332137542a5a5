"""Search terms: Chinese cut into words, Traditional and Simplified alike, English stemmed and accent-free,
the same for what is indexed and what is asked (portal/search/analysis.py)."""
import pytest

from portal.search.analysis import text_analyzer


def terms(text):
    return [token.text for token in text_analyzer()(text)]


@pytest.mark.parametrize(("query", "post"), [
    ("报价", "请问企业版的报价是多少"),
    ("续费", "我们明年想续费"),
    ("报价", "請問企業版的報價是多少"),       # Simplified query, Traditional post
    ("數據", "数据导出到钉钉群"),              # Traditional query, Simplified post
    ("upgrade", "We are upgrading next week"),
    ("cafe", "The Café connector"),
    ("export", "ＥＸＰＯＲＴ fails"),          # full-width
])
def test_a_word_is_found_inside_the_text_it_stands_in(query, post):
    assert set(terms(query)) <= set(terms(post)), (terms(query), terms(post))


def test_mixed_text_keeps_both_scripts_words():
    assert terms("CRM升级") == ["crm", "升级"]
    assert {"crm", "升级", "方案"} <= set(terms("关于CRM的升级方案"))


def test_offsets_point_into_the_original_text_for_highlighting():
    text = "我們的報價單 and the Upgrading guide"
    found = {token.text: text[token.startchar:token.endchar] for token in text_analyzer()(text, chars=True)}
    assert found["报价"] == "報價"  # the term is Simplified, the mark falls on what the author wrote
    assert found["upgrad"] == "Upgrading"


def test_punctuation_apostrophes_and_nothing_at_all():
    assert terms("it's it’s") == ["it", "it"]
    assert terms("!!! ？？？ ……") == []
    assert terms("") == []


def test_bigrams_make_a_name_jieba_does_not_know_one_term():
    grams = [token.text for token in text_analyzer(bigrams=True)("推送到釘釘群")]
    assert grams == ["推送", "送到", "到钉", "钉钉", "钉群"]
    assert [token.text for token in text_analyzer(bigrams=True)("钉")] == ["钉"]
    assert "钉钉" not in terms("推送到钉钉群")  # jieba: 钉 and 钉, apart
    assert [token.text for token in text_analyzer(bigrams=True)("CRM升级")] == ["crm", "升级"]
