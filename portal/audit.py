"""The audit log: every staff write, who did it, to what, from where."""
from datetime import datetime

import sqlalchemy as sa
from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, orm_insert_sentinel, relationship

from .extensions import db
from .sqltypes import UTCDateTime, record_type, utcnow

ACTION_LABELS = {
    "user.created": _l("Account created"),
    "user.role_changed": _l("Role changed"),
    "user.team_changed": _l("Sales team changed"),
    "user.suspended": _l("Account suspended"),
    "user.reactivated": _l("Account reactivated"),
    "team.created": _l("Sales team created"),
    "api_token.created": _l("API token created"),
    "api_token.revoked": _l("API token revoked"),
    "category.created": _l("Category created"),
    "category.updated": _l("Category changed"),
    "customer.stage_changed": _l("Lifecycle stage changed"),
    "accounts.linked": _l("Accounts linked"),
    "accounts.unlinked": _l("Accounts unlinked"),
    "votes.reversed_between": _l("Votes between linked accounts reversed"),
    "settings.rewards_changed": _l("Point rules and levels changed"),
    "settings.crm_rules_changed": _l("Customer rules changed"),
    "segment.created": _l("Segment created"),
    "segment.updated": _l("Segment changed"),
    "segment.deleted": _l("Segment deleted"),
    "retention.closed": _l("Retention case closed"),
    "retention.reassigned": _l("Retention case reassigned"),
    "announcement.created": _l("Announcement drafted"),
    "announcement.updated": _l("Announcement draft changed"),
    "announcement.sent": _l("Announcement sent"),
    "customer.created": _l("Customer record created"),
    "customer.updated": _l("Customer record changed"),
    "customer.verified": _l("Customer details confirmed"),
    "customer.member_linked": _l("Member linked to a customer"),
    "customer.member_unlinked": _l("Member unlinked from a customer"),
    "customer.note_added": _l("Customer note added"),
    "customer.touchpoint_recorded": _l("Touchpoint recorded"),
    "settings.lead_rules_changed": _l("Lead rules changed"),
    "post.marked_official": _l("Answer marked official"),
    "post.unmarked_official": _l("Official answer mark taken off"),
    "member_note.added": _l("Staff note added"),
    "lead.post_flagged": _l("Post flagged as a lead"),
    "lead.claimed": _l("Lead claimed"),
    "lead.assigned": _l("Lead assigned"),
    "lead.status_changed": _l("Lead moved to another stage"),
    "lead.returned": _l("Lead returned to the pool"),
    "webhook.created": _l("Webhook created"),
    "webhook.updated": _l("Webhook changed"),
    "webhook.deleted": _l("Webhook deleted"),
    "webhook.secret_rotated": _l("Webhook secret rotated"),
    "webhook.redelivered": _l("Webhook delivery sent again"),
    "webhook.pinged": _l("Webhook test ping sent"),
    "lead.note_added": _l("Lead note added"),
    "topic.moved": _l("Topic moved to another category"),
    "topic.pinned": _l("Topic pinned or unpinned"),
    "topic.locked": _l("Topic locked or unlocked"),
    "topic.closed_as_duplicate": _l("Topic closed as a duplicate or reopened"),
    "topic.edited": _l("Topic title or tags changed by staff"),
    "topic.merged": _l("Topics merged"),
    "topic.split": _l("Replies split into a new topic"),
    "topic.idea_status_changed": _l("Idea status changed"),
    "topic.answer_changed": _l("Accepted answer changed by staff"),
    "post.edited": _l("Post edited by staff"),
    "post.deleted": _l("Post deleted by staff"),
    "review.approved": _l("Post approved in the review queue"),
    "review.hidden": _l("Post hidden from the review queue"),
    "review.deleted": _l("Post deleted from the review queue"),
    "review.edited": _l("Post edited and kept from the review queue"),
    "review.locked": _l("Topic locked from the review queue"),
    "review.moved": _l("Topic moved from the review queue"),
    "review.merged": _l("Topic merged from the review queue"),
    "review.split": _l("Replies split off from the review queue"),
    "settings.moderation_rules_changed": _l("Moderation rules changed"),
    "member.warned": _l("Member warned"),
    "member.silenced": _l("Member silenced"),
    "sanction.lifted": _l("Warning, silence or suspension lifted"),
}


class AuditEntry(db.Model):
    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Lets SQLite insert many rows in one statement and still hand each its id (SQLAlchemy's insertmanyvalues).
    _sentinel: Mapped[int | None] = orm_insert_sentinel()
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(64))
    target_type: Mapped[str | None] = mapped_column(sa.String(32))
    target_id: Mapped[int | None]
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    ip_address: Mapped[str | None] = mapped_column(sa.String(45))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    actor = relationship("User", foreign_keys=[actor_id])

    @property
    def label(self):
        return ACTION_LABELS.get(self.action, self.action)


def audit(actor, action, target=None, *, now=None, **details):
    """Add an audit entry to the current transaction. `actor` None means the CLI; `now` defaults to the clock."""
    entry = AuditEntry(
        occurred_at=now or utcnow(),
        actor_id=actor.id if actor is not None else None,
        action=action,
        target_type=record_type(target) if target is not None else None,
        target_id=target.id if target is not None else None,
        details=details,
        ip_address=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry
