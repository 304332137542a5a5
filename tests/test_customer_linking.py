"""Which customer a member belongs to: by email, by company domain (never a consumer mail domain), by staff;
conflicts wait for a decision; linking moves the member's whole history, given and received."""
import pytest
import sqlalchemy as sa

from portal.auth import services
from portal.auth.models import User
from portal.community import answers, votes
from portal.crm import linking, records
from portal.crm.models import Customer
from portal.errors import NotFound
from portal.events import Activity, Verb
from portal.extensions import db
from tests.community_factories import answer, ask, established, make_category
from tests.crm_factories import make_customer

STRONG = "violet kettle mountain 42"


def register(email):
    return services.register(email=email, password=STRONG, name="New Member")


@pytest.mark.parametrize("domain", ["gmail.com", "qq.com", "163.com", "outlook.com", "126.com", "foxmail.com"])
def test_consumer_mail_never_links_by_domain(app, domain):
    make_customer("Claims a consumer domain", domain=domain)
    assert register(f"someone@{domain}").customer_id is None


def test_registration_links_by_exact_email_first_then_by_domain(app):
    by_domain = make_customer("Xingchen", domain="xingchen.example")
    by_email = make_customer("Xingchen's IT", email="it@xingchen.example")
    assert register("it@xingchen.example").customer_id == by_email.id
    assert register("wang@xingchen.example").customer_id == by_domain.id
    joined = db.session.scalar(sa.select(Activity).where(Activity.verb == str(Verb.CUSTOMER_MEMBER_LINKED)))
    assert joined.data.how == "email" and joined.customer_id == by_email.id


def test_a_domain_two_records_claim_links_nobody_and_waits_for_staff(app, moderator):
    first = make_customer("Acme Shanghai", domain="acme.example")
    second = make_customer("Acme Berlin", domain="acme.example")
    waiting = register("li@acme.example")
    assert waiting.customer_id is None
    [conflict] = linking.conflicts()
    assert (conflict.kind, conflict.value) == ("domain", "acme.example")
    assert [c.id for c in conflict.customers] == [first.id, second.id] and conflict.members == [waiting]
    linking.release_domain(moderator, second.id, "acme.example")
    assert linking.conflicts() == []
    assert db.session.get(User, waiting.id).customer_id == first.id  # the domain is first's alone now


def test_an_import_or_edit_links_the_members_already_waiting(app, moderator):
    early = register("zhang@nordwind.example")
    customer = records.create_customer(moderator, {"name": "Nordwind", "domains": "nordwind.example"})
    assert db.session.get(User, early.id).customer_id == customer.id


def test_linking_moves_what_the_member_did_and_what_they_received(app, moderator, make_user):
    """Votes on their posts and their accepted answers follow them to the customer, and back out again."""
    customer = make_customer("Acme")
    helper, asker, voter = established(make_user), established(make_user), established(make_user)
    topic = ask(asker, make_category())
    reply = answer(helper, topic)
    votes.cast(voter, reply.id, 1)
    answers.accept(asker, topic.id, reply.id)

    def attributed():
        done = db.session.scalars(sa.select(Activity.verb).where(
            Activity.customer_id == customer.id, Activity.actor_id == helper.id,
            Activity.verb != str(Verb.BADGE_AWARDED))).all()
        received = db.session.scalars(sa.select(Activity.verb).where(Activity.subject_customer_id == customer.id)).all()
        return sorted(done), sorted(received)

    assert attributed() == ([], [])
    linking.link_member(moderator, helper.id, customer.id)
    assert attributed() == ([str(Verb.POST_CREATED)], [str(Verb.ANSWER_ACCEPTED), str(Verb.VOTED)])
    assert db.session.get(Customer, customer.id).last_touch_at is not None
    linking.unlink_member(moderator, helper.id, customer.id)
    assert attributed() == ([], [])


def test_staff_link_by_email_and_only_members(app, moderator, make_user):
    customer = make_customer("Acme")
    member = make_user(email="wang@example.org")
    linking.link_member_by_email(moderator, "WANG@example.org", customer.id)
    assert db.session.get(User, member.id).customer_id == customer.id
    with pytest.raises(NotFound):
        linking.link_member(moderator, moderator.id, customer.id)
    with pytest.raises(NotFound):
        linking.unlink_member(moderator, member.id, make_customer("Other").id)


def test_a_member_confirms_or_corrects_their_company_once_a_year(app, make_user):
    """A gentle prompt on the profile page when the record is a year old; "not now" puts it away."""
    from datetime import timedelta

    from portal.sqltypes import utcnow

    customer = make_customer("Xingchen", company="星辰零售", domain="xingchen.example",
                             last_verified_at=utcnow() - timedelta(days=400), revenue=1280000)
    member = make_user(email="wang@xingchen.example", customer_id=customer.id)
    client = app.test_client(user=member)
    page = client.get("/account/profile").get_data(as_text=True)
    assert "still right?" in page and "星辰零售" in page and "1280000" not in page
    client.post("/account/company/", data={"company": "星辰零售集团", "phone": "+86 571 8801 2345",
                                           "region": "East China", "industry": "Retail", "size": "",
                                           "correct": "1"})
    record = db.session.get(Customer, customer.id)
    assert record.company == "星辰零售集团" and record.last_verified_at > utcnow() - timedelta(minutes=1)
    verified = db.session.scalar(sa.select(Activity).where(Activity.verb == str(Verb.CUSTOMER_VERIFIED)))
    assert verified.actor_id == member.id and verified.data.by_member
    assert "still right?" not in client.get("/account/profile").get_data(as_text=True)
    record.last_verified_at = utcnow() - timedelta(days=400)
    db.session.commit()
    client.post("/account/company/later")
    assert "still right?" not in client.get("/account/profile").get_data(as_text=True)
    staff_page = app.test_client(user=make_user(email="x@other.example")).get("/account/profile").get_data(as_text=True)
    assert "still right?" not in staff_page


def test_linking_an_address_nobody_has_is_a_field_error(app, moderator):
    customer = make_customer("Acme")
    from portal.errors import Invalid

    with pytest.raises(Invalid) as refused:
        linking.link_member_by_email(moderator, "ghost@example.org", customer.id)
    assert "email" in refused.value.fields
    page = app.test_client(user=moderator).post(f"/staff/customers/{customer.id}/members",
                                                data={"email": "ghost@example.org"}, follow_redirects=True)
    assert "No member has this address." in page.get_data(as_text=True)
