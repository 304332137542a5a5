"""Every activity belongs to the right customer and says where it happened."""
import pytest
import sqlalchemy as sa

from portal.audit import AuditEntry
from portal.crm.linking import link_member
from portal.errors import Forbidden, NotFound
from portal.events import Activity, Verb
from portal.extensions import db
from tests.community_factories import answer, ask, established, make_category
from tests.crm_factories import make_customer


def _customers_of(user):
    return {a.customer_id for a in db.session.scalars(sa.select(Activity).where(Activity.actor_id == user.id))}


@pytest.fixture
def acme(app):
    return make_customer("Acme Logistics", domain="acme-logistics.example")


def test_linking_a_member_moves_their_whole_history_to_the_customer(make_user, moderator, acme):
    """A member who joined with a private address and posted for weeks is then linked to their employer."""
    member = established(make_user, email="li.wei@gmail.com")
    topic = ask(member, make_category("Questions"))
    answer(established(make_user), topic)
    answer(member, topic, "Thanks, that worked")
    assert _customers_of(member) == {None}

    link_member(moderator, member.id, acme.id)
    assert _customers_of(member) == {acme.id}
    ask(member, topic.category, title="One more thing about exports")  # new activity follows the link
    assert _customers_of(member) == {acme.id}
    [entry] = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "customer.member_linked")).all()
    assert entry.details == {"before": None, "after": acme.id, "how": "staff"}

    link_member(moderator, member.id, None)
    assert _customers_of(member) == {None}


def test_only_staff_who_edit_customers_link_members(make_user, sales, acme):
    member = established(make_user)
    for actor in (member, sales):
        with pytest.raises(Forbidden):
            link_member(actor, member.id, acme.id)


def test_linking_needs_a_real_member_and_customer(moderator, make_user, acme):
    with pytest.raises(NotFound):
        link_member(moderator, moderator.id, acme.id)  # staff accounts are not a customer's people
    with pytest.raises(NotFound):
        link_member(moderator, established(make_user).id, 999_999)


def test_the_channel_says_where_it_happened(app, client, make_user, bearer):
    """The same action is `community` from a page and `api` through the API."""
    qa = make_category("Questions")
    member = established(make_user)
    web = app.test_client(user=member).post("/new", data={"category_id": qa.id, "kind": "question",
                                                           "title": "Asked on the web page", "body": "Body"})
    assert web.status_code == 302
    api = client.post("/api/v1/topics", headers=bearer(member),
                      json={"category_id": qa.id, "kind": "question", "title": "Asked through the API",
                            "body": "Body"})
    assert api.status_code == 201
    channels = dict(db.session.execute(sa.select(Activity.object_id, Activity.channel)
                                       .where(Activity.verb == Verb.TOPIC_CREATED)).all())
    assert channels == {_topic_id(web): "community", api.get_json()["id"]: "api"}


def _topic_id(response):
    return int(response.headers["Location"].split("/t/")[1].split("#")[0].split("?")[0])
