"""The customer reports on known data: each report's rows and order, its period boundaries, its CSV, its query
count and who may open it; and the "lost to" field through the form, the API and CSV."""
import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.crm import csvio, reports
from portal.crm.lifecycle import change_lifecycle_stage
from portal.crm.models import Customer, CustomerComplaint, CustomerProduct
from portal.crm.touchpoints import record_touchpoint
from portal.extensions import db
from portal.permissions import Role
from tests.community_factories import answer, ask, established, make_category
from tests.crm_factories import make_customer
from tests.helpers import count_queries


def at(*parts):
    return datetime(*parts, tzinfo=UTC)


def csv_rows(response):
    body = response.get_data(as_text=True)
    assert response.mimetype == "text/csv" and body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


# -- 1. key or valued ---------------------------------------------------------------------------------------

def _abc_customers():
    """Revenue 500 / 300 / 150 / 50 of 1,000: cumulative 50%, 80%, 95%, 100%."""
    return [make_customer("Alpha Foods", revenue=Decimal("500"), value_tier="key", external_id="A-1"),
            make_customer("Beta Steel", revenue=Decimal("300"), value_tier="key", external_id="B-1"),
            make_customer("Gamma Print", revenue=Decimal("150"), value_tier="valued"),
            make_customer("Delta Tools", revenue=Decimal("50"), value_tier="standard")]


def test_a_lookup_tells_a_customers_rank_share_and_cumulative_share(app, moderator):
    _abc_customers()
    [beta] = reports.customer_standing(moderator, "beta")
    assert (beta.customer.name, beta.rank, beta.of) == ("Beta Steel", 2, 4)
    assert (beta.share, beta.cumulative_share) == (Decimal("0.3"), Decimal("0.8"))
    [by_id] = reports.customer_standing(moderator, "A-1")
    assert by_id.customer.name == "Alpha Foods" and by_id.rank == 1
    assert reports.customer_standing(moderator, "nobody by that name") == []

    listed = reports.key_and_valued(moderator)
    assert [(s.customer.name, s.rank, s.cumulative_share) for s in listed] == [
        ("Alpha Foods", 1, Decimal("0.5")), ("Beta Steel", 2, Decimal("0.8")), ("Gamma Print", 3, Decimal("0.95"))]

    page = app.test_client(user=moderator).get("/staff/reports/value?q=beta").get_data(as_text=True)
    assert "2 of 4" in page and "30.0%" in page and "80.0%" in page and "Delta Tools" not in page
    assert "first 80% of revenue" in page and "up to 95%" in page


def test_customers_with_the_same_revenue_share_a_rank(app, moderator):
    make_customer("One", revenue=Decimal("100"))
    make_customer("Two", revenue=Decimal("100"))
    make_customer("Three", revenue=Decimal("0"))
    assert [(s.customer.name, s.rank) for s in reports.customer_standing(moderator, "o")] == [("One", 1), ("Two", 1)]
    assert reports.customer_standing(moderator, "three")[0].rank == 3


def test_with_no_revenue_at_all_shares_are_unknown_not_a_division_by_zero(app, moderator):
    make_customer("Fresh Start")
    [fresh] = reports.customer_standing(moderator, "fresh")
    assert fresh.share is None and fresh.cumulative_share is None
    page = app.test_client(user=moderator).get("/staff/reports/value?q=fresh").get_data(as_text=True)
    assert "No key or valued customers yet" in page


def test_the_key_and_valued_csv(app, moderator):
    _abc_customers()
    rows = csv_rows(app.test_client(user=moderator).get("/staff/reports/value.csv"))
    assert rows == [
        ["Customer", "External id", "Tier", "Rank", "Revenue", "Revenue share (%)", "Cumulative share (%)"],
        ["Alpha Foods", "A-1", "Key", "1", "500.00", "50.0", "50.0"],
        ["Beta Steel", "B-1", "Key", "2", "300.00", "30.0", "80.0"],
        ["Gamma Print", "", "Valued", "3", "150.00", "15.0", "95.0"],
    ]


