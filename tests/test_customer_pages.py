"""The staff customer pages through HTTP: list, 360, forms with their errors, import with its dry run."""
import io

import sqlalchemy as sa

from portal.crm.models import Customer, LifecycleStage
from portal.events import Activity, Verb
from portal.extensions import db
from portal.permissions import Role
from tests.community_factories import ask, established, make_category
from tests.crm_factories import make_customer
from tests.helpers import count_queries

FORM = {"name": "Nordwind Logistik", "company": "Nordwind Logistik GmbH", "email": "procurement@nordwind.example",
        "domains": "nordwind.example", "source": "staff", "value_tier": "valued", "lifecycle_stage": "prospect",
        "revenue": "960000", "contact_channels": ["email", "phone"],
        "products": "Pro (2024-01-02)\nEmbed (2025-02-03) x2"}


def test_a_moderator_creates_and_edits_a_customer_through_the_form(app, moderator):
    client = app.test_client(user=moderator)
    created = client.post("/staff/customers/new", data=FORM)
    assert created.status_code == 302
    customer = db.session.scalar(sa.select(Customer))
    assert customer.contact_channels == ["email", "phone"] and len(customer.products) == 2
    page = client.get(created.headers["Location"]).get_data(as_text=True)
    assert "Nordwind Logistik GmbH" in page and "Embed" in page
    edit = client.get(f"/staff/customers/{customer.id}/edit").get_data(as_text=True)
    assert 'value="nordwind.example"' in edit and "Embed (2025-02-03) x2" in edit
    moved = client.post(f"/staff/customers/{customer.id}/edit",
                        data={**FORM, "lifecycle_stage": "customer", "cause": "Signed order 4711"})
    assert moved.status_code == 302
    assert db.session.get(Customer, customer.id).lifecycle_stage == LifecycleStage.CUSTOMER
    timeline = client.get(f"/staff/customers/{customer.id}?kind=changes").get_data(as_text=True)
    assert "Signed order 4711" in timeline


