"""What earns points: admin-editable. (What each level unlocks lives in permissions.py.)

The defaults below hold until an admin saves the settings page; then the
stored values (the `rewards` setting) win, in every process at once.
"""

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..settings import stored_setting
from ..sqltypes import LabelledEnum

SETTING_KEY = "rewards"


class Rule(LabelledEnum):
    TOPIC_CREATED = "topic_created", _l("Started a topic")
    REPLY_CREATED = "reply_created", _l("Posted a reply")
    QUESTION_UPVOTED = "question_upvoted", _l("Question upvoted")
    ANSWER_UPVOTED = "answer_upvoted", _l("Answer upvoted")
    ANSWER_ACCEPTED = "answer_accepted", _l("Answer accepted")
    ACCEPTED_AN_ANSWER = "accepted_an_answer", _l("Accepted an answer")
    DOWNVOTE_RECEIVED = "downvote_received", _l("Downvote received")
    DOWNVOTE_CAST = "downvote_cast", _l("Downvoted an answer")
    DAILY_VISIT = "daily_visit", _l("Daily visit")
    REFERRAL_SIGNED_UP = "referral_signed_up", _l("A friend you invited joined")
    REFERRAL_CONVERTED = "referral_converted", _l("A friend you invited became a customer")
    REFERRED_FRIEND_CONVERTED = "referred_friend_converted", _l("Became a customer after being invited")

    @property
    def is_penalty(self):
        return self in PENALTY_RULES
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
