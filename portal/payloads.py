"""What each activity carries beyond its actor, object, customer, channel and time: one model per verb.

This module is the contract. Subscribers read these attributes, webhooks
will publish them as they are (`model_dump(mode="json")`, the same JSON the
`activity.payload` column holds), and `record_activity()` refuses a payload
of the wrong model for its verb. A field is never renamed or removed once
published; add new ones with a default.

Every event about a topic or one of its posts carries `topic_id`, so a
subscriber that cares about topics (page caches, search, live pushes) needs
no other lookup.
"""
from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from .events import Verb


class Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    # The field naming the member on the receiving end (activity.subject_user_id), if any.
    subject_field: ClassVar[str | None] = None


class NoDetails(Payload):
    """Nothing beyond who did it, to what, and when."""


# -- accounts ---------------------------------------------------------------------------------------

class Registered(Payload):
    referral_code: str | None = Field(default=None, description="The code typed or carried by a share link.")


class Visited(Payload):
    streak: int = Field(description="Days in a row with a visit, this one included.")
    day: date = Field(description="The UTC day of the visit.")


class LevelReached(Payload):
    level: int = Field(description="The level's number, 1 being the first.")
    points: int = Field(description="The member's points when they reached it.")


class BadgeAwarded(Payload):
    badge: str = Field(description="The badge's key.")


class AccountsLinked(Payload):
    user_ids: list[int] = Field(description="The two accounts a moderator marked as one person's.")


class ProfileUpdated(Payload):
    fields: list[str] = Field(description="Names of the profile fields that changed.")


class UserSuspended(Payload):
    subject_field = "member_id"
    reason: str = ""
    member_id: int | None = Field(default=None, description="The suspended account.")
    sanction_id: int | None = Field(default=None, description="The suspension's record (portal/moderation).")
    until: datetime | None = Field(default=None, description="When it ends by itself; none: for good.")


class MemberWarned(Payload):
    subject_field = "member_id"
    member_id: int
    sanction_id: int
    reason: str
    item_id: int | None = Field(default=None, description="The review queue item it was decided from.")


class MemberSilenced(MemberWarned):
    until: datetime = Field(description="When the member may write again.")


class SanctionLifted(Payload):
    subject_field = "member_id"
    member_id: int
    sanction_id: int
    kind: str = Field(description="warning, silence or suspension.")


class WarningAcknowledged(Payload):
    sanction_id: int


class UserRoleChanged(Payload):
    from_role: str
    to_role: str


# -- topics and posts -------------------------------------------------------------------------------

class TopicEvent(Payload):
    topic_id: int


class TopicCreated(TopicEvent):
    post_id: int = Field(description="The opening post.")
    category_id: int
    kind: str = Field(description="discussion, question or idea.")
    mentions: list[int] = Field(default_factory=list, description="Ids of the members @mentioned.")


class TopicEdited(TopicEvent):
    fields: list[str] = Field(description="title and/or tags.")


class TopicMoved(TopicEvent):
    from_category_id: int
    to_category_id: int


class TopicMerged(TopicEvent):
    from_topic_id: int = Field(description="The topic whose posts moved here; it is gone and leads here.")
    post_ids: list[int] = Field(description="The posts that moved, in their new order.")


class TopicSplit(TopicEvent):
    from_topic_id: int = Field(description="The topic the replies came from.")
    post_ids: list[int] = Field(description="The posts that moved; the first opens the new topic.")
    category_id: int


class TopicPinned(TopicEvent):
    pinned: bool


class TopicLocked(TopicEvent):
    locked: bool


class TopicClosedAsDuplicate(TopicEvent):
    original_id: int | None = Field(description="The topic to continue in; null when reopened.")


class PostCreated(TopicEvent):
    number: int = Field(description="The post's position in its topic (1 opens it).")
    mentions: list[int] = Field(default_factory=list, description="Ids of the members @mentioned.")
    reply_to_author_id: int | None = Field(default=None, description="The author quoted or replied to.")


class PostEdited(TopicEvent):
    revision: int = Field(description="How many times the post has now been edited.")


class PostDeleted(TopicEvent):
    subject_field = "author_id"
    author_id: int
    was_solution: bool = Field(description="Whether it was the accepted answer.")
    by_moderator: bool = Field(description="Whether someone other than the author deleted it.")


class PostFlagged(TopicEvent):
    subject_field = "author_id"
    flag_id: int
    reason: str
    author_id: int | None = Field(default=None, description="The flagged post's author.")


class PostRestored(TopicEvent):
    subject_field = "author_id"
    author_id: int


class PostHidden(TopicEvent):
    subject_field = "author_id"
    author_id: int
    by_moderator: bool = Field(default=False, description="A moderator hid it from the review queue; "
                                                          "otherwise members' flags did.")


class PostHeld(TopicEvent):
    subject_field = "author_id"
    author_id: int
    number: int = Field(description="The post's position in its topic (1: a new topic waiting as a whole).")
    reasons: list[str] = Field(description="held_new_account, held_links and/or held_watched_words.")
    terms: list[str] = Field(default_factory=list, description="The watched words it uses.")
    mentions: list[int] = Field(default_factory=list, description="Ids of the members @mentioned, told on approval.")
    reply_to_author_id: int | None = Field(default=None, description="The author quoted or replied to.")


class ReviewDecided(TopicEvent):
    subject_field = "author_id"
    author_id: int
    post_id: int
    item_id: int = Field(description="The review queue item decided.")
    decision: str = Field(description="approve, hide, delete, edit, lock, move, merge or split; warn, silence or "
                                      "suspend (the author, the post hidden).")
    reasons: list[str] = Field(description="Why the post was in the queue.")
    agreed_flagger_ids: list[int] = Field(default_factory=list,
                                          description="Members whose flags the moderator agreed with.")


class Voted(TopicEvent):
    subject_field = "author_id"
    author_id: int = Field(description="The post's author, who earns or loses points.")
    value: int = Field(description="1 (up) or -1 (down).")
    previous: int = Field(description="The voter's earlier vote on this post: 1, -1 or 0 for none.")


class VoteRetracted(TopicEvent):
    subject_field = "author_id"
    author_id: int
    previous: int = Field(description="The vote taken back: 1 or -1.")


class VoteReversed(TopicEvent):
    subject_field = "author_id"
    author_id: int
    voter_id: int = Field(description="Whose vote a moderator took back (the actor is the moderator).")
    previous: int


class AnswerAccepted(TopicEvent):
    subject_field = "answerer_id"
    answerer_id: int
    asker_id: int


class AnswerUnaccepted(AnswerAccepted):
    pass


class PostMarkedOfficial(TopicEvent):
    author_id: int = Field(description="The staff member who wrote the answer.")
    official: bool = Field(description="true when marked, false when the mark was taken off.")
    previous_post_id: int | None = Field(default=None, description="The answer that was official before, if any.")


class IdeaStatusChanged(TopicEvent):
    status: str
    previous: str | None
    change_id: int


class Followed(Payload):
    target_type: str = Field(description="topic, category or user.")
    target_id: int


# -- referrals and customers ------------------------------------------------------------------------

class ReferralInvited(Payload):
    referrer_id: int
    invitee_email: str


class ReferralSignedUp(Payload):
    subject_field = "referrer_id"
    referrer_id: int
    invitee_id: int
    source: str = Field(description="code, link or invite: how the code reached the friend.")


class ReferralConverted(Payload):
    subject_field = "referrer_id"
    referrer_id: int
    invitee_id: int


class ReferralRejected(Payload):
    referrer_id: int
    invitee_id: int
    reason: str = Field(description="The fraud rule that rejected it.")


class CustomerStageChanged(Payload):
    from_stage: str
    to_stage: str
    cause: str = Field(description="Who or what moved it: staff, import, api, a rule.")


