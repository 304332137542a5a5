"""Announcements to the members of segments, with consent, a frequency cap and no duplicates.

A draft is written by staff, previewed, then sent: sending marks it and
enqueues one outbox message, whose handler works out the recipients at
that moment (`recipients()`, the same function the preview shows) under a
lock, so two announcements sent at once can't both pass one member's cap.
Each member reached on a channel gets one AnnouncementDelivery row (unique
per announcement, member and channel): a retried message never sends twice.
"""
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from .. import outbox
from ..audit import audit
from ..auth.models import User, UserStatus
from ..community import markdown
from ..emails import queue_mail
from ..errors import Conflict, Invalid, NotFound
from ..events import Channel, Verb, record_activity
from ..extensions import db
from ..idempotency import insert_unless_exists, one_at_a_time
from ..notifications.models import Notification
from ..payloads import AnnouncementSent
from ..permissions import Role
from ..sqltypes import utcnow
from ..text import weighted_length
from .models import Announcement, AnnouncementDelivery, Customer, Segment
from .rules import crm_rules
from .segments import segment_customers, segment_members

# The channels an announcement goes out on; a member may opt out of each (User.announcement_opt_outs).
CHANNELS = {"notification": _l("In the community"), "email": _l("By email")}

TITLE_MIN, TITLE_MAX = 3, 200
BODY_MAX = 20_000
SEGMENTS_MAX = 10
TOPIC = "crm.announcement"

# Why a member is left out, in the order they are checked. The first four are per channel (a member
# opted out of email may still get the notification); the cap and the account are per member.
EXCLUSIONS = {
    "inactive": _l("Account suspended or deleted"),
    "opted_out_notification": _l("Opted out of announcements in the community"),
    "opted_out_email": _l("Opted out of announcements by email"),
    "customer_opted_out_email": _l("Their customer record is opted out of email"),
    "email_bounced": _l("Email to their customer bounced"),
    "capped": _l("Frequency cap reached"),
}


def channel_label(channel):
    return CHANNELS.get(channel, channel)


def exclusion_label(reason):
    return EXCLUSIONS.get(reason, reason)


# -- writing ------------------------------------------------------------------------------------------

def check_draft(*, title, body, segment_ids, channels):
    """The cleaned (title, body, segment ids, channels), or Invalid naming every bad field."""
    errors = {}
    title = unicodedata.normalize("NFC", " ".join((title or "").split()))
    title = "".join(ch for ch in title if unicodedata.category(ch) not in {"Cc", "Cf"})
    if weighted_length(title) < TITLE_MIN:
        errors["title"] = _l("Write a title of at least %(n)d characters.", n=TITLE_MIN)
    elif len(title) > TITLE_MAX:
        errors["title"] = _l("Keep the title to %(n)d characters.", n=TITLE_MAX)
    body = (body or "").replace("\x00", "").replace("\r\n", "\n").strip()
    if not body:
        errors["body"] = _l("Write what you want to announce.")
    elif len(body) > BODY_MAX:
        errors["body"] = _l("Keep the announcement to %(n)d characters.", n=BODY_MAX)
    segment_ids = _checked_segment_ids(segment_ids, errors)
    channels = [channel for channel in CHANNELS if channel in set(channels or ())]
    if not channels or len(channels) != len(set(channels or ())):
        errors["channels"] = _l("Choose in the community, by email, or both.")
    if errors:
        raise Invalid("invalid_announcement", fields=errors)
    return title, body, segment_ids, channels


def _checked_segment_ids(segment_ids, errors):
    try:
        wanted = list(dict.fromkeys(int(value) for value in segment_ids or ()))
    except (TypeError, ValueError):
        wanted = None
    if not wanted:
        errors["segments"] = _l("Choose at least one segment.")
        return []
    if len(wanted) > SEGMENTS_MAX:
        errors["segments"] = _l("Choose at most %(n)d segments.", n=SEGMENTS_MAX)
        return []
    found = set(db.session.scalars(sa.select(Segment.id).where(Segment.id.in_(wanted))))
    if found != set(wanted):
        errors["segments"] = _l("A chosen segment no longer exists.")
    return wanted


