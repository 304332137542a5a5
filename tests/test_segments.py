"""Saved segments: every operator on a known set of customers, the builder and its live count, the segment
pages and their CSV, the API, permissions for every role, query counts and parallel creates."""
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.audit import AuditEntry
from portal.auth.models import UserStatus
from portal.crm import segments
from portal.crm.models import Customer, CustomerProduct, Segment
from portal.errors import Conflict, Forbidden, Invalid
from portal.extensions import db
from portal.permissions import Role
from tests.conftest import csrf_token_from
from tests.crm_factories import make_customer
from tests.helpers import count_queries

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TODAY = NOW.date()


@pytest.fixture
def people(make_user):
    return {"moderator": make_user(Role.MODERATOR), "rep": make_user(Role.SALES), "admin": make_user(Role.ADMIN)}


@pytest.fixture
def known(app, make_user, people):
    """Four customers that differ on every field a rule can test; their members."""
    def products(customer, *names):
        for name in names:
            db.session.add(CustomerProduct(customer_id=customer.id, product=name, purchased_on=date(2020, 1, 1)))

    aurora = make_customer(
        "Aurora", value_tier="key", lifecycle_stage="repeat_customer", engagement_level="champion",
        churn_risk="none", region="East China", industry="Retail", size="201-1000", source="import",
        tags=["VIP", "beta"], revenue=Decimal("5000000"), future_value=80, preferred_language="zh",
        last_touch_at=NOW - timedelta(days=2), renewal_date=TODAY + timedelta(days=10),
        relationship_owner_id=people["moderator"].id, owner_rep_id=people["rep"].id)
    birch = make_customer(
        "Birch", value_tier="key", lifecycle_stage="customer", engagement_level="engaged", churn_risk="high",
        region="North China", industry="Manufacturing", size="51-200", source="referral", tags=["VIP"],
        revenue=Decimal("2000000"), future_value=40, preferred_language="en", last_touch_at=NOW - timedelta(days=40),
        renewal_date=date(2026, 2, 1))
    cedar = make_customer(
        "Cedar", value_tier="valued", lifecycle_stage="prospect", engagement_level="casual", churn_risk="medium",
        region="East China", industry="Retail Banking", size="11-50", source="community",
        tags=["beta", "重点客户", 'say "hi"', "Élite", "50%_off"],
        revenue=Decimal("300000"), future_value=60)
    # Tags as JSON null, as a hand-written row might leave them: no tags, on both databases.
    dune = make_customer(
        "Dune", value_tier="standard", lifecycle_stage="churned_customer", engagement_level="dormant",
        churn_risk="low", source="staff", tags=None, revenue=Decimal("0"), future_value=0,
        last_touch_at=NOW - timedelta(days=400), renewal_date=date(2026, 6, 1))
    products(aurora, "Lumina Pro")
    products(birch, "Lumina Pro", "Embed")
    products(cedar, "Embed")
    db.session.commit()
    members = {"aurora": make_user(customer_id=aurora.id), "birch": make_user(customer_id=birch.id),
               "aurora_suspended": make_user(customer_id=aurora.id, status=UserStatus.SUSPENDED)}
    return {"customers": {c.name: c for c in (aurora, birch, cedar, dune)}, "members": members}


def names(rules, match="all"):
    query = segments.segment_customers(rules, match=match, now=NOW).order_by(Customer.name)
    return "".join(customer.name[0] for customer in db.session.scalars(query))


def rule(field, op, value=None):
    return {"field": field, "op": op, "value": value}