class CustomerCreated(Payload):
    source: str = Field(description="How the company came to know the customer (CustomerSource).")


class CustomerUpdated(Payload):
    changes: dict[str, list] = Field(description="{field: [before, after]} for each field that changed, "
                                                 "as the API shows them.")
    cause: str = Field(default="", description="Why, when a rule or an import made the change.")


class CustomerVerified(Payload):
    by_member: bool = Field(description="Whether one of the customer's members confirmed the details "
                                        "(else a staff member did).")


class CustomerMemberLinked(Payload):
    member_id: int
    how: str = Field(description="email, domain (at registration or import) or staff.")


class CustomerMemberUnlinked(Payload):
    member_id: int


class CustomerNoteAdded(Payload):
    note_id: int


class TouchpointRecorded(Payload):
    summary: str
    contact: str = Field(default="", description="Who at the customer took part.")
    staff_id: int | None = Field(default=None, description="The staff member who had the contact.")
    follow_up_on: date | None = Field(default=None, description="When to get back to them.")
    external_ref: str | None = Field(default=None, description="The id the company's system gave it.")


class CustomerTierChanged(Payload):
    from_tier: str
    to_tier: str
    cause: str = Field(description="What moved it: the ABC analysis after an import, a revenue change, "
                                   "the nightly run, or a change of thresholds.")


class RetentionCaseOpened(Payload):
    case_id: int
    staff_id: int | None = Field(default=None, description="The relationship owner who must act.")
    reasons: list[str] = Field(description="The churn-risk reasons found (crm.churn codes).")


class RetentionCaseClosed(Payload):
    case_id: int
    outcome: str = Field(description="retained, won_back, at_risk or lost.")
    note: str = ""


class AnnouncementSent(Payload):
    announcement_id: int
    title: str
    channels: list[str] = Field(description="notification and/or email.")
    member_ids: list[int] = Field(description="The customer's members it reached.")


# -- leads ------------------------------------------------------------------------------------------

class LeadEvent(Payload):
    lead_id: int
    kind: str = Field(description="upsell, upgrade, repurchase, referral, win_back or new_business.")
    score: int = Field(description="The lead's score when this happened.")
    member_id: int | None = Field(default=None, description="The member the lead is about, when it has no customer.")


class LeadCreated(LeadEvent):
    source: str = Field(description="The kind of community signal that made the lead (its strongest).")
    signals: list[str] = Field(description="The kinds of every signal behind it, strongest first.")


class LeadClaimed(LeadEvent):
    owner_id: int
    due_at: datetime = Field(description="When the rep should have been in touch (the kind's SLA).")


class LeadAssigned(LeadEvent):
    owner_id: int
    previous_owner_id: int | None = None
    due_at: datetime


class LeadStatusChanged(LeadEvent):
    from_status: str
    to_status: str = Field(description="contacted, qualified, won or lost.")
    value: Decimal | None = Field(default=None, description="What a won lead brought.")
    products: list[str] = Field(default_factory=list, description="What a won lead bought.")
    lost_reason: str = ""
    source: str = Field(default="", description="The kind of community signal that made the lead.")


class LeadReturned(LeadEvent):
    previous_owner_id: int | None
    reason: str = Field(description="handed_back, no_follow_up or owner_left.")


class LeadNoteAdded(LeadEvent):
    note_id: int