def create_draft(actor, *, title, body, segment_ids, channels):
    """A new draft announcement, checked and rendered (body as sanitised Markdown); audited, committed."""
    title, body, segment_ids, channels = check_draft(title=title, body=body, segment_ids=segment_ids,
                                                     channels=channels)
    announcement = Announcement(title=title, body=body, html=markdown.render(body).html, segment_ids=segment_ids,
                                channels=channels, created_by_id=actor.id, summary={})
    db.session.add(announcement)
    db.session.flush()
    audit(actor, "announcement.created", announcement, title=title, segment_ids=segment_ids, channels=channels)
    db.session.commit()
    return announcement


def update_draft(actor, announcement_id, *, title, body, segment_ids, channels):
    """Change a draft (Conflict once it is being sent or sent); audited, committed."""
    announcement = _draft_for_update(announcement_id)
    title, body, segment_ids, channels = check_draft(title=title, body=body, segment_ids=segment_ids,
                                                     channels=channels)
    announcement.title, announcement.body, announcement.html = title, body, markdown.render(body).html
    announcement.segment_ids, announcement.channels = segment_ids, channels
    audit(actor, "announcement.updated", announcement, title=title, segment_ids=segment_ids, channels=channels)
    db.session.commit()
    return announcement


def _draft_for_update(announcement_id):
    announcement = db.session.get(Announcement, announcement_id, with_for_update=True)
    if announcement is None:
        raise NotFound()
    if state_of(announcement) != "draft":
        raise Conflict("announcement_not_draft", _l("This announcement is already being sent or was sent."))
    return announcement


def get_announcement(announcement_id):
    announcement = db.session.get(Announcement, announcement_id)
    if announcement is None:
        raise NotFound()
    return announcement


def state_of(announcement):
    """draft, sending (queued in the outbox) or sent."""
    if announcement.sent_at is not None:
        return "sent"
    return "sending" if (announcement.summary or {}).get("queued_at") else "draft"


# -- who receives it ----------------------------------------------------------------------------------

@dataclass
class Recipients:
    """Who gets an announcement on each channel, and who is left out and why."""
    channels: dict = field(default_factory=dict)       # channel -> [User], in id order
    excluded: Counter = field(default_factory=Counter)  # reason (EXCLUSIONS) -> how many
    folded: int = 0        # copies not sent because a member is in more than one targeted segment
    left_out: int = 0      # members in the segments who get nothing at all

    def count(self, channel):
        return len(self.channels.get(channel, ()))

    @property
    def members(self):
        """Every member reached on at least one channel, once."""
        unique = {user.id: user for users in self.channels.values() for user in users}
        return [unique[user_id] for user_id in sorted(unique)]

    def summary(self):
        """What the announcement keeps of it once sent (Announcement.summary)."""
        return {"reached": {channel: len(users) for channel, users in self.channels.items()},
                "members_reached": len(self.members), "left_out": self.left_out,
                "excluded": {reason: self.excluded[reason] for reason in EXCLUSIONS if self.excluded[reason]},
                "folded": self.folded}


def recipients(announcement, now=None):
    """Who would receive `announcement` now on each of its channels, and who is left out, by reason.

    The preview shows this and sending delivers exactly this: a member of
    any targeted segment, active, who has not opted out of the channel (and,
    for email, whose customer has not opted out of email nor bounced), and
    who has not had `announcement_cap` announcements in the last
    `announcement_cap_days` days (an announcement counts once, whatever its
    channels; this one's own deliveries never count, so a retry sees the
    same). A member in two segments is counted and reached once.
    """
    now = now or utcnow()
    rules = crm_rules()
    # A segment deleted since the draft was written is left out, rather than failing the send.
    segments = db.session.scalars(sa.select(Segment).where(Segment.id.in_(announcement.segment_ids or ()))
                                  .order_by(Segment.id)).all()
    found = Recipients(channels={channel: [] for channel in announcement.channels})
    if not segments:
        return found
    segment_ids = [segment.id for segment in segments]
    member_ids = segment_members(segment_ids, now=now).with_only_columns(User.id).order_by(None)
    members = db.session.scalars(sa.select(User).where(User.id.in_(member_ids)).order_by(User.id)
                                 .options(selectinload(User.customer))).all()
    found.folded = _copies_in_each_segment(segment_ids, now) - len(members)
    inactive = _inactive_members(segments, now)
    found.excluded["inactive"] = inactive
    recent = _recent_announcements(member_ids, announcement.id, now - timedelta(days=rules.announcement_cap_days))
    for member in members:
        channels = []
        for channel in announcement.channels:
            reason = _channel_refused(member, channel)
            if reason:
                found.excluded[reason] += 1
            else:
                channels.append(channel)
        if channels and recent.get(member.id, 0) >= rules.announcement_cap:
            found.excluded["capped"] += 1
            channels = []
        for channel in channels:
            found.channels[channel].append(member)
        found.left_out += not channels
    found.left_out += inactive
    return found