# -- 2. support costs ---------------------------------------------------------------------------------------

Q1_2025 = reports.Quarter(2025, 1)


def _support_data(make_user, moderator):
    questions = make_category("Questions")
    xingchen, yunfan = make_customer("Xingchen Retail"), make_customer("Yunfan Travel")
    make_customer("Quiet Co")
    wang, li = (established(make_user, customer_id=xingchen.id) for _ in range(2))
    zhao = established(make_user, customer_id=yunfan.id)
    stranger = established(make_user)
    ask(wang, questions, title="Last minute of the quarter", now=at(2025, 3, 31, 23, 59, 59))
    ask(li, questions, title="In the middle of the quarter", now=at(2025, 2, 10, 9))
    ask(wang, questions, title="First moment of the next quarter", now=at(2025, 4, 1))
    ask(wang, questions, title="A discussion, not a question", kind="discussion", now=at(2025, 2, 11))
    ask(zhao, questions, title="First moment of the quarter", now=at(2025, 1, 1))
    ask(stranger, questions, title="Nobody's customer asks", now=at(2025, 2, 1))
    for when in (at(2025, 1, 15), at(2025, 3, 31, 23, 59)):
        record_touchpoint(moderator, yunfan.id, channel="ticket", summary="Export fails", occurred_at=when)
    record_touchpoint(moderator, yunfan.id, channel="ticket", summary="Next quarter", occurred_at=at(2025, 4, 1))
    record_touchpoint(moderator, yunfan.id, channel="call", summary="Not a ticket", occurred_at=at(2025, 2, 1))
    yunfan.relationship_owner_id = moderator.id
    db.session.commit()
    return xingchen, yunfan


def test_support_costs_count_questions_and_tickets_inside_the_quarter(app, make_user, moderator):
    _support_data(make_user, moderator)
    rows = reports.support_costs(moderator, Q1_2025)
    assert [(r.customer.name, r.questions, r.tickets, r.total) for r in rows] == [
        ("Yunfan Travel", 1, 2, 3), ("Xingchen Retail", 2, 0, 2)]
    next_quarter = reports.support_costs(moderator, Q1_2025.next())
    assert [(r.customer.name, r.questions, r.tickets) for r in next_quarter] == [
        ("Xingchen Retail", 1, 0), ("Yunfan Travel", 0, 1)]


def test_the_support_page_and_csv_for_a_chosen_quarter(app, make_user, moderator):
    _support_data(make_user, moderator)
    client = app.test_client(user=moderator)
    page = client.get("/staff/reports/support?quarter=2025-Q1").get_data(as_text=True)
    assert page.index("Yunfan Travel") < page.index("Xingchen Retail") and "Quiet Co" not in page
    assert csv_rows(client.get("/staff/reports/support.csv?quarter=2025-Q1")) == [
        ["Customer", "External id", "Tier", "Questions", "Tickets", "Total", "Relationship owner"],
        ["Yunfan Travel", "", "Standard", "1", "2", "3", moderator.name],
        ["Xingchen Retail", "", "Standard", "2", "0", "2", ""],
    ]
    empty = client.get("/staff/reports/support?quarter=2024-Q3").get_data(as_text=True)
    assert "No questions or tickets from any customer in 2024-Q3" in empty


def test_a_quarter_that_makes_no_sense_is_refused(app, moderator):
    client = app.test_client(user=moderator)
    for bad in ("2025-Q5", "last quarter", "2999-Q1"):
        page = client.get(f"/staff/reports/support?quarter={bad}")
        assert page.status_code == 200 and "Choose a quarter like" in page.get_data(as_text=True)
        assert client.get(f"/staff/reports/support.csv?quarter={bad}").status_code == 422


