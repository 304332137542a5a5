"""The activity spine: one append-only row and one signal per meaningful action.

Services call `record_activity()` inside their transaction, with the verb's
typed payload (`portal/payloads.py`). Subsystems (rewards, leads, crm,
notifications, outbox) mark their functions with `@listens_to(Verb.X, ...)`
and connect them in their own `init_app()` with `connect_subscribers(module)`;
each hears `(verb, activity=, payload=, actor=, obj=)` and writes its own rows
in the same transaction, so an action and everything it causes commit
together or not at all.
"""
import enum
from datetime import datetime

import sqlalchemy as sa
from blinker import Namespace
from flask import has_request_context, request
from sqlalchemy.orm import Mapped, mapped_column, orm_insert_sentinel

from .errors import API_PREFIX
from .extensions import db
from .sqltypes import UTCDateTime, record_type, utcnow

signals = Namespace()
activity_recorded = signals.signal("activity-recorded")


class Verb(enum.StrEnum):
    REGISTERED = "user.registered"
    LOGGED_IN = "user.logged_in"
    LOGGED_OUT = "user.logged_out"
    VISITED = "user.visited"
    LEVEL_REACHED = "user.level_reached"
    BADGE_AWARDED = "user.badge_awarded"
    ACCOUNTS_LINKED = "user.accounts_linked"
    PROFILE_UPDATED = "user.profile_updated"
    PASSWORD_CHANGED = "user.password_changed"
    PASSWORD_RESET = "user.password_reset"
    ACCOUNT_DELETED = "user.account_deleted"
    # An admin's changes to an account that others must follow (a departed rep's leads go back to the pool).
    USER_SUSPENDED = "user.suspended"
    USER_ROLE_CHANGED = "user.role_changed"
    # Moderators' decisions on a member (portal/moderation/sanctions.py); suspension is USER_SUSPENDED above.
    MEMBER_WARNED = "user.warned"
    MEMBER_SILENCED = "user.silenced"
    SANCTION_LIFTED = "user.sanction_lifted"
    WARNING_ACKNOWLEDGED = "user.warning_acknowledged"
    TOPIC_CREATED = "topic.created"
    TOPIC_EDITED = "topic.edited"
    TOPIC_MOVED = "topic.moved"
    TOPIC_PINNED = "topic.pinned"
    TOPIC_LOCKED = "topic.locked"
    TOPIC_CLOSED_AS_DUPLICATE = "topic.closed_as_duplicate"
    # A moderator moved every post of one topic into another (portal/community/restructure.py); the payload's
    # topic is the one they went to.
    TOPIC_MERGED = "topic.merged"
    # A moderator moved some replies of a topic into a new topic; the payload's topic is the new one.
    TOPIC_SPLIT = "topic.split"
    POST_CREATED = "post.created"
    POST_EDITED = "post.edited"
    POST_DELETED = "post.deleted"
    POST_FLAGGED = "post.flagged"
    POST_HIDDEN = "post.hidden"
    # A hidden post is visible again: a moderator disagreed with its flags or fixed it (portal/moderation).
    POST_RESTORED = "post.restored"
    # Stored but waiting for a moderator before publication (portal/moderation/holds.py); approving it records
    # the TOPIC_CREATED or POST_CREATED that publishing would have.
    POST_HELD = "post.held"
    # A moderator decided a review queue item (portal/moderation/decisions.py); the payload says how.
    REVIEW_DECIDED = "post.review_decided"
    VOTED = "post.voted"
    VOTE_RETRACTED = "post.vote_retracted"
    # A moderator took back a vote (sockpuppets); the voter is in the payload.
    VOTE_REVERSED = "post.vote_reversed"
    ANSWER_ACCEPTED = "answer.accepted"
    ANSWER_UNACCEPTED = "answer.unaccepted"
    # A moderator marked (or unmarked) a staff answer as the official one; the payload says which.
    POST_MARKED_OFFICIAL = "post.marked_official"
    IDEA_STATUS_CHANGED = "idea.status_changed"
    FOLLOWED = "follow.created"
    REFERRAL_INVITED = "referral.invited"
    REFERRAL_SIGNED_UP = "referral.signed_up"
    REFERRAL_CONVERTED = "referral.converted"
    REFERRAL_REJECTED = "referral.rejected"
    CUSTOMER_CREATED = "customer.created"
    CUSTOMER_UPDATED = "customer.updated"
    CUSTOMER_STAGE_CHANGED = "customer.stage_changed"
    CUSTOMER_VERIFIED = "customer.verified"
    CUSTOMER_MEMBER_LINKED = "customer.member_linked"
    CUSTOMER_MEMBER_UNLINKED = "customer.member_unlinked"
    CUSTOMER_NOTE_ADDED = "customer.note_added"
    TOUCHPOINT_RECORDED = "customer.touchpoint_recorded"
    CUSTOMER_TIER_CHANGED = "customer.tier_changed"
    RETENTION_CASE_OPENED = "customer.retention_opened"
    RETENTION_CASE_CLOSED = "customer.retention_closed"
    ANNOUNCEMENT_SENT = "customer.announcement_sent"
    LEAD_CREATED = "lead.created"
    LEAD_CLAIMED = "lead.claimed"
    LEAD_ASSIGNED = "lead.assigned"
    LEAD_STATUS_CHANGED = "lead.status_changed"
    LEAD_RETURNED = "lead.returned"
    LEAD_NOTE_ADDED = "lead.note_added"


