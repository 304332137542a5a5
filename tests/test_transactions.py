"""One rule for transactions, checked over the whole package.

A public function that writes either commits (it is the service a view
calls: the whole action or nothing) or says in its docstring that it works
inside the caller's transaction. Subscribers on the spine always do.
"""
import ast
import pathlib
import re

import pytest
import sqlalchemy as sa

from portal.community import topics
from portal.community.models import Topic
from portal.errors import NotFound
from portal.extensions import db
from tests.community_factories import ask, established, make_category

PORTAL = pathlib.Path(__file__).resolve().parent.parent / "portal"
# Views and the API call services; the demo seeds through them; migrations are not code paths.
SKIPPED = {"views.py", "category_views.py", "cli.py"}
SKIPPED_PACKAGES = {"api", "demo"}
WRITES = re.compile(r"db\.session\.(add|add_all|delete)\(|sa\.(update|delete)\(|insert_unless_exists\(|"
                    r"record_activity\(|enqueue\(")
INSIDE_THE_CALLERS = re.compile(r"current\s+transaction|caller's\s+transaction|not\s+committed|\(no commit\)",
                                re.IGNORECASE)


def _public_writers():
    for path in sorted(PORTAL.rglob("*.py")):
        if path.name in SKIPPED or SKIPPED_PACKAGES & set(path.relative_to(PORTAL).parts):
            continue
        source = path.read_text()
        for node in ast.parse(source).body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                body = ast.get_source_segment(source, node)
                if WRITES.search(body):
                    yield path.relative_to(PORTAL), node, body


def _is_subscriber(node):
    return any(isinstance(d, ast.Call) and getattr(d.func, "id", "") == "listens_to" for d in node.decorator_list)


def test_every_public_writer_commits_or_says_it_runs_in_the_callers_transaction():
    offenders = [f"{path}:{node.lineno} {node.name}" for path, node, body in _public_writers()
                 if "db.session.commit()" not in body and not _is_subscriber(node)
                 and not INSIDE_THE_CALLERS.search(ast.get_docstring(node) or "")]
    assert offenders == []


def test_the_rule_sees_enough_to_mean_something():
    assert len(list(_public_writers())) >= 40


def test_a_refused_topic_change_leaves_nothing_for_a_later_commit(app, make_user, moderator):
    """The title is valid but the category is not: after the refusal, even a commit changes nothing."""
    topic = ask(established(make_user), make_category("Questions"), title="The original title")
    with pytest.raises(NotFound):
        topics.change_topic(moderator, topic.id, title="A perfectly fine new title", category_id=999_999)
    db.session.commit()  # what a later step of the same request might do
    db.session.expire_all()
    assert db.session.scalar(sa.select(Topic.title).where(Topic.id == topic.id)) == "The original title"


def test_a_refused_change_over_the_api_changes_nothing(client, bearer, make_user, moderator):
    topic = ask(established(make_user), make_category("Questions"), title="The original title")
    response = client.patch(f"/api/v1/topics/{topic.id}", headers=bearer(moderator),
                            json={"title": "A perfectly fine new title", "duplicate_of_id": topic.id})
    assert response.status_code == 422
    assert db.session.get(Topic, topic.id).title == "The original title"