def _channel_refused(member, channel):
    """The reason `member` gets nothing on `channel`, or None."""
    if channel in (member.announcement_opt_outs or ()):
        return f"opted_out_{channel}"
    if channel == "email" and member.customer is not None:
        if "email" in (member.customer.opt_outs or ()):
            return "customer_opted_out_email"
        if member.customer.email_bounced_at is not None:
            return "email_bounced"
    return None


def _copies_in_each_segment(segment_ids, now):
    """How many members the segments hold added up, one member counted once per segment."""
    counts = [sa.select(sa.func.count()).select_from(segment_members([segment_id], now=now).order_by(None)
                                                     .subquery()).scalar_subquery()
              for segment_id in segment_ids]
    return db.session.scalar(sa.select(sum(counts[1:], counts[0])))


def _inactive_members(segments, now):
    """Suspended or deleted members of customers in any of the segments (segment_members() leaves them out)."""
    customer_ids = sa.union(*(segment_customers(segment, now=now).with_only_columns(Customer.id).order_by(None)
                              for segment in segments)).subquery()
    return db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
        User.customer_id.in_(sa.select(customer_ids.c[0])), User.role == Role.MEMBER,
        User.status != UserStatus.ACTIVE))


def _recent_announcements(member_ids, announcement_id, since):
    """{member id: how many other announcements reached them since `since`}."""
    rows = db.session.execute(
        sa.select(AnnouncementDelivery.user_id, sa.func.count(sa.distinct(AnnouncementDelivery.announcement_id)))
        .where(AnnouncementDelivery.user_id.in_(member_ids), AnnouncementDelivery.created_at >= since,
               AnnouncementDelivery.announcement_id != announcement_id)
        .group_by(AnnouncementDelivery.user_id))
    return dict(rows.all())


# -- sending ------------------------------------------------------------------------------------------

def send(actor, announcement_id):
    """Queue a draft for sending: marked as being sent and one outbox message, in one transaction; audited.

    Conflict if it is already being sent or sent; Invalid if a segment it
    targets was deleted since. Who receives it is worked out by the outbox
    handler when it runs (deliver_announcement).
    """
    announcement = _draft_for_update(announcement_id)
    check_draft(title=announcement.title, body=announcement.body, segment_ids=announcement.segment_ids,
                channels=announcement.channels)
    now = utcnow()
    announcement.summary = {"queued_at": now.isoformat(), "queued_by": actor.id}
    outbox.enqueue(TOPIC, {"announcement_id": announcement.id, "sender_id": actor.id})
    audit(actor, "announcement.sent", announcement, now=now, title=announcement.title,
          segment_ids=announcement.segment_ids, channels=announcement.channels)
    db.session.commit()
    return announcement


def deliver_announcement(message):
    """The outbox handler of TOPIC: deliver the announcement (see deliver())."""
    # Its own app context, so its own session: in inline mode without threads the handler runs inside the
    # enqueuing session's after-commit hook, where that session may not emit SQL.
    with current_app.app_context():
        deliver(message.payload["announcement_id"], sender_id=message.payload.get("sender_id"))


def deliver(announcement_id, *, sender_id=None, now=None):
    """Reach every recipient once per channel, log it, and mark the announcement sent; committed.

    Runs under the "announcements" lock, so no two announcements count one
    member's cap at once. Safe to run again: an announcement already sent is
    left alone, and a delivery row that exists is never sent a second time.
    """
    one_at_a_time("announcements")
    announcement = db.session.get(Announcement, announcement_id, with_for_update=True)
    if announcement is None or announcement.sent_at is not None:
        db.session.rollback()
        return
    now = now or utcnow()
    found = recipients(announcement, now)
    reached = defaultdict(lambda: {"members": set(), "channels": set()})
    for channel, members in found.channels.items():
        for member in members:
            if _deliver_once(announcement, member, channel, now):
                reached[member.customer_id]["members"].add(member.id)
                reached[member.customer_id]["channels"].add(channel)
    _record_on_timelines(announcement, reached, db.session.get(User, sender_id) if sender_id else None, now)
    announcement.summary = {**(announcement.summary or {}), **found.summary()}
    announcement.sent_at = now
    db.session.commit()