OPERATOR_CASES = [
    # enum fields
    (rule("value_tier", "is", "key"), "AB"),
    (rule("value_tier", "is_not", "key"), "CD"),
    (rule("value_tier", "in", ["valued", "standard"]), "CD"),
    (rule("value_tier", "not_in", "key, valued"), "D"),
    (rule("lifecycle_stage", "is", "prospect"), "C"),
    (rule("engagement_level", "in", ["champion", "engaged"]), "AB"),
    (rule("churn_risk", "is", "high"), "B"),
    (rule("size", "is", "11-50"), "C"),
    (rule("size", "is_not", "11-50"), "ABD"),
    (rule("size", "not_in", ["201-1000", "51-200"]), "CD"),
    (rule("source", "is", "import"), "A"),
    (rule("preferred_language", "is", "zh"), "A"),
    (rule("preferred_language", "is_not", "zh"), "BCD"),
    # text fields
    (rule("region", "is", "East China"), "AC"),
    (rule("region", "is_not", "East China"), "BD"),
    (rule("region", "in", "North China, East China"), "ABC"),
    (rule("region", "contains", "china"), "ABC"),
    (rule("industry", "contains", "RETAIL"), "AC"),
    (rule("region", "is_empty"), "D"),
    (rule("industry", "is_set"), "ABC"),
    # list fields
    (rule("tags", "has_any", "vip"), "AB"),
    (rule("tags", "has_all", ["vip", "BETA"]), "A"),
    (rule("tags", "has_none", "beta"), "BD"),
    (rule("tags", "has_any", ["重点客户"]), "C"),
    (rule("tags", "has_none", ["重点客户", "vip"]), "D"),
    (rule("tags", "has_all", ['say "HI"', "Élite", "beta"]), "C"),
    (rule("tags", "has_any", ["50%_OFF"]), "C"),
    (rule("tags", "has_any", ["50%"]), ""),
    (rule("tags", "has_any", ["重点"]), ""),
    (rule("products", "has_any", "embed"), "BC"),
    (rule("products", "has_all", "Lumina Pro, Embed"), "B"),
    (rule("products", "has_none", ["lumina pro"]), "CD"),
    # numbers
    (rule("revenue", "gt", 2000000), "A"),
    (rule("revenue", "gte", "2,000,000"), "AB"),
    (rule("revenue", "lt", 300000), "D"),
    (rule("revenue", "lte", 300000), "CD"),
    (rule("revenue", "between", [300000, 2000000]), "BC"),
    (rule("future_value", "gte", 60), "AC"),
    (rule("future_value", "between", "0, 40"), "BD"),
    # last touch, days before NOW (Birch was touched exactly 40 days before)
    (rule("last_touch", "within_days", 30), "A"),
    (rule("last_touch", "within_days", "40"), "AB"),
    (rule("last_touch", "not_within_days", 30), "BCD"),
    (rule("last_touch", "never"), "C"),
    # renewal date (Aurora renews exactly 10 days after TODAY)
    (rule("renewal_date", "within_next_days", 10), "A"),
    (rule("renewal_date", "within_next_days", 9), ""),
    (rule("renewal_date", "overdue"), "B"),
    (rule("renewal_date", "before", "2026-03-11"), "B"),
    (rule("renewal_date", "after", "2026-03-11"), "D"),
    (rule("renewal_date", "is_empty"), "C"),
    # linked members (a suspended one still counts as linked, as on the customer list)
    (rule("has_members", "is", True), "AB"),
    (rule("has_members", "is", "no"), "CD"),
]


@pytest.mark.parametrize(("one_rule", "expected"), OPERATOR_CASES,
                         ids=[f"{r['field']}-{r['op']}-{i}" for i, (r, _e) in enumerate(OPERATOR_CASES)])
def test_each_operator_picks_exactly_the_customers_it_says(known, one_rule, expected):
    """Does each field and operator select exactly the customers of the known set it should?"""
    assert names([one_rule]) == expected


def test_owner_rules_name_people_who_can_own_customers(known, people):
    """Do owner rules match by person, and refuse someone who can't own customers?"""
    moderator, rep = people["moderator"], people["rep"]
    assert names([rule("relationship_owner", "is", moderator.id)]) == "A"
    assert names([rule("relationship_owner", "is_empty")]) == "BCD"
    assert names([rule("sales_owner", "in", [str(rep.id)])]) == "A"
    assert names([rule("sales_owner", "is_set")]) == "A"
    with pytest.raises(Invalid) as refused:
        segments.check_rules("all", [rule("sales_owner", "is", moderator.id)])
    assert set(refused.value.fields) == {"rules.0.value"}


