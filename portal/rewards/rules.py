"""How many points each kind of contribution earns (admin-editable settings come later)."""
from flask import current_app

DEFAULT_RULES = {
    "topic_created": 2,
    "reply_created": 1,
    "question_upvoted": 5,
    "answer_upvoted": 10,
    "answer_accepted": 15,
    "accepted_an_answer": 2,
    "downvote_received": -2,
    "downvote_cast": -1,
}
# Points from votes a member may receive per UTC day; votes beyond earn nothing.
VOTE_RULES = frozenset({"question_upvoted", "answer_upvoted"})


def points_for(rule):
    return current_app.config.get("POINTS_RULES", {}).get(rule, DEFAULT_RULES[rule])


def daily_vote_cap():
    return current_app.config["POINTS_DAILY_VOTE_CAP"]
