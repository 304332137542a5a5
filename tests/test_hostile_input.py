"""No member-supplied text can run script in any page that shows it.

Each hostile input goes through a post body, a topic title, a reply, a tag,
a display name and a bio; every page that shows them must carry exactly the
active content a harmless page carries (our own script, our own forms), and
nothing more.
"""
import html
import re
from collections import Counter
from html.parser import HTMLParser

import pytest

from portal.auth import services as accounts
from portal.community import posts, topics
from portal.community.content import BODY_MAX
from portal.errors import DomainError
from portal.extensions import db
from tests.community_factories import established, make_category
from tests.test_markdown import HOSTILE_INPUTS

RISKY_TAGS = {"script", "style", "iframe", "object", "embed", "svg", "math", "form", "input", "button", "meta",
              "base", "link", "img", "a", "textarea", "select", "frame", "frameset", "applet", "template"}
_BAD_SCHEME = re.compile(r"^\s*(javascript|vbscript|data|file):", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x20\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


class _Census(HTMLParser):
    """Counts everything in a page that could act: risky tags, handlers, styles, script URLs."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = Counter()

    def handle_starttag(self, tag, attrs):
        if tag in RISKY_TAGS:
            self.found[f"<{tag}>"] += 1
        for name, value in attrs:
            if name.startswith("on"):
                self.found[f"@{name}"] += 1
            if name == "style":
                self.found["@style"] += 1
            if name in {"href", "src", "action", "formaction", "xlink:href", "srcdoc"} and value and \
                    _BAD_SCHEME.match(_CONTROL.sub("", html.unescape(value))):
                self.found[f"{name}=bad-scheme"] += 1

    handle_startendtag = handle_starttag


def census(page):
    parser = _Census()
    parser.feed(page)
    return parser.found


def _pages_for(client, topic_id, member_id):
    """The pages that show a member's words, by name."""
    paths = {"home": "/", "latest": "/latest", "topic": f"/t/{topic_id}", "member": f"/members/{member_id}"}
    return {name: client.get(path).get_data(as_text=True) for name, path in paths.items()}


@pytest.fixture
def stage(app, make_user):
    category = make_category("Questions")
    author = established(make_user, name="Harmless Author")
    reader = established(make_user, name="Reader Person")
    return category, author, reader


def _publish(category, author, text):
    """Put `text` everywhere a member can: title, body, reply, bio, display name."""
    title = f"Question about {text}"[:200]
    try:
        topic = topics.create_topic(author, category_id=category.id, kind="question",
                                    title=title if len(title) >= 8 else title + " padding", body=text)
    except DomainError:
        db.session.rollback()
        topic = topics.create_topic(author, category_id=category.id, kind="question",
                                    title="Question about something", body=f"text {text}"[:BODY_MAX])
    try:
        posts.reply(author, topic.id, f"reply with {text}"[:BODY_MAX])
    except DomainError:  # e.g. a body the length rules refuse: nothing stored, nothing shown
        db.session.rollback()
    for name in (text[:80], f"Name {text}"[:80]):
        try:
            accounts.update_profile(author, name=name, bio=text[:500])
            break
        except DomainError:
            db.session.rollback()
    return topic


def test_hostile_corpus_is_large_enough():
    assert len(HOSTILE_INPUTS) >= 50


@pytest.mark.parametrize("text", HOSTILE_INPUTS, ids=[f"h{n:03d}" for n in range(len(HOSTILE_INPUTS))])
def test_pages_carry_no_more_active_content_than_a_harmless_page(app, stage, text):
    category, author, reader = stage
    harmless = _publish(category, author, "a perfectly harmless sentence")
    client = app.test_client(user=reader)
    baseline = {name: census(page) for name, page in _pages_for(client, harmless.id, author.id).items()}
    hostile = _publish(category, author, text)
    for name, page in _pages_for(client, hostile.id, author.id).items():
        extra = census(page) - baseline[name]
        # Links and images from Markdown are allowed (their schemes are checked above); nothing else.
        extra.pop("<a>", None)
        extra.pop("<img>", None)
        assert not extra, f"the {name} page gained {dict(extra)} from {text!r}"
        assert "\u202e" not in page


@pytest.mark.parametrize("text", HOSTILE_INPUTS[:20])
def test_hostile_tags_are_refused_or_inert(app, stage, moderator, text):
    category, _, reader = stage
    try:
        topic = topics.create_topic(moderator, category_id=category.id, kind="discussion",
                                    title="A topic with a strange tag", body="Body", tags=[text])
    except DomainError:
        db.session.rollback()
        return
    page = app.test_client(user=reader).get(f"/t/{topic.id}").get_data(as_text=True)
    assert not {k for k in census(page) if k.startswith("@on") or "bad-scheme" in k}