def test_all_of_is_and_any_of_is_or_and_no_rules_is_everyone(known):
    """Does "all of" need every rule, "any of" one of them, and no rules match every customer?"""
    both = [rule("value_tier", "is", "key"), rule("churn_risk", "is", "high")]
    assert names(both, "all") == "B"
    assert names(both, "any") == "AB"
    assert names([rule("region", "is_empty"), rule("lifecycle_stage", "is", "prospect")], "any") == "CD"
    assert names([], "all") == names([], "any") == "ABCD"
    assert segments.count_of(segments.segment_customers({"match": "any", "rules": both})) == 2


def test_clean_rules_come_back_unchanged_when_checked_again():
    """Are checked rules stable, so saved rules compile the same every time?"""
    typed = [rule("value_tier", "in", "key, valued"), rule("revenue", "between", "1000, 2500.5"),
             rule("has_members", "is", "yes"), rule("last_touch", "never", "ignored")]
    clean = segments.check_rules("any", typed)
    assert clean == [rule("value_tier", "in", ["key", "valued"]), rule("revenue", "between", [1000, 2500.5]),
                     rule("has_members", "is", True), rule("last_touch", "never")]
    assert segments.check_rules("any", clean) == clean


def test_bad_rules_are_named_one_by_one():
    """Does the checker name each bad rule's part at once: unknown field, wrong operator, bad value?"""
    with pytest.raises(Invalid) as refused:
        segments.check_rules("some", [rule("shoe_size", "is", "42"), rule("tags", "gt", 3),
                                      rule("revenue", "between", [10, 1]), rule("last_touch", "within_days", -1),
                                      rule("value_tier", "is", "gold"), rule("renewal_date", "before", "soon"),
                                      rule("region", "is", ""), "not a rule"])
    assert set(refused.value.fields) == {"match", "rules.0.field", "rules.1.op", "rules.2.value", "rules.3.value",
                                         "rules.4.value", "rules.5.value", "rules.6.value", "rules.7"}
    with pytest.raises(Invalid) as too_many:
        segments.check_rules("all", [rule("region", "is_set")] * (segments.MAX_RULES + 1))
    assert set(too_many.value.fields) == {"rules"}


def test_rules_read_back_in_words(known, people):
    """Are rules shown as a person would say them?"""
    words = segments.rules_in_words(
        [rule("value_tier", "in", ["key", "valued"]), rule("last_touch", "within_days", 30),
         rule("relationship_owner", "is", people["moderator"].id), rule("has_members", "is", False),
         rule("revenue", "between", [1000, 20000])],
        {people["moderator"].id: people["moderator"].name})
    assert words == ["Value tier is one of Key, Valued", "Last touch within the last 30 days",
                     f"Relationship owner is {people['moderator'].name}", "Has no linked members",
                     "Revenue is between 1,000 and 20,000"]


def test_members_of_several_segments_come_once_each_active_only(known, moderator):
    """Does segment_members give each active member once, however many targeted segments hold them?"""
    key = segments.create_segment(moderator, "Key", "", "all", [rule("value_tier", "is", "key")])
    vip = segments.create_segment(moderator, "VIP", "", "all", [rule("tags", "has_any", "vip")])
    churn = segments.create_segment(moderator, "High risk", "", "all", [rule("churn_risk", "is", "high")])
    members = known["members"]
    found = db.session.scalars(segments.segment_members([key.id, vip.id, churn.id])).all()
    assert found == sorted([members["aurora"], members["birch"]], key=lambda user: user.id)
    assert db.session.scalars(segments.segment_members([churn.id])).all() == [members["birch"]]
    assert db.session.scalars(segments.segment_members([])).all() == []
    assert segments.member_count(key) == 2


def test_segment_customers_can_be_narrowed_to_ids(known):
    """Can a caller narrow segment_customers to ids and use it inside another query?"""
    ids = segments.segment_customers([rule("tags", "has_any", "beta")]).with_only_columns(Customer.id)
    inside = db.session.scalars(sa.select(Customer.name).where(Customer.id.in_(ids)).order_by(Customer.name)).all()
    assert inside == ["Aurora", "Cedar"]


# -- services -------------------------------------------------------------------------------------