def test_quarters_have_exact_edges():
    assert (Q1_2025.start, Q1_2025.end) == (at(2025, 1, 1), at(2025, 4, 1))
    assert reports.Quarter(2025, 4).end == at(2026, 1, 1)
    assert reports.Quarter.of(at(2025, 3, 31, 23, 59, 59)) == Q1_2025
    assert reports.Quarter.of(at(2025, 4, 1)) == reports.Quarter(2025, 2)
    assert reports.parse_quarter("", now=at(2025, 8, 1)) == reports.Quarter(2025, 3)
    assert [q.key for q in reports.recent_quarters(at(2025, 2, 1), count=3)] == ["2025-Q1", "2024-Q4", "2024-Q3"]


# -- 3. a closer relationship -------------------------------------------------------------------------------

PARTS = [{"part": "replacement", "points": 30, "detail": {"product": "Pro", "age_years": 7, "cycle_years": 8}},
         {"part": "renewal", "points": 40, "detail": {"date": "2027-01-15"}},
         {"part": "referrals", "points": 10, "detail": {"count": 2}}]


def test_high_future_value_with_low_engagement_highest_first(app, moderator):
    make_customer("Casual Big", future_value=80, engagement_level="casual", future_value_parts=PARTS,
                  relationship_owner_id=moderator.id)
    make_customer("Dormant At The Line", future_value=50, engagement_level="dormant")
    make_customer("Lurker Below", future_value=49, engagement_level="lurker")
    make_customer("Engaged Already", future_value=90, engagement_level="engaged")
    make_customer("Champion", future_value=95, engagement_level="champion")
    rows = reports.closer_relationship(moderator)
    assert [r.customer.name for r in rows] == ["Casual Big", "Dormant At The Line"]
    assert [(str(p.label), p.points) for p in rows[0].parts] == [
        ("Renewal due soon", 40), ("Product due for replacement", 30), ("Referrals made", 10)]
    assert [r.customer.name for r in reports.closer_relationship(moderator, min_future_value=49)][-1] == "Lurker Below"

    client = app.test_client(user=moderator)
    page = client.get("/staff/reports/closer?min_future_value=60").get_data(as_text=True)
    assert "Casual Big" in page and "Dormant At The Line" not in page and "Renewal due Jan 15, 2027" in page
    assert csv_rows(client.get("/staff/reports/closer.csv?min_future_value=60")) == [
        ["Customer", "External id", "Tier", "Future value", "Engagement", "Why", "Relationship owner"],
        ["Casual Big", "", "Standard", "80", "Casual",
         "Renewal due soon +40 (Renewal due Jan 15, 2027); Product due for replacement +30 (Pro bought 7 years "
         "ago, replaced every 8 years); Referrals made +10 (2 friends referred)", moderator.name],
    ]
    none = client.get("/staff/reports/closer?min_future_value=99").get_data(as_text=True)
    assert "No customer with a future value of 99 or more" in none
    wrong = client.get("/staff/reports/closer?min_future_value=lots").get_data(as_text=True)
    assert "Give a whole number from 0 to 100000" in wrong and "Casual Big" in wrong


# -- 4. complaints per key customer -------------------------------------------------------------------------

def _complaint(customer, author, post, words, when):
    db.session.add(CustomerComplaint(customer_id=customer.id, post_id=post.id, user_id=author.id, words=words,
                                     occurred_at=when))
    db.session.commit()


def _first_post(topic):
    from portal.community.models import Post

    return db.session.scalar(sa.select(Post).where(Post.topic_id == topic.id, Post.number == 1))