def test_the_form_shows_every_error_and_keeps_what_was_typed(app, moderator):
    page = app.test_client(user=moderator).post("/staff/customers/new", data={
        **FORM, "email": "nope", "revenue": "a lot", "first_purchase_at": "2999-01-01"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Enter a valid email address." in html
    assert "Give the revenue as a number" in html and "A purchase can&#39;t be in the future." in html
    assert 'value="a lot"' in html and db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 0


def test_touchpoints_and_notes_from_the_360_page(app, moderator):
    customer = make_customer("Acme")
    client = app.test_client(user=moderator)
    client.post(f"/staff/customers/{customer.id}/touchpoints", data={
        "channel": "meeting", "summary": "QBR in Hangzhou: wants SSO", "contact": "Wang Fang",
        "occurred_at": "2026-11-30T10:30"})
    client.post(f"/staff/customers/{customer.id}/notes", data={"body": "Promised a demo of SSO."})
    bad = client.post(f"/staff/customers/{customer.id}/touchpoints", data={"channel": "fax", "summary": ""},
                      follow_redirects=True)
    assert "Choose call, email, meeting" in bad.get_data(as_text=True)
    html = client.get(f"/staff/customers/{customer.id}").get_data(as_text=True)
    assert "QBR in Hangzhou: wants SSO" in html and "Promised a demo of SSO." in html and "Wang Fang" in html
    [meeting] = db.session.scalars(sa.select(Activity).where(Activity.verb == str(Verb.TOUCHPOINT_RECORDED))).all()
    assert meeting.occurred_at.isoformat().startswith("2026-11-30T10:30")


def test_the_list_and_the_360_take_a_fixed_number_of_queries(app, moderator, make_user):
    client = app.test_client(user=moderator)
    rep = make_user(Role.SALES)

    def queries(url):
        client.get(url)
        with count_queries() as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    make_customer("First", owner_rep_id=rep.id, relationship_owner_id=moderator.id, domain="first.example")
    few = queries("/staff/customers/")
    for n in range(15):
        make_customer(f"Customer {n}", owner_rep_id=rep.id, relationship_owner_id=moderator.id,
                      domains=[f"c{n}.example"])
    assert queries("/staff/customers/") == few

    customer = make_customer("Busy", domain="busy.example")
    member = established(make_user, email="a@busy.example")
    from portal.crm.linking import link_member
    link_member(moderator, member.id, customer.id)
    ask(member, make_category())
    one = queries(f"/staff/customers/{customer.id}")
    for n in range(10):
        link_member(moderator, established(make_user).id, customer.id)
        ask(member, make_category(f"Category {n}"), title=f"Question number {n} for the team")
    assert queries(f"/staff/customers/{customer.id}") == one


def test_the_import_page_checks_first_then_imports_with_progress(app, moderator):
    client = app.test_client(user=moderator)
    data = ("external_id,name,email\nLC-1,Xingchen,it@xingchen.example\nLC-2,Bad,not-an-email\n" +
            "".join(f"LC-{n},Customer {n},\n" for n in range(3, 1200))).encode()
    preview = client.post("/staff/customers/import", data={"file": (io.BytesIO(data), "customers.csv")},
                          content_type="multipart/form-data")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Enter a valid email address." in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 0
    token = html.split('/staff/customers/import/')[1].split('"')[0]
    done = client.post(f"/staff/customers/import/{token}")
    page = done.get_data(as_text=True)
    assert page.count("<progress") >= 4 and "1198 created" in page and "Line 3" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 1198
    again = client.post(f"/staff/customers/import/{token}", follow_redirects=True)
    assert "That upload has expired" in again.get_data(as_text=True)


def test_a_large_file_is_accepted_by_the_import_only(app, moderator):
    client = app.test_client(user=moderator)
    big = ("name\n" + "".join(f"Customer number {n:07d}\n" for n in range(60_000))).encode()  # ~1.4 MB
    assert len(big) > app.config["MAX_CONTENT_LENGTH"]
    preview = client.post("/staff/customers/import", data={"file": (io.BytesIO(big), "big.csv")},
                          content_type="multipart/form-data")
    assert preview.status_code == 200 and "at most 50000 rows" in preview.get_data(as_text=True)
    elsewhere = client.post("/staff/customers/new", data={"name": "x" * (2 * 1024 * 1024)})
    assert elsewhere.status_code == 413


def test_the_export_opens_in_excel(app, moderator):
    make_customer("星辰零售", external_id="LC-1", value_tier="key")
    make_customer("Other", external_id="LC-2")
    response = app.test_client(user=moderator).get("/staff/customers/export.csv?value_tier=key")
    body = response.get_data(as_text=True)
    assert response.mimetype == "text/csv" and body.startswith("\ufeffexternal_id,name")
    assert "星辰零售" in body and "Other" not in body


def test_bounced_and_stale_records_wait_in_the_verify_queue(app, client, moderator, bearer):
    from datetime import timedelta

    from portal.sqltypes import utcnow

    fresh = make_customer("Fresh", last_verified_at=utcnow() - timedelta(days=10), email="it@fresh.example")
    make_customer("Stale", last_verified_at=utcnow() - timedelta(days=500))
    headers = bearer(moderator)
    assert client.patch(f"/api/v1/customers/{fresh.id}", json={"email_bounced": True},
                        headers=headers).get_json()["email_bounced"] is True
    staff = app.test_client(user=moderator)
    queue = staff.get("/staff/customers/freshness").get_data(as_text=True)
    assert "Fresh" in queue and "Stale" in queue and "bounced" in queue
    staff.post(f"/staff/customers/{fresh.id}/verify", data={"next": "/staff/customers/freshness"})
    record = db.session.get(Customer, fresh.id)
    assert record.email_bounced_at is None and record.last_verified_at > utcnow() - timedelta(minutes=1)
    assert "Fresh" not in staff.get("/staff/customers/freshness").get_data(as_text=True)