def test_creating_changing_and_deleting_a_segment_is_audited(app, moderator):
    """Is every write to a segment audited with what changed?"""
    segment = segments.create_segment(moderator, "  Key   going quiet ", "Call them", "all",
                                      [rule("value_tier", "is", "key")])
    assert segment.name == "Key going quiet" and segment.rules == [rule("value_tier", "is", "key")]
    segments.update_segment(moderator, segment.id, "Key going quiet", "Call them", "any",
                            [rule("value_tier", "is", "key"), rule("last_touch", "not_within_days", 60)])
    segments.update_segment(moderator, segment.id, "Key going quiet", "Call them", "any", segment.rules)
    segments.delete_segment(moderator, segment.id)
    entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [entry.action for entry in entries] == ["segment.created", "segment.updated", "segment.deleted"]
    assert entries[1].details["before"] == {"match": "all", "rules": [rule("value_tier", "is", "key")]}
    assert [str(entry.label) for entry in entries] == ["Segment created", "Segment changed", "Segment deleted"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Segment)) == 0


def test_a_taken_name_is_a_clear_conflict_in_any_case(app, moderator):
    """Does a second segment with a taken name (in any letter case) get a clear conflict?"""
    segments.create_segment(moderator, "Key customers", "", "all", [])
    other = segments.create_segment(moderator, "Valued", "", "all", [])
    for name in ("Key customers", "KEY CUSTOMERS"):
        with pytest.raises(Conflict) as taken:
            segments.create_segment(moderator, name, "", "all", [])
        assert "name" in taken.value.fields
    with pytest.raises(Conflict):
        segments.update_segment(moderator, other.id, "key customers", "", "all", [])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Segment)) == 2


def test_the_unique_constraint_backs_the_name_check(app, moderator, monkeypatch):
    """When two creates pass the name check together, does the constraint's error become the same Conflict?"""
    segments.create_segment(moderator, "Twice", "", "all", [])
    monkeypatch.setattr(segments, "_name_free", lambda name, but=None: None)
    with pytest.raises(Conflict):
        segments.create_segment(moderator, "Twice", "", "all", [])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Segment)) == 1


@pytest.mark.parametrize("role", [Role.MEMBER, Role.SALES, Role.SALES_MANAGER])
def test_the_services_refuse_people_without_the_permission(app, make_user, moderator, role):
    """Do the services themselves refuse members and sales, whatever door they come through?"""
    someone = make_user(role)
    segment = segments.create_segment(moderator, "Key", "", "all", [])
    for call in (lambda: segments.create_segment(someone, "Mine", "", "all", []),
                 lambda: segments.update_segment(someone, segment.id, "Mine", "", "all", []),
                 lambda: segments.delete_segment(someone, segment.id),
                 lambda: segments.get_segment(someone, segment.id), lambda: segments.list_segments(someone),
                 lambda: segments.count_matching(someone, "all", [])):
        with pytest.raises(Forbidden):
            call()


def test_the_list_counts_every_segment_in_three_queries(known, moderator, people):
    """Are the list's customer and member counts right, in three queries however many segments there are?"""
    segments.create_segment(moderator, "Key", "", "all", [rule("value_tier", "is", "key")])
    segments.create_segment(moderator, "Everyone", "", "all", [])
    segments.create_segment(moderator, "Owned", "", "any", [rule("relationship_owner", "is", people["moderator"].id),
                                                              rule("products", "has_any", "embed")])
    assert moderator.role == Role.MODERATOR  # loaded before counting
    with count_queries() as statements:
        counted = segments.list_segments(moderator, now=NOW)
    assert len(statements) == 3
    assert [(entry.segment.name, entry.customers, entry.members) for entry in counted] == [
        ("Everyone", 4, 2), ("Key", 2, 2), ("Owned", 3, 2)]


# -- pages ----------------------------------------------------------------------------------------

def builder_form(name, match="all", rows=(), **extra):
    data = {"name": name, "description": "", "match": match, **extra}
    for i, (field, op, *values) in enumerate(rows):
        data[f"rules-{i}-field"], data[f"rules-{i}-op"] = field, op
        data[f"rules-{i}-value"] = list(values)
    return data