def _deliver_once(announcement, member, channel, now):
    """Log and send one delivery; False if this member already had it on this channel."""
    logged = insert_unless_exists(AnnouncementDelivery, {
        "announcement_id": announcement.id, "user_id": member.id, "customer_id": member.customer_id,
        "channel": channel, "created_at": now, "sent_at": now}, key=("announcement_id", "user_id", "channel"))
    if not logged:
        return False
    if channel == "notification":
        db.session.add(Notification(user_id=member.id, kind="announcement", created_at=now,
                                    data={"announcement_id": announcement.id, "title": announcement.title}))
    else:
        from ..urls import public_url

        queue_mail(member, announcement.title, "announcement", announcement=announcement,
                   link=public_url("member_announcements.read", announcement_id=announcement.id),
                   settings_link=public_url("auth.profile", _anchor="announcements"))
    return True


def _record_on_timelines(announcement, reached, sender, now):
    """One ANNOUNCEMENT_SENT per customer reached, naming its members and the channels used."""
    for customer_id, what in sorted(reached.items(), key=lambda item: item[0] or 0):
        if customer_id is None:
            continue
        channels = [channel for channel in CHANNELS if channel in what["channels"]]
        record_activity(Verb.ANNOUNCEMENT_SENT, actor=sender, obj=announcement, customer_id=customer_id,
                        channel=Channel.COMMUNITY if "notification" in channels else Channel.EMAIL,
                        occurred_at=now,
                        payload=AnnouncementSent(announcement_id=announcement.id, title=announcement.title,
                                                 channels=channels, member_ids=sorted(what["members"])))


# -- reading ------------------------------------------------------------------------------------------

def announcements_query():
    """Every announcement, drafts and sent, newest first."""
    return (sa.select(Announcement).options(selectinload(Announcement.created_by))
            .order_by(Announcement.created_at.desc(), Announcement.id.desc()))


def segment_names(announcements):
    """{segment id: name} of every segment these announcements target, in one query."""
    ids = {segment_id for announcement in announcements for segment_id in announcement.segment_ids or ()}
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(Segment.id, Segment.name).where(Segment.id.in_(ids))).all())


def deliveries_query(announcement):
    """The log of an announcement: who got it on which channel, with their customer, by member then channel."""
    return (sa.select(AnnouncementDelivery).where(AnnouncementDelivery.announcement_id == announcement.id)
            .options(selectinload(AnnouncementDelivery.user),
                     selectinload(AnnouncementDelivery.user).selectinload(User.customer))
            .order_by(AnnouncementDelivery.user_id, AnnouncementDelivery.channel))


LOG_COLUMNS = ("member_id", "member", "email", "customer_id", "customer", "channel", "sent_at")


def log_rows(announcement):
    """CSV text of the delivery log, piece by piece (crm.csvio.csv_text)."""
    from .csvio import csv_text

    def rows():
        for delivery in db.session.scalars(deliveries_query(announcement)):
            user, customer = delivery.user, delivery.user.customer
            yield (user.id, user.name, user.email, customer.id if customer else None,
                   customer.name if customer else None, delivery.channel,
                   delivery.sent_at.isoformat() if delivery.sent_at else None)

    return csv_text(LOG_COLUMNS, rows())


def announcement_for_member(user, announcement_id):
    """An announcement `user` received on any channel; NotFound for anyone else (staff included)."""
    received = sa.select(AnnouncementDelivery.id).where(AnnouncementDelivery.announcement_id == announcement_id,
                                                        AnnouncementDelivery.user_id == user.id).exists()
    announcement = db.session.scalar(sa.select(Announcement).where(Announcement.id == announcement_id, received))
    if announcement is None:
        raise NotFound()
    return announcement


# -- the member's choice ------------------------------------------------------------------------------

def set_opt_outs(user, opt_outs):
    """Store the announcement channels `user` says no to (a list of CHANNELS keys); committed, not audited."""
    opt_outs = list(opt_outs or ())
    if any(channel not in CHANNELS for channel in opt_outs):
        raise Invalid("invalid_opt_outs", fields={"opt_outs": _l("Choose in the community, by email, or both.")})
    user.announcement_opt_outs = [channel for channel in CHANNELS if channel in opt_outs]
    db.session.commit()
    return user


def init_app(app):
    """Register the outbox handlers announcements are sent through."""
    outbox.register_handler(TOPIC, deliver_announcement, lane=outbox.Lane.MAIL)
