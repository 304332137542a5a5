"""The moderation rules an admin keeps: which posts wait for a moderator before they are published."""
from dataclasses import asdict, dataclass, replace
from functools import cached_property

from flask_babel import lazy_gettext as _l

from ..audit import audit
from ..errors import Invalid
from ..extensions import db
from ..inputs import whole_number_in
from ..permissions import Permission, ensure
from ..settings import store_setting, stored_setting
from ..text import Terms

SETTING_KEY = "moderation_rules"
FIRST_POSTS_MAX = 20
WORDS_MAX, WORD_LENGTH_MAX = 300, 50


@dataclass(frozen=True)
class ModerationRules:
    # Off by default: a community that welcomes newcomers should not make them wait unless it must.
    hold_first_posts: bool = False
    first_posts_to_hold: int = 1
    watched_words: tuple[str, ...] = ()

    @cached_property
    def watched_terms(self):
        return Terms(self.watched_words)


def moderation_rules():
    """The rules in force: the defaults with whatever an admin stored over them."""
    stored = stored_setting(SETTING_KEY)
    rules = ModerationRules()
    if stored:
        rules = replace(rules, hold_first_posts=bool(stored.get("hold_first_posts", False)),
                        first_posts_to_hold=int(stored.get("first_posts_to_hold", 1)),
                        watched_words=tuple(stored.get("watched_words", ())))
    return rules


def word_lines(words):
    """The watched words as the settings form shows them, one a line."""
    return "\n".join(words)


def check_rules(values):
    """ModerationRules from submitted values (form strings), or Invalid naming every bad field."""
    errors = {}
    first_posts = whole_number_in(values.get("first_posts_to_hold", 1), 1, FIRST_POSTS_MAX)
    if first_posts is None:
        errors["first_posts_to_hold"] = _l("Give a whole number from 1 to %(n)d.", n=FIRST_POSTS_MAX)
    words = list(dict.fromkeys(" ".join(line.split()) for line in str(values.get("watched_words", "")).splitlines()
                               if line.strip()))
    if len(words) > WORDS_MAX:
        errors["watched_words"] = _l("Keep the list to %(n)d words.", n=WORDS_MAX)
    elif any(len(word) > WORD_LENGTH_MAX for word in words):
        errors["watched_words"] = _l("Keep each word to %(n)d characters.", n=WORD_LENGTH_MAX)
    if errors:
        raise Invalid(fields=errors)
    hold = values.get("hold_first_posts") in (True, "1", "on", "y", "yes", "true")
    return ModerationRules(hold_first_posts=hold, first_posts_to_hold=first_posts, watched_words=tuple(words))


def update_moderation_rules(actor, values):
    """Store new moderation rules (all checked, nothing stored if one is bad); audited, committed."""
    ensure(actor, Permission.MANAGE_SETTINGS)
    before = moderation_rules()
    after = check_rules(values)
    stored = {**asdict(after), "watched_words": list(after.watched_words)}
    store_setting(actor, SETTING_KEY, stored)
    audit(actor, "settings.moderation_rules_changed", None,
          old={**asdict(before), "watched_words": list(before.watched_words)}, new=stored)
    db.session.commit()
    return after