def test_a_moderator_builds_a_segment_without_javascript(known, moderator):
    """Can the builder add a row, preview the count and save, all by posting the form?"""
    client = app_client(known, moderator)
    page = client.get("/staff/segments/new")
    assert page.status_code == 200 and 'name="rules-0-field"' in page.get_data(as_text=True)
    added = client.post("/staff/segments/new", data=builder_form(
        "Key", rows=[("value_tier", "in", "key")], action="add")).get_data(as_text=True)
    assert 'name="rules-1-field"' in added and "2 customers match now." in added
    removed = client.post("/staff/segments/new", data=builder_form(
        "Key", rows=[("value_tier", "in", "key"), ("churn_risk", "is", "high")], action="remove-1"))
    assert 'name="rules-1-field"' not in removed.get_data(as_text=True)
    preview = client.post("/staff/segments/new", data=builder_form(
        "Key", rows=[("value_tier", "in", "key"), ("churn_risk", "is", "high")], action="preview"))
    assert "1 customer matches now." in preview.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Segment)) == 0
    saved = client.post("/staff/segments/new", data=builder_form(
        "Key at risk", rows=[("value_tier", "in", "key"), ("churn_risk", "is", "high")], action="save"))
    segment = db.session.scalar(sa.select(Segment))
    assert saved.status_code == 302 and saved.headers["Location"].endswith(f"/staff/segments/{segment.id}")
    assert segment.rules == [rule("value_tier", "in", ["key"]), rule("churn_risk", "is", "high")]


def app_client(known, user):
    from flask import current_app
    return current_app.test_client(user=user)


def test_a_field_changed_without_javascript_gets_its_own_operators(known, moderator):
    """When a row's field changes and the page reflows, does it offer that field's operators?"""
    client = app_client(known, moderator)
    html = client.post("/staff/segments/new", data=builder_form(
        "X", rows=[("last_touch", "in", "key")], action="preview")).get_data(as_text=True)
    assert 'value="within_days" selected' in html and 'type="number"' in html


