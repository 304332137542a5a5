"""What earns points: admin-editable. (What each level unlocks lives in permissions.py.)

The defaults below hold until an admin saves the settings page; then the
stored values (the `rewards` setting) win, in every process at once.
"""
import enum

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..settings import stored_setting

SETTING_KEY = "rewards"


class Rule(enum.StrEnum):
    TOPIC_CREATED = "topic_created"
    REPLY_CREATED = "reply_created"
    QUESTION_UPVOTED = "question_upvoted"
    ANSWER_UPVOTED = "answer_upvoted"
    ANSWER_ACCEPTED = "answer_accepted"
    ACCEPTED_AN_ANSWER = "accepted_an_answer"
    DOWNVOTE_RECEIVED = "downvote_received"
    DOWNVOTE_CAST = "downvote_cast"
    DAILY_VISIT = "daily_visit"
    REFERRAL_SIGNED_UP = "referral_signed_up"
    REFERRAL_CONVERTED = "referral_converted"
    REFERRED_FRIEND_CONVERTED = "referred_friend_converted"

    @property
    def label(self):
        return RULE_LABELS[self]

    @property
    def is_penalty(self):
        return self in PENALTY_RULES


RULE_LABELS = {
    Rule.TOPIC_CREATED: _l("Started a topic"),
    Rule.REPLY_CREATED: _l("Posted a reply"),
    Rule.QUESTION_UPVOTED: _l("Question upvoted"),
    Rule.ANSWER_UPVOTED: _l("Answer upvoted"),
    Rule.ANSWER_ACCEPTED: _l("Answer accepted"),
    Rule.ACCEPTED_AN_ANSWER: _l("Accepted an answer"),
    Rule.DOWNVOTE_RECEIVED: _l("Downvote received"),
    Rule.DOWNVOTE_CAST: _l("Downvoted an answer"),
    Rule.DAILY_VISIT: _l("Daily visit"),
    Rule.REFERRAL_SIGNED_UP: _l("A friend you invited joined"),
    Rule.REFERRAL_CONVERTED: _l("A friend you invited became a customer"),
    Rule.REFERRED_FRIEND_CONVERTED: _l("Became a customer after being invited"),
}
# Entries that are not rules an admin edits, but still appear in a member's history.
OTHER_LABELS = {
    "opening_balance": _l("Points from before the ledger"),
}

DEFAULT_RULES = {
    Rule.TOPIC_CREATED: 2,
    Rule.REPLY_CREATED: 1,
    Rule.QUESTION_UPVOTED: 5,
    Rule.ANSWER_UPVOTED: 10,
    Rule.ANSWER_ACCEPTED: 15,
    Rule.ACCEPTED_AN_ANSWER: 2,
    Rule.DOWNVOTE_RECEIVED: -2,
    Rule.DOWNVOTE_CAST: -1,
    Rule.DAILY_VISIT: 1,
    Rule.REFERRAL_SIGNED_UP: 20,
    Rule.REFERRAL_CONVERTED: 200,
    Rule.REFERRED_FRIEND_CONVERTED: 50,
}
# Rules that take points away: an admin may set them to 0 or below, never above.
PENALTY_RULES = frozenset({Rule.DOWNVOTE_RECEIVED, Rule.DOWNVOTE_CAST})
# Points from votes a member may receive per UTC day; votes beyond earn nothing.
VOTE_RULES = frozenset({Rule.QUESTION_UPVOTED, Rule.ANSWER_UPVOTED})
POINTS_LIMIT = 100_000


def _stored():
    return stored_setting(SETTING_KEY)


def points_for(rule):
    """Points `rule` earns now: the admin's setting, else the default."""
    return _stored().get("rules", {}).get(str(rule), DEFAULT_RULES[Rule(rule)])


def all_rule_points():
    return {rule: points_for(rule) for rule in Rule}


def daily_vote_cap():
    return _stored().get("daily_vote_cap", current_app.config["POINTS_DAILY_VOTE_CAP"])