def _complaints_data(make_user):
    forum = make_category("Support")
    most = make_customer("Most Complaints", value_tier="key")
    one = make_customer("One Complaint", value_tier="key")
    make_customer("Happy Key", value_tier="key")
    standard = make_customer("Standard Grumbler", value_tier="standard")
    liu = established(make_user, customer_id=most.id)
    chen = established(make_user, customer_id=one.id)
    sun = established(make_user, customer_id=standard.id)
    topic = ask(liu, forum, title="Dashboards load slowly", now=at(2025, 6, 1))
    second = answer(liu, topic, body="Still the same today.", now=at(2025, 12, 31, 23, 59))
    _complaint(most, liu, _first_post(topic), ["太慢"], at(2025, 6, 1))
    _complaint(most, liu, second, ["退款", "太慢"], at(2025, 12, 31, 23, 59))
    next_year = ask(liu, forum, title="New year, same trouble", now=at(2026, 1, 1))
    _complaint(most, liu, _first_post(next_year), ["取消"], at(2026, 1, 1))
    opening = ask(chen, forum, title="A billing question", now=at(2025, 1, 1))
    _complaint(one, chen, _first_post(opening), ["refund*"], at(2025, 1, 1))
    grumble = ask(sun, forum, title="Grumbling", now=at(2025, 5, 1))
    _complaint(standard, sun, _first_post(grumble), ["cancel*"], at(2025, 5, 1))
    return topic, second, opening


def test_complaints_per_key_customer_in_the_year_most_first(app, make_user, moderator):
    topic, second, opening = _complaints_data(make_user)
    rows = reports.key_customer_complaints(moderator, 2025)
    assert [(r.customer.name, r.count) for r in rows] == [("Most Complaints", 2), ("One Complaint", 1),
                                                           ("Happy Key", 0)]
    assert rows[0].words == ["太慢", "退款"]
    assert [(p.topic_id, p.number) for p in rows[0].posts] == [(topic.id, 2), (topic.id, 1)]
    assert [(r.customer.name, r.count) for r in reports.key_customer_complaints(moderator, 2026)][0] == (
        "Most Complaints", 1)

    client = app.test_client(user=moderator)
    page = client.get("/staff/reports/complaints?year=2025").get_data(as_text=True)
    assert f'href="/t/{topic.id}#post-2"' in page and f'href="/t/{opening.id}#post-1"' in page
    assert "Standard Grumbler" not in page and "2 of 3 key customers complained in 2025" in page
    rows = csv_rows(client.get("/staff/reports/complaints.csv?year=2025"))
    assert rows[0] == ["Customer", "External id", "Complaints", "Words found", "Posts", "Relationship owner"]
    assert rows[1] == ["Most Complaints", "", "2", "太慢, 退款",
                       f"https://community.teahouse.test/t/{topic.id}#post-2 "
                       f"https://community.teahouse.test/t/{topic.id}#post-1", ""]
    assert rows[3] == ["Happy Key", "", "0", "", "", ""]
    assert client.get("/staff/reports/complaints.csv?year=1999").status_code == 422


# -- 5. repeat buyers ---------------------------------------------------------------------------------------

def _buyer(name, revenue, products=(), last_purchase_at=None):
    customer = make_customer(name, revenue=Decimal(revenue), last_purchase_at=last_purchase_at)
    for on in products:
        db.session.add(CustomerProduct(customer_id=customer.id, product="Pro", purchased_on=on))
    db.session.commit()
    return customer


def _repeat_data():
    _buyer("Bought Both Years", 900, [date(2024, 5, 1), date(2025, 3, 1)])
    _buyer("Last Day Of Last Year", 800, last_purchase_at=date(2024, 12, 31))
    _buyer("Bought Before That", 700, [date(2023, 6, 1)])
    _buyer("Back On New Year", 600, [date(2024, 1, 1)], last_purchase_at=date(2025, 1, 1))
    _buyer("Small Buyer", 100, [date(2024, 7, 1)])