class Channel(enum.StrEnum):
    """Where a touchpoint happened, and nothing else: the customer 360 groups by it.

    Actions in the portal's pages are `community`; anything through the JSON
    API is `api` (a member's app or the company's systems); the rest are
    touchpoints outside the community that staff or an import record.
    `record_activity()` works out community/api from the request itself.
    """
    COMMUNITY = "community"
    API = "api"
    EMAIL = "email"
    CALL = "call"
    MEETING = "meeting"
    TICKET = "ticket"
    EVENT = "event"
    VISIT = "visit"
    IMPORT = "import"


# The channels a touchpoint from outside the community can have (staff UI and API).
OUTSIDE_CHANNELS = (Channel.CALL, Channel.EMAIL, Channel.MEETING, Channel.TICKET, Channel.EVENT, Channel.VISIT)


class Activity(db.Model):
    __tablename__ = "activity"
    __table_args__ = (
        # The customer 360 timeline, newest first, paged by (occurred_at, id).
        sa.Index("ix_activity_customer_timeline", "customer_id", "occurred_at", "id"),
        # ...and what happened to the customer's people (votes received, answers accepted, friends referred).
        sa.Index("ix_activity_subject_customer_timeline", "subject_customer_id", "occurred_at", "id"),
        sa.Index("ix_activity_actor_time", "actor_id", "occurred_at"),
        sa.Index("ix_activity_object", "object_type", "object_id"),
        # Analytics: how often a verb happened over time.
        sa.Index("ix_activity_verb_time", "verb", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Lets SQLite insert many rows in one statement and still hand each its id (SQLAlchemy's insertmanyvalues).
    _sentinel: Mapped[int | None] = orm_insert_sentinel()
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    verb: Mapped[str] = mapped_column(sa.String(48))
    object_type: Mapped[str | None] = mapped_column(sa.String(32))
    object_id: Mapped[int | None]
    customer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customers.id"))
    # The member on the receiving end (the voted post's author, the accepted answerer, the referrer)
    # and their customer: the 360 shows what a customer's people received, not only what they did.
    subject_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    subject_customer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customers.id"))
    channel: Mapped[str] = mapped_column(sa.String(16), default=Channel.COMMUNITY)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    payload: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    @property
    def data(self):
        """The payload as its verb's model (see portal/payloads.py)."""
        from .payloads import PAYLOADS

        return PAYLOADS[Verb(self.verb)].model_validate(self.payload)

    def __repr__(self):
        return f"<Activity {self.verb} actor={self.actor_id} {self.object_type}:{self.object_id}>"


def record_activity(verb, *, actor=None, obj=None, customer_id=None, channel=None,
                    payload=None, occurred_at=None):
    """Add one activity row to the current transaction and announce it.

    `payload` must be the model portal/payloads.py declares for `verb` (None
    for a verb whose model needs nothing); anything else is a TypeError, so
    a malformed payload never reaches a subscriber or a webhook. The row is
    flushed before the signal so subscribers can point at its id. The
    customer defaults to the actor's customer account, the subject to the
    member the payload names as its `subject_field` and their account (both
    re-attributed when a member is linked or unlinked later:
    crm.linking.link_member); the channel to where this request came in
    (see Channel).
    """
    [activity] = record_activities([dict(verb=verb, actor=actor, obj=obj, customer_id=customer_id, channel=channel,
                                         payload=payload, occurred_at=occurred_at)])
    return activity


def record_activities(entries):
    """record_activity() for many at once (an import's batch), inside the caller's transaction: one flush,
    then each signal in order.

    `entries` are dicts of record_activity()'s keyword arguments (`verb`
    included). Every payload is checked before anything is added.
    """
    prepared = []
    for entry in entries:
        verb, actor, obj = Verb(entry["verb"]), entry.get("actor"), entry.get("obj")
        payload = _checked_payload(verb, entry.get("payload"))
        customer_id = entry.get("customer_id")
        if customer_id is None and actor is not None:
            customer_id = getattr(actor, "customer_id", None)
        subject = _subject_of(payload)
        activity = Activity(
            subject_user_id=subject.id if subject is not None else None,
            subject_customer_id=subject.customer_id if subject is not None else None,
            actor_id=actor.id if actor is not None else None,
            verb=str(verb),
            object_type=record_type(obj) if obj is not None else None,
            object_id=obj.id if obj is not None else None,
            customer_id=customer_id,
            channel=str(entry.get("channel") or _channel_of_this_request()),
            occurred_at=entry.get("occurred_at") or utcnow(),
            payload=payload.model_dump(mode="json"),
        )
        prepared.append((verb, activity, payload, actor, obj))
    db.session.add_all(activity for _verb, activity, *_rest in prepared)
    db.session.flush()
    for verb, activity, payload, actor, obj in prepared:
        activity_recorded.send(verb, activity=activity, payload=payload, actor=actor, obj=obj)
    return [activity for _verb, activity, *_rest in prepared]


def _subject_of(payload):
    subject_id = getattr(payload, payload.subject_field) if payload.subject_field else None
    if subject_id is None:
        return None
    from .auth.models import User  # the spine sits below every feature, accounts included

    return db.session.get(User, subject_id)


def _channel_of_this_request():
    if has_request_context() and request.path.startswith(API_PREFIX):
        return Channel.API
    return Channel.COMMUNITY


def _checked_payload(verb, payload):
    from .payloads import PAYLOADS

    model = PAYLOADS[Verb(verb)]
    if payload is None:
        return model()
    if type(payload) is not model:
        raise TypeError(f"{verb} takes a {model.__name__} payload, not {type(payload).__name__}")
    return payload


# -- wiring -----------------------------------------------------------------------------------------

def listens_to(*verbs):
    """Mark a function as a subscriber of `verbs`; it hears nothing until connect_subscribers() wires it."""
    def mark(function):
        function.listens_to = (*getattr(function, "listens_to", ()), *verbs)
        return function
    return mark


def connect_subscribers(*modules):
    """Connect every @listens_to function of `modules` to its verbs (a feature's init_app calls this)."""
    for module in modules:
        for function in vars(module).values():
            for verb in getattr(function, "listens_to", ()):
                activity_recorded.connect(function, sender=verb, weak=False)


def subscribers_of(verb):
    """The functions that hear `verb`, as "module.function" names, sorted."""
    receivers = activity_recorded.receivers_for(Verb(verb))
    return sorted(f"{r.__module__.removeprefix('portal.')}.{r.__qualname__}" for r in receivers)
