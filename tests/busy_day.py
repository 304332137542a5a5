"""A scripted busy day on the demo community, through the services (tests/test_demo.py runs it last)."""
import random

import sqlalchemy as sa

from portal.auth.models import User
from portal.community import answers, flags, posts, topics, votes
from portal.community.models import Category, Post, Topic, TopicKind
from portal.errors import DomainError
from portal.extensions import db
from portal.moderation import links
from portal.permissions import Role
from portal.rewards.visits import record_daily_visit


class NothingToDo(Exception):
    pass


def _pick(rng, rows):
    if not rows:
        raise NothingToDo
    return rows[rng.randrange(len(rows))]


class BusyDay:
    """Members doing what members do, in a random but repeatable order, through the services."""

    def __init__(self, seed=2026):
        self.rng = random.Random(seed)
        self.members = db.session.scalars(sa.select(User).where(User.role == Role.MEMBER).order_by(User.id)).all()
        self.moderator = db.session.scalar(sa.select(User).where(User.role == Role.MODERATOR).order_by(User.id))
        self.categories = db.session.scalars(sa.select(Category).where(Category.slug.in_(
            ["questions", "getting-started", "integrations", "ideas"])).order_by(Category.id)).all()
        self.done = {}

    def posts(self):
        return db.session.scalars(sa.select(Post).join(Topic, Topic.id == Post.topic_id)
                                  .where(Post.deleted_at.is_(None), Topic.deleted_at.is_(None))).all()

    def run(self, actions=400):
        moves = [self.ask, self.reply, self.upvote, self.upvote, self.upvote, self.downvote, self.retract,
                 self.accept, self.unaccept, self.delete, self.flag, self.visit]
        for n in range(actions):
            move = _pick(self.rng, moves)
            try:
                move(n)
                self.done[move.__name__] = self.done.get(move.__name__, 0) + 1
            except DomainError:
                db.session.rollback()  # refused actions (own post, closed topic...) are part of a busy day
            except NothingToDo:
                pass
        self.sockpuppets()
        return self.done

    def ask(self, n):
        topics.create_topic(_pick(self.rng, self.members), category_id=_pick(self.rng, self.categories).id,
                            kind=_pick(self.rng, [k.value for k in TopicKind]), title=f"Busy day question {n}",
                            body="How do others handle this?")

    def reply(self, n):
        topic = _pick(self.rng, db.session.scalars(sa.select(Topic).where(Topic.deleted_at.is_(None))).all())
        posts.reply(_pick(self.rng, self.members), topic.id, f"Here is what worked for us ({n}).")

    def upvote(self, n):
        votes.cast(_pick(self.rng, self.members), _pick(self.rng, self.posts()).id, 1)

    def downvote(self, n):
        votes.cast(_pick(self.rng, self.members), _pick(self.rng, self.posts()).id, -1)

    def retract(self, n):
        votes.retract(_pick(self.rng, self.members), _pick(self.rng, self.posts()).id)

    def accept(self, n):
        replies = [p for p in self.posts() if p.number > 1 and p.topic.kind == TopicKind.QUESTION]
        reply = _pick(self.rng, replies)
        answers.accept(reply.topic.author, reply.topic_id, reply.id)

    def unaccept(self, n):
        solved = db.session.scalars(sa.select(Topic).where(Topic.solved_post_id.is_not(None))).all()
        topic = _pick(self.rng, solved)
        answers.unaccept(topic.author, topic.id)

    def delete(self, n):
        if self.rng.random() < 0.3:  # deletions are rarer than the rest
            posts.delete_post(self.moderator, _pick(self.rng, self.posts()).id)

    def flag(self, n):
        flags.flag_post(_pick(self.rng, self.members), _pick(self.rng, self.posts()).id, "spam")

    def visit(self, n):
        record_daily_visit(_pick(self.rng, self.members))

    def sockpuppets(self):
        first, second = self.members[0], self.members[1]
        links.link_accounts(self.moderator, first.id, second.id, "busy day")
        votes.reverse_votes_between(self.moderator, first.id, second.id)