def test_last_years_biggest_buyers_and_whether_they_bought_again(app, moderator):
    _repeat_data()
    report = reports.repeat_buyers(moderator, 2025, top=3)
    assert [(r.customer.name, r.bought_again, r.last_purchase) for r in report.rows] == [
        ("Bought Both Years", True, date(2025, 3, 1)),
        ("Last Day Of Last Year", False, date(2024, 12, 31)),
        ("Back On New Year", True, date(2025, 1, 1)),
    ]
    assert report.bought == 2
    assert [r.customer.name for r in reports.repeat_buyers(moderator, 2025).rows][-1] == "Small Buyer"

    client = app.test_client(user=moderator)
    page = client.get("/staff/reports/repeat?year=2025&top=3").get_data(as_text=True)
    assert "2 of 3" in page and "Small Buyer" not in page
    assert csv_rows(client.get("/staff/reports/repeat.csv?year=2025&top=3"))[:3] == [
        ["Customer", "External id", "Tier", "Revenue", "Bought in 2025", "Last purchase", "Relationship owner"],
        ["Bought Both Years", "", "Standard", "900.00", "yes", "2025-03-01", ""],
        ["Last Day Of Last Year", "", "Standard", "800.00", "no", "2024-12-31", ""],
    ]
    assert "Nobody bought anything in 2022" in client.get("/staff/reports/repeat?year=2023").get_data(as_text=True)
    assert client.get("/staff/reports/repeat.csv?top=0").status_code == 422


# -- 6. lost to competitors ---------------------------------------------------------------------------------

def _churn(moderator, customer, when, cause):
    change_lifecycle_stage(moderator, customer.id, "customer", cause="First order", now=when - timedelta(days=400))
    change_lifecycle_stage(moderator, customer.id, "churned_customer", cause=cause, now=when)
    db.session.get(Customer, customer.id).stage_changed_at = when
    db.session.commit()


def _competitor_data(moderator):
    for name, lost_to, when, cause in (
            ("Left In June", "Brightline", at(2025, 6, 1), "rule.renewal_lapsed"),
            ("Left In September", "Brightline", at(2025, 9, 1), "Moved to a cheaper plan elsewhere"),
            ("Left In March", "Kettle & Co", at(2025, 3, 1), "rule.renewal_lapsed")):
        _churn(moderator, make_customer(name, lost_to=lost_to, relationship_owner_id=moderator.id), when, cause)
    make_customer("Left Unrecorded", lifecycle_stage="churned_customer")
    make_customer("Still With Us", lifecycle_stage="customer", lost_to="Brightline")


def test_who_left_for_which_competitor_when_and_why(app, moderator):
    _competitor_data(moderator)
    result = reports.lost_to_competitors(moderator)
    assert result.counts == [("Brightline", 2), ("Kettle & Co", 1), (None, 1)] and result.total == 4
    assert [(d.customer.name, d.lost_to, d.churned_at, d.cause) for d in result.rows] == [
        ("Left In September", "Brightline", at(2025, 9, 1), "Moved to a cheaper plan elsewhere"),
        ("Left In June", "Brightline", at(2025, 6, 1), "renewal lapsed"),
        ("Left In March", "Kettle & Co", at(2025, 3, 1), "renewal lapsed"),
        ("Left Unrecorded", None, None, None),
    ]
    assert [d.customer.name for d in reports.lost_to_competitors(moderator, competitor="Brightline").rows] == [
        "Left In September", "Left In June"]
    assert [d.customer.name for d in reports.lost_to_competitors(moderator, competitor="-").rows] == [
        "Left Unrecorded"]

    client = app.test_client(user=moderator)
    page = client.get("/staff/reports/competitors?lost_to=Kettle+%26+Co").get_data(as_text=True)
    assert "Left In March" in page and "Left In June" not in page and "Brightline · 2" in page
    assert csv_rows(client.get("/staff/reports/competitors.csv?lost_to=Brightline")) == [
        ["Customer", "External id", "Lost to", "Churned on", "Cause", "Relationship owner"],
        ["Left In September", "", "Brightline", "2025-09-01", "Moved to a cheaper plan elsewhere", moderator.name],
        ["Left In June", "", "Brightline", "2025-06-01", "renewal lapsed", moderator.name],
    ]