PAYLOADS: dict[Verb, type[Payload]] = {
    Verb.REGISTERED: Registered,
    Verb.LOGGED_IN: NoDetails,
    Verb.LOGGED_OUT: NoDetails,
    Verb.VISITED: Visited,
    Verb.LEVEL_REACHED: LevelReached,
    Verb.BADGE_AWARDED: BadgeAwarded,
    Verb.ACCOUNTS_LINKED: AccountsLinked,
    Verb.PROFILE_UPDATED: ProfileUpdated,
    Verb.PASSWORD_CHANGED: NoDetails,
    Verb.PASSWORD_RESET: NoDetails,
    Verb.ACCOUNT_DELETED: NoDetails,
    Verb.TOPIC_CREATED: TopicCreated,
    Verb.TOPIC_EDITED: TopicEdited,
    Verb.TOPIC_MOVED: TopicMoved,
    Verb.TOPIC_PINNED: TopicPinned,
    Verb.TOPIC_LOCKED: TopicLocked,
    Verb.TOPIC_CLOSED_AS_DUPLICATE: TopicClosedAsDuplicate,
    Verb.TOPIC_MERGED: TopicMerged,
    Verb.TOPIC_SPLIT: TopicSplit,
    Verb.POST_CREATED: PostCreated,
    Verb.POST_EDITED: PostEdited,
    Verb.POST_DELETED: PostDeleted,
    Verb.POST_FLAGGED: PostFlagged,
    Verb.POST_HIDDEN: PostHidden,
    Verb.POST_RESTORED: PostRestored,
    Verb.POST_HELD: PostHeld,
    Verb.REVIEW_DECIDED: ReviewDecided,
    Verb.VOTED: Voted,
    Verb.VOTE_RETRACTED: VoteRetracted,
    Verb.VOTE_REVERSED: VoteReversed,
    Verb.ANSWER_ACCEPTED: AnswerAccepted,
    Verb.ANSWER_UNACCEPTED: AnswerUnaccepted,
    Verb.POST_MARKED_OFFICIAL: PostMarkedOfficial,
    Verb.IDEA_STATUS_CHANGED: IdeaStatusChanged,
    Verb.FOLLOWED: Followed,
    Verb.REFERRAL_INVITED: ReferralInvited,
    Verb.REFERRAL_SIGNED_UP: ReferralSignedUp,
    Verb.REFERRAL_CONVERTED: ReferralConverted,
    Verb.REFERRAL_REJECTED: ReferralRejected,
    Verb.CUSTOMER_CREATED: CustomerCreated,
    Verb.CUSTOMER_UPDATED: CustomerUpdated,
    Verb.CUSTOMER_STAGE_CHANGED: CustomerStageChanged,
    Verb.CUSTOMER_VERIFIED: CustomerVerified,
    Verb.CUSTOMER_MEMBER_LINKED: CustomerMemberLinked,
    Verb.CUSTOMER_MEMBER_UNLINKED: CustomerMemberUnlinked,
    Verb.CUSTOMER_NOTE_ADDED: CustomerNoteAdded,
    Verb.TOUCHPOINT_RECORDED: TouchpointRecorded,
    Verb.CUSTOMER_TIER_CHANGED: CustomerTierChanged,
    Verb.RETENTION_CASE_OPENED: RetentionCaseOpened,
    Verb.RETENTION_CASE_CLOSED: RetentionCaseClosed,
    Verb.ANNOUNCEMENT_SENT: AnnouncementSent,
    Verb.USER_SUSPENDED: UserSuspended,
    Verb.USER_ROLE_CHANGED: UserRoleChanged,
    Verb.MEMBER_WARNED: MemberWarned,
    Verb.MEMBER_SILENCED: MemberSilenced,
    Verb.SANCTION_LIFTED: SanctionLifted,
    Verb.WARNING_ACKNOWLEDGED: WarningAcknowledged,
    Verb.LEAD_CREATED: LeadCreated,
    Verb.LEAD_CLAIMED: LeadClaimed,
    Verb.LEAD_ASSIGNED: LeadAssigned,
    Verb.LEAD_STATUS_CHANGED: LeadStatusChanged,
    Verb.LEAD_RETURNED: LeadReturned,
    Verb.LEAD_NOTE_ADDED: LeadNoteAdded,
}


def payload_schemas():
    """{verb: JSON Schema of its payload}: the webhook contract, for documentation and clients."""
    return {str(verb): model.model_json_schema() for verb, model in PAYLOADS.items()}