def test_bad_rules_on_the_page_show_on_their_row_and_save_nothing(known, moderator):
    """Does a bad value show beside its rule, keep what was typed and write nothing?"""
    response = app_client(known, moderator).post("/staff/segments/new", data=builder_form(
        "Bad", rows=[("region", "is", "East China"), ("revenue", "gt", "lots")], action="save"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Give a number." in html and 'value="lots"' in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Segment)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0


def test_a_taken_name_shows_on_the_name_field(known, moderator):
    """Does the builder say the name is taken, beside the name?"""
    segments.create_segment(moderator, "Key", "", "all", [])
    html = app_client(known, moderator).post("/staff/segments/new", data=builder_form(
        "key", rows=[], action="save")).get_data(as_text=True)
    assert "Another segment already has this name." in html


def test_the_live_count_answers_for_form_fields_and_json(known, moderator):
    """Does POST /staff/segments/count count what is typed, and name bad rules with 422?"""
    client = app_client(known, moderator)
    counted = client.post("/staff/segments/count", data=builder_form("", rows=[("tags", "has_any", "VIP")]))
    assert counted.status_code == 200 and counted.get_json()["count"] == 2
    assert counted.get_json()["text"] == "2 customers match now."
    as_json = client.post("/staff/segments/count", json={"match": "any", "rules": [
        rule("churn_risk", "is", "high"), rule("region", "is_empty")]})
    assert as_json.get_json()["count"] == 2
    bad = client.post("/staff/segments/count", json={"match": "all", "rules": [rule("tags", "is", "x")]})
    assert bad.status_code == 422 and set(bad.get_json()["error"]["fields"]) == {"rules.0.op"}


def test_the_live_count_needs_the_csrf_token(make_app, make_user):
    """Is the live count refused without the builder's CSRF token, and answered with it?"""
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        client = app.test_client(user=make_user(Role.MODERATOR))
        assert client.post("/staff/segments/count", data={"match": "all"}).status_code == 400
        token = csrf_token_from(client.get("/staff/segments/new").get_data(as_text=True))
        answered = client.post("/staff/segments/count", data={"match": "all", "csrf_token": token})
        assert answered.status_code == 200 and answered.get_json()["count"] == 0


def test_the_row_fragment_fits_the_field(known, moderator):
    """Does the row the script asks for carry the inputs its field and operator need?"""
    client = app_client(known, moderator)
    html = client.get("/staff/segments/row?index=3&field=renewal_date&op=before").get_data(as_text=True)
    assert 'name="rules-3-value"' in html and 'type="date"' in html
    checks = client.get("/staff/segments/row?index=0&field=value_tier&op=in&value=key").get_data(as_text=True)
    assert 'type="checkbox" name="rules-0-value" value="key" checked' in checks


def test_the_segment_pages_show_customers_members_and_rules_in_words(known, moderator):
    """Do the list, builder, segment and members pages show what they should?"""
    segment = segments.create_segment(moderator, "Key customers", "Our biggest", "all",
                                      [rule("value_tier", "in", ["key", "valued"])])
    client = app_client(known, moderator)
    listing = client.get("/staff/segments/").get_data(as_text=True)
    assert "Key customers" in listing and "Value tier is one of Key, Valued" in listing
    edit = client.get(f"/staff/segments/{segment.id}/edit").get_data(as_text=True)
    assert 'value="key" checked' in edit and 'value="valued" checked' in edit and "3 customers match now." in edit
    detail = client.get(f"/staff/segments/{segment.id}").get_data(as_text=True)
    assert all(name in detail for name in ("Aurora", "Birch", "Cedar")) and "Dune" not in detail
    assert "Champion" in detail and "High" in detail
    members = client.get(f"/staff/segments/{segment.id}/members").get_data(as_text=True)
    assert known["members"]["aurora"].email in members and known["members"]["birch"].email in members
    assert known["members"]["aurora_suspended"].email not in members


def test_an_empty_list_invites_the_first_segment(app, moderator):
    html = app.test_client(user=moderator).get("/staff/segments/").get_data(as_text=True)
    assert "Create the first segment" in html


def test_the_csv_exports_have_a_bom_and_the_rows(known, moderator):
    """Do the customers and members exports open in Excel (BOM) and hold exactly the segment's rows?"""
    segment = segments.create_segment(moderator, "Key", "", "all", [rule("value_tier", "is", "key")])
    client = app_client(known, moderator)
    customers = client.get(f"/staff/segments/{segment.id}/customers.csv")
    text = customers.get_data(as_text=True)
    assert customers.mimetype == "text/csv" and text.startswith("\ufeffexternal_id,name")
    assert [line.split(",")[1] for line in text.strip().splitlines()[1:]] == ["Aurora", "Birch"]
    members = client.get(f"/staff/segments/{segment.id}/members.csv").get_data(as_text=True)
    lines = members.strip().splitlines()
    assert lines[0] == "\ufeffname,email,customer,customer_external_id,joined_at,last_login_at" and len(lines) == 3
    assert {line.split(",")[2] for line in lines[1:]} == {"Aurora", "Birch"}


def test_a_member_named_like_a_formula_is_quoted_in_the_export(known, moderator, make_user):
    segment = segments.create_segment(moderator, "Cedar", "", "all", [rule("lifecycle_stage", "is", "prospect")])
    make_user(name="=HYPERLINK(1)", customer_id=known["customers"]["Cedar"].id)
    text = app_client(known, moderator).get(f"/staff/segments/{segment.id}/members.csv").get_data(as_text=True)
    assert "'=HYPERLINK(1)" in text


def test_deleting_from_the_page(known, moderator):
    segment_id = segments.create_segment(moderator, "Gone", "", "all", []).id
    response = app_client(known, moderator).post(f"/staff/segments/{segment_id}/delete")
    assert response.status_code == 302 and db.session.get(Segment, segment_id) is None


def test_the_pages_load_in_a_fixed_number_of_queries(known, moderator, make_user, people):
    """Do the list, segment and members pages run as many queries for many rows as for few?"""
    client = app_client(known, moderator)
    segment = segments.create_segment(moderator, "All", "", "any", [rule("region", "is_set"),
                                                                     rule("sales_owner", "is", people["rep"].id)])

    def queries(url):
        client.get(url)
        with count_queries() as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    few = {url: queries(url) for url in ("/staff/segments/", f"/staff/segments/{segment.id}",
                                         f"/staff/segments/{segment.id}/members")}
    for n in range(12):
        customer = make_customer(f"More {n}", region="West", relationship_owner_id=moderator.id,
                                 owner_rep_id=people["rep"].id, domain=f"more{n}.example")
        make_user(customer_id=customer.id)
        segments.create_segment(moderator, f"Segment {n}", "", "all", [rule("tags", "has_any", f"t{n}"),
                                                                      rule("relationship_owner", "is", moderator.id)])
    assert {url: queries(url) for url in few} == few


# -- API ------------------------------------------------------------------------------------------

def test_the_api_creates_lists_and_reads_segments(known, moderator, bearer, client):
    """Can the CRM create a segment, list segments, read one and page through its customers?"""
    headers = bearer(moderator)
    created = client.post("/api/v1/segments", headers=headers, json={
        "name": "VIP", "match": "all", "rules": [rule("tags", "has_any", ["vip"])]})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["customer_count"] == 2 and body["member_count"] == 2 and body["rules_in_words"] == [
        "Tags has any of vip"]
    listed = client.get("/api/v1/segments", headers=headers).get_json()
    assert listed["total"] == 1 and listed["page"] == 1 and listed["items"][0]["customer_count"] == 2
    assert listed["items"][0]["rules"] == [rule("tags", "has_any", ["vip"])]
    assert client.get(f"/api/v1/segments/{body['id']}", headers=headers).get_json()["name"] == "VIP"
    page = client.get(f"/api/v1/segments/{body['id']}/customers?per_page=1", headers=headers).get_json()
    assert page["total"] == 2 and [item["name"] for item in page["items"]] == ["Aurora"]
    assert page["items"][0]["products"] == [{"product": "Lumina Pro", "purchased_on": "2020-01-01", "quantity": 1}]
    same_shape = client.get("/api/v1/customers?per_page=1", headers=headers).get_json()
    assert set(page) == set(same_shape) and set(page["items"][0]) == set(same_shape["items"][0])
    second = client.get(f"/api/v1/segments/{body['id']}/customers?per_page=1&page=2", headers=headers).get_json()
    assert [item["name"] for item in second["items"]] == ["Birch"]


def test_the_api_changes_and_deletes_a_segment(known, moderator, bearer, client):
    headers = bearer(moderator)
    segment_id = segments.create_segment(moderator, "Key", "", "all", [rule("value_tier", "is", "key")]).id
    changed = client.patch(f"/api/v1/segments/{segment_id}", headers=headers, json={"match": "any", "rules": [
        rule("value_tier", "is", "key"), rule("region", "is_empty")]})
    assert changed.status_code == 200 and changed.get_json()["customer_count"] == 3
    assert changed.get_json()["name"] == "Key"
    assert client.delete(f"/api/v1/segments/{segment_id}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/segments/{segment_id}", headers=headers).status_code == 404


def test_the_api_names_each_bad_rule_and_writes_nothing(known, moderator, bearer, client):
    """Does a create with bad rules answer 422 naming each one, and write nothing?"""
    response = client.post("/api/v1/segments", headers=bearer(moderator), json={
        "name": "Bad", "match": "all", "rules": [rule("shoe_size", "is", 1), rule("tags", "gt", 1),
                                                 rule("last_touch", "within_days", "soon")]})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"rules.0.field", "rules.1.op", "rules.2.value"}
    shape = client.post("/api/v1/segments", headers=bearer(moderator), json={"name": "Bad", "rules": [{"op": "is"}]})
    assert shape.status_code == 422 and "rules.0.field" in shape.get_json()["error"]["fields"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Segment)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0
    taken = segments.create_segment(moderator, "Taken", "", "all", [])
    again = client.post("/api/v1/segments", headers=bearer(moderator), json={"name": taken.name, "rules": []})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "segment_name_taken"


def test_the_segments_api_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert set(paths["/segments"]) == {"get", "post"}
    assert set(paths["/segments/{segment_id}"]) == {"get", "patch", "delete"}
    assert paths["/segments/{segment_id}/customers"]["get"]["tags"] == ["segments"]


# -- permissions ----------------------------------------------------------------------------------

def page_routes(segment_id):
    form = builder_form("Route check", rows=[("region", "is_set")])
    return [("get", "/staff/segments/", None), ("get", "/staff/segments/new", None),
            ("post", "/staff/segments/new", {**form, "action": "preview"}),
            ("get", f"/staff/segments/{segment_id}", None), ("get", f"/staff/segments/{segment_id}/members", None),
            ("get", f"/staff/segments/{segment_id}/edit", None),
            ("post", f"/staff/segments/{segment_id}/edit", {**form, "action": "preview"}),
            ("post", "/staff/segments/count", form), ("get", "/staff/segments/row?field=region&op=is", None),
            ("get", f"/staff/segments/{segment_id}/customers.csv", None),
            ("get", f"/staff/segments/{segment_id}/members.csv", None),
            ("post", f"/staff/segments/{segment_id}/delete", {})]


ALLOWED = {Role.MODERATOR, Role.ADMIN}


def test_every_page_by_every_role(known, users_by_role, client):
    """Do moderators and admins reach every segment page, members and sales get 403, nobody signs in first?"""
    from flask import current_app
    segment_id = segments.create_segment(users_by_role[Role.MODERATOR], "Routes", "", "all", []).id
    for method, url, data in page_routes(segment_id):
        anonymous = getattr(client, method)(url, data=data)
        assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"], url
        for role, user in users_by_role.items():
            response = getattr(current_app.test_client(user=user), method)(url, data=data)
            expected = (200, 302) if role in ALLOWED else (403,)
            assert response.status_code in expected, (role, method, url, response.status_code)
            if role not in ALLOWED:
                assert "Routes" not in response.get_data(as_text=True) and "Aurora" not in response.get_data(
                    as_text=True)
        if url.endswith("/delete"):
            assert db.session.get(Segment, segment_id) is None  # the moderator's, last of the allowed roles


def test_every_api_route_by_every_role(known, users_by_role, bearer, client):
    """Does every segments API route answer 401 without a token and 403 JSON to members and sales?"""
    segment_id = segments.create_segment(users_by_role[Role.MODERATOR], "Routes", "", "all", []).id
    routes = [("get", "/api/v1/segments", None), ("post", "/api/v1/segments", {"name": "N", "rules": []}),
              ("get", f"/api/v1/segments/{segment_id}", None),
              ("patch", f"/api/v1/segments/{segment_id}", {"description": "x"}),
              ("get", f"/api/v1/segments/{segment_id}/customers", None),
              ("delete", f"/api/v1/segments/{segment_id}", None)]
    headers = {role: bearer(user) for role, user in users_by_role.items()}
    for method, url, body in routes:
        assert getattr(client, method)(url, json=body).status_code == 401, url
        for role in users_by_role:
            response = getattr(client, method)(url, json=body, headers=headers[role])
            if role in ALLOWED:
                if method == "post":  # the second create of one name is a conflict
                    assert response.status_code in (201, 409), (role, url)
                else:
                    assert response.status_code in (200, 204, 404), (role, url)
            else:
                assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden", (role, url)


# -- parallel creates -----------------------------------------------------------------------------

@pytest.fixture
def postgres(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("parallel requests only really overlap on PostgreSQL (TEST_DATABASE_URL)")
    return app


def test_six_parallel_creates_of_one_name_make_one_segment(postgres, moderator):
    """Do six creates of one name at once make one segment and five clean conflicts?"""
    from tests.test_races import at_once, token
    headers = token(postgres, moderator)
    body = {"name": "Racing", "match": "all", "rules": [rule("value_tier", "is", "key")]}
    responses = at_once(postgres, [lambda c: c.post("/api/v1/segments", json=body, headers=headers)] * 6)
    assert sorted(r.status_code for r in responses) == [201] + [409] * 5
    assert all(r.get_json()["error"]["code"] == "segment_name_taken" for r in responses if r.status_code == 409)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Segment)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "segment.created")) == 1