def test_report_csv_cells_excel_would_run_are_written_as_text(app, moderator):
    make_customer("=HYPERLINK(\"http://evil.example\")", lifecycle_stage="churned_customer", lost_to="+cmd|'/c calc'")
    rows = csv_rows(app.test_client(user=moderator).get("/staff/reports/competitors.csv"))
    assert rows[1][:3] == ["'=HYPERLINK(\"http://evil.example\")", "", "'+cmd|'/c calc'"]


def test_every_report_shows_an_empty_state_without_data(app, moderator):
    client = app.test_client(user=moderator)
    expected = {"value": "No key or valued customers yet", "support": "No questions or tickets",
                "closer": "No customer with a future value", "complaints": "There are no key customers yet",
                "repeat": "Nobody bought anything", "competitors": "No customer has churned"}
    for name, text in expected.items():
        page = client.get(f"/staff/reports/{name}")
        assert page.status_code == 200 and text in page.get_data(as_text=True), name


def test_the_index_lists_the_six_reports(app, moderator):
    page = app.test_client(user=moderator).get("/staff/reports/").get_data(as_text=True)
    for path in ("value", "support", "closer", "complaints", "repeat", "competitors"):
        assert f'href="/staff/reports/{path}"' in page
    assert "Who left for a competitor?" in page


# -- query counts -------------------------------------------------------------------------------------------

PAGES_WITH_DATA = ("/staff/reports/value?q=customer", "/staff/reports/support?quarter=2025-Q1",
                   "/staff/reports/closer", "/staff/reports/complaints?year=2025", "/staff/reports/repeat?year=2025",
                   "/staff/reports/competitors")


def _one_of_each(make_user, moderator, n, forum):
    """A customer that shows in every report: a question, a ticket, a complaint, purchases, a churn."""
    customer = make_customer(f"Customer {n}", revenue=Decimal(100 + n), relationship_owner_id=moderator.id,
                             last_purchase_at=date(2024, 3, 1), lost_to=f"Rival {n % 2}")
    db.session.add(CustomerProduct(customer_id=customer.id, product="Pro", purchased_on=date(2025, 2, 1)))
    person = established(make_user, customer_id=customer.id)
    topic = ask(person, forum, title=f"Question number {n}", now=at(2025, 2, 1))
    _complaint(customer, person, _first_post(topic), ["太慢"], at(2025, 2, 1))
    record_touchpoint(moderator, customer.id, channel="ticket", summary="Broken", occurred_at=at(2025, 2, 2))
    _churn(moderator, customer, at(2025, 5, 1), "rule.renewal_lapsed")
    # The computed dimensions last, so nothing the activity above sets off works them out again.
    record = db.session.get(Customer, customer.id)
    record.value_tier, record.future_value, record.engagement_level = "key", 70, "lurker"
    record.future_value_parts = PARTS
    db.session.commit()


def test_every_report_page_reads_in_a_fixed_number_of_queries(app, make_user, moderator):
    client = app.test_client(user=moderator)
    forum = make_category("Questions")

    def queries():
        counts = {}
        for url in PAGES_WITH_DATA:
            client.get(url)
            with count_queries() as statements:
                assert client.get(url).status_code == 200
            counts[url] = len(statements)
        return counts

    _one_of_each(make_user, moderator, 0, forum)
    few = queries()
    for n in range(1, 8):
        _one_of_each(make_user, moderator, n, forum)
    assert queries() == few
    for url in PAGES_WITH_DATA:
        assert "Customer 7" in client.get(url).get_data(as_text=True), url


# -- who may open them --------------------------------------------------------------------------------------

ROUTES = ["/staff/reports/", "/staff/reports/value?q=acme", "/staff/reports/value.csv", "/staff/reports/support",
          "/staff/reports/support.csv", "/staff/reports/closer", "/staff/reports/closer.csv",
          "/staff/reports/complaints", "/staff/reports/complaints.csv", "/staff/reports/repeat",
          "/staff/reports/repeat.csv", "/staff/reports/competitors", "/staff/reports/competitors.csv"]
