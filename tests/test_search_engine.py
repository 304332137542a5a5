"""The search index behind index/remove/search/suggest (portal/search/engine.py), on a temporary directory."""
from datetime import datetime, timedelta

import pytest

from portal.search.engine import Document, SearchIndex

DAY = datetime(2026, 11, 1)


def post(post_id, body, *, title="", topic_id=None, number=1, access="public", days=0, **extra):
    return Document(post_id=post_id, topic_id=topic_id or post_id, number=number, title=title, body=body,
                    category=extra.pop("category", "questions"), kind=extra.pop("kind", "question"),
                    author=extra.pop("author", "ann"), access=access, created=DAY + timedelta(days=days), **extra)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    engine = SearchIndex(str(tmp_path_factory.mktemp("search")))
    engine.index([
        post(1, "请问企业版的报价是多少？", title="企业版报价", solved=True),
        post(2, "我们明年想续费，有折扣吗", title="续费折扣"),
        post(3, "关于CRM的升级方案，大家怎么看", title="CRM的升级方案"),
        post(4, "報價單在哪裡下載？數據可以導出嗎", title="報價單下載"),
        post(5, "We are upgrading the dashboard export next week", title="Dashboard export", days=3, score=7),
        post(6, "SSO with Okta fails for some users", title="SSO login"),
        post(7, "定时报表支持推送到钉钉群", title="钉钉推送"),
        post(8, "Staff-only notes on the 报价 for key accounts", title="Key account pricing", access="staff"),
        post(9, "The export runs nightly", title="Nightly export", days=1, score=2),
        post(10, "企业版报价多少钱我也想知道", topic_id=2, number=2),
    ])
    return engine


def found(engine, text, access=("public",), **options):
    return [hit.post_id for hit in engine.search(text, access=access, **options).hits]


@pytest.mark.parametrize(("text", "post_id"), [
    ("报价", 1), ("續費", 2), ("CRM升级", 3), ("报价单", 4), ("数据", 4), ("upgrade", 5), ("SSO", 6),
    ("钉钉", 7), ("dashboard", 5),
])
def test_each_language_finds_its_post(corpus, text, post_id):
    assert post_id in found(corpus, text)


def test_simplified_finds_traditional_and_back(corpus):
    assert 4 in found(corpus, "报价") and 1 in found(corpus, "報價")


def test_what_a_reader_may_not_read_is_never_found_nor_counted(corpus):
    public = corpus.search("报价", access=("public",))
    staff = corpus.search("报价", access=("public", "staff"))
    assert 8 not in [hit.post_id for hit in public.hits] and 8 in [hit.post_id for hit in staff.hits]
    assert staff.total == public.total + 1
    assert corpus.search("报价", access=()).total == 0  # no read access at all: nothing


def test_orders_and_pages(corpus):
    assert found(corpus, "export", sort="newest") == [5, 9]
    assert found(corpus, "export", sort="votes") == [5, 9]
    second = corpus.search("export", access=("public",), sort="newest", page=2, per_page=1)
    assert second.total == 2 and [hit.post_id for hit in second.hits] == [9]


def test_snippets_mark_what_was_found_in_the_authors_script(corpus):
    hit = corpus.search("报价", access=("public",)).hits
    snippets = {h.post_id: h.snippet for h in hit}
    assert "<mark>報價</mark>" in snippets[4] and "<mark>报价</mark>" in snippets[1]


def test_did_you_mean_for_a_misspelt_english_word(corpus):
    results = corpus.search("dashbord", access=("public",))
    assert results.total == 0 and results.suggestion == "dashboard"


@pytest.mark.parametrize("text", ['"unbalanced', "AND", "OR NOT", "*port", "!!!", "a" * 1000, "报价\x00",
                                  "title:报价", "export~2", "(((", ""])
def test_queries_that_would_break_a_parser_give_a_result_or_none(corpus, text):
    corpus.search(text, access=("public",))


def test_removed_and_replaced_posts(tmp_path):
    engine = SearchIndex(str(tmp_path))
    engine.index([post(1, "export to CSV"), post(2, "export to Excel")])
    engine.remove([1])
    engine.index([post(2, "import from Excel")])
    assert found(engine, "export") == [] and found(engine, "import") == [2]


def test_suggestions_while_typing_a_question_put_solved_ones_first(corpus):
    hits = corpus.suggest("企业版报价多少钱", access=("public",))
    assert hits and hits[0].post_id == 1
    assert 10 not in [hit.post_id for hit in hits]  # a reply is no topic to suggest