ALLOWED = {Role.MODERATOR, Role.ADMIN}


@pytest.mark.parametrize("role", ["visitor", *Role])
@pytest.mark.parametrize("path", ROUTES)
def test_only_community_staff_open_the_reports(app, make_user, role, path):
    make_customer("Acme", value_tier="key", revenue=Decimal("10"), lifecycle_stage="churned_customer",
                  lost_to="Acme Rival", future_value=90, engagement_level="dormant")
    client = app.test_client() if role == "visitor" else app.test_client(user=make_user(role))
    response = client.get(path)
    if role == "visitor":
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    elif role in ALLOWED:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
    if role not in ALLOWED:
        assert "Acme" not in response.get_data(as_text=True)


# -- the "lost to" field ------------------------------------------------------------------------------------

EDIT = {"name": "Brightwater", "source": "staff", "value_tier": "valued", "lifecycle_stage": "churned_customer",
        "cause": "Did not renew", "revenue": "1000"}


def test_lost_to_is_set_through_the_form_and_the_api_and_shown_on_the_record(app, client, moderator, bearer):
    customer = make_customer("Brightwater", lifecycle_stage="customer")
    staff = app.test_client(user=moderator)
    saved = staff.post(f"/staff/customers/{customer.id}/edit", data={**EDIT, "lost_to": "  Kettle   & Co "})
    assert saved.status_code == 302
    assert db.session.get(Customer, customer.id).lost_to == "Kettle & Co"
    record = staff.get(f"/staff/customers/{customer.id}").get_data(as_text=True)
    assert "Lost to" in record and "Kettle &amp; Co" in record
    form = staff.get(f"/staff/customers/{customer.id}/edit").get_data(as_text=True)
    assert 'value="Kettle &amp; Co"' in form
    too_long = staff.post(f"/staff/customers/{customer.id}/edit", data={**EDIT, "lost_to": "x" * 121})
    assert too_long.status_code == 200 and "Keep it to 120 characters" in too_long.get_data(as_text=True)

    headers = bearer(moderator)
    url = f"/api/v1/customers/{customer.id}"
    assert client.get(url, headers=headers).get_json()["lost_to"] == "Kettle & Co"
    changed = client.patch(url, json={"lost_to": "Brightline"}, headers=headers)
    assert changed.status_code == 200 and changed.get_json()["lost_to"] == "Brightline"
    assert client.patch(url, json={"lost_to": "y" * 121}, headers=headers).status_code == 422
    cleared = client.patch(url, json={"lost_to": ""}, headers=headers)
    assert cleared.status_code == 200 and cleared.get_json()["lost_to"] is None
    created = client.post("/api/v1/customers", json={"name": "Gone Co", "external_id": "G-1",
                                                     "lifecycle_stage": "churned_customer", "lost_to": "Brightline"},
                          headers=headers)
    assert created.status_code == 201 and created.get_json()["lost_to"] == "Brightline"


def test_lost_to_goes_in_and_out_with_csv_under_english_and_chinese_headers(app, moderator):
    csvio.import_customers(moderator, "name,external_id,流失去向\nGone One,G-1,Brightline\n".encode(), dry_run=False)
    csvio.import_customers(moderator, "name,external_id,转投\nGone Two,G-2,Kettle\n".encode(), dry_run=False)
    csvio.import_customers(moderator, b"external_id,lost_to\nG-2,Brightline\n", dry_run=False)
    lost = dict(db.session.execute(sa.select(Customer.name, Customer.lost_to)).all())
    assert lost == {"Gone One": "Brightline", "Gone Two": "Brightline"}
    exported = csv_rows(app.test_client(user=moderator).get("/staff/customers/export.csv"))
    column = exported[0].index("lost_to")
    assert sorted(row[column] for row in exported[1:]) == ["Brightline", "Brightline"]
