"""The audit log as admins read it: filters, the newest-first list, each entry in words, and its CSV.

Entries are written by the services (portal.audit.audit(), in the same
transaction as the change); this module only reads them. Their details come
in a few shapes, one per generation of services: {"before": …, "after": …},
{"old": …, "new": …}, {"changes": {field: [old, new]}}, {field: [old, new]}
(categories) and {"old_owner_id", "new_owner_id"} (retention). describe()
turns every shape into one list of (field, before, after) so the page, the
CSV and the API agree on what changed.
"""
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import load_only, selectinload

from ..audit import ACTION_LABELS, AuditEntry
from ..auth.models import User
from ..errors import Invalid
from ..extensions import db
from ..pagination import CountedPage

PER_PAGE, PER_PAGE_MAX = 50, 100

# The areas of the action filter, in the order the select shows them: the action code's first part.
AREAS = {
    "user": _l("Accounts"),
    "team": _l("Sales teams"),
    "api_token": _l("API tokens"),
    "settings": _l("Settings"),
    "category": _l("Categories"),
    "topic": _l("Topics"),
    "post": _l("Posts"),
    "accounts": _l("Linked accounts"),
    "votes": _l("Votes"),
    "customer": _l("Customers"),
    "segment": _l("Segments"),
    "retention": _l("Retention"),
    "announcement": _l("Announcements"),
    "lead": _l("Leads"),
    "webhook": _l("Webhooks"),
    "review": _l("Review queue"),
}

# What an entry's target_type names, and the page that shows one (None: no page of its own).
TARGET_TYPES = {
    "user": (_l("Account"), "admin.user_detail", "user_id"),
    "team": (_l("Sales team"), None, None),
    "api_token": (_l("API token"), None, None),
    "category": (_l("Category"), "categories.edit", "category_id"),
    "topic": (_l("Topic"), "community.topic", "topic_id"),
    "post": (_l("Post"), "community.post_link", "post_id"),
    "customer": (_l("Customer record"), "crm.customer", "customer_id"),
    "segment": (_l("Segment"), "segments.segment", "segment_id"),
    "retention_case": (_l("Retention case"), "retention.case", "case_id"),
    "announcement": (_l("Announcement"), "announcements.show", "announcement_id"),
    "lead": (_l("Lead"), "leads.lead", "lead_id"),
    "webhook": (_l("Webhook"), "webhooks.deliveries", "webhook_id"),
}

# Actions whose target is gone once they happened: no link to a page that would answer 404.
TARGET_GONE = {"segment.deleted", "webhook.deleted"}

# Actions that store each changed field at the top level as [old, new].
FIELD_PAIR_ACTIONS = {"category.updated"}

# Detail shapes that hold the change itself: (before key, after key).
PAIRS = (("before", "after"), ("old", "new"), ("old_owner_id", "new_owner_id"))


def action_label(action):
    """The action in the reader's language; an action without a label shows its code."""
    return ACTION_LABELS.get(action, action)


def known_action(action):
    """An action code we label, or a prefix ending in "." that some labelled action starts with."""
    if action in ACTION_LABELS:
        return True
    return action.endswith(".") and any(code.startswith(action) for code in ACTION_LABELS)


# -- filters -------------------------------------------------------------------------------------------------

@dataclass
class AuditFilters:
    """What the log is narrowed by; every field optional.

    `actor` is a user id, or "none" for entries the CLI and the system wrote.
    `action` is a code (lead.assigned) or an area prefix (lead.). `since` and
    `until` are days, both included, in the reader's timezone `tz`.
    """
    actor: str = ""
    action: str = ""
    target_type: str = ""
    target_id: int | None = None
    since: date | None = None
    until: date | None = None
    page: int = 1
    per_page: int = PER_PAGE
    tz: object = field(default=UTC, repr=False, compare=False)

    @classmethod
    def from_args(cls, args, *, tz=UTC):
        """From query-string arguments (a MultiDict or dict); Invalid names every bad one."""
        def text(name):
            return str(args.get(name) or "").strip()

        errors = {}
        actor = text("actor")
        if actor and actor != "none" and not _positive(actor):
            errors["actor"] = _l("Choose a person from the list (a user id).")
        action = text("action")
        if action and not known_action(action):
            errors["action"] = _l("Choose an action from the list, or an area such as lead.")
        target_type = text("target_type")
        if target_type and target_type not in TARGET_TYPES:
            errors["target_type"] = _l("Choose a kind of object from the list.")
        target_id = text("target_id")
        if target_id and not _positive(target_id):
            errors["target_id"] = _l("Give the object's id as a whole number.")
        elif target_id and not target_type:
            errors["target_id"] = _l("Choose the kind of object too.")
        since, until = _day(text("since"), "since", errors), _day(text("until"), "until", errors)
        if since and until and since > until:
            errors["until"] = _l("The end date comes before the start date.")
        page, per_page = text("page") or "1", text("per_page") or str(PER_PAGE)
        if not _positive(page) or int(page) > 1_000_000:
            errors["page"] = _l("Give a page number from 1.")
        if not _positive(per_page) or int(per_page) > PER_PAGE_MAX:
            errors["per_page"] = _l("Show from 1 to %(n)d entries a page.", n=PER_PAGE_MAX)
        if errors:
            raise Invalid("invalid_filters", fields=errors)
        return cls(actor=actor, action=action, target_type=target_type,
                   target_id=int(target_id) if target_id else None, since=since, until=until, page=int(page),
                   per_page=int(per_page), tz=tz)

    def as_args(self):
        """The query-string arguments that give these filters back (pager and export links), without the page."""
        args = {name: getattr(self, name) for name in ("actor", "action", "target_type", "target_id")
                if getattr(self, name)}
        args.update({name: getattr(self, name).isoformat() for name in ("since", "until") if getattr(self, name)})
        if self.per_page != PER_PAGE:
            args["per_page"] = self.per_page
        return args


def _positive(text):
    return text.isdigit() and int(text) >= 1 and len(text) <= 12


def _day(raw, name, errors):
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = _l("Give a date as YYYY-MM-DD, e.g. 2026-03-01.")
        return None


def _start_of(day, tz):
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


# -- the list ------------------------------------------------------------------------------------------------

def audit_query(filters):
    """select(AuditEntry) narrowed by `filters`, newest first, with each actor's id and name loaded with it."""
    query = sa.select(AuditEntry).options(selectinload(AuditEntry.actor).options(load_only(User.id, User.name)))
    if filters.actor == "none":
        query = query.where(AuditEntry.actor_id.is_(None))
    elif filters.actor:
        query = query.where(AuditEntry.actor_id == int(filters.actor))
    if filters.action.endswith("."):
        query = query.where(AuditEntry.action.startswith(filters.action, autoescape=True))
    elif filters.action:
        query = query.where(AuditEntry.action == filters.action)
    if filters.target_type:
        query = query.where(AuditEntry.target_type == filters.target_type)
    if filters.target_id is not None:
        query = query.where(AuditEntry.target_id == filters.target_id)
    if filters.since is not None:
        query = query.where(AuditEntry.occurred_at >= _start_of(filters.since, filters.tz))
    if filters.until is not None:
        query = query.where(AuditEntry.occurred_at < _start_of(filters.until + timedelta(days=1), filters.tz))
    return query.order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc())


def audit_page(filters):
    """One page of the filtered log, in two statements (the rows with their total, then their actors)."""
    return CountedPage(audit_query(filters), page=filters.page, per_page=filters.per_page)


def filter_choices():
    """What the filter bar offers: the people who appear in the log, actions grouped by area, object kinds."""
    actors = db.session.execute(
        sa.select(User.id, User.name).where(User.id.in_(sa.select(AuditEntry.actor_id).distinct()))
        .order_by(User.name, User.id)).all()
    groups = {}
    for code, label in ACTION_LABELS.items():
        groups.setdefault(code.split(".", 1)[0], []).append((code, label))
    areas = [(f"{prefix}.", AREAS.get(prefix, prefix), sorted(groups[prefix], key=lambda pair: str(pair[1])))
             for prefix in sorted(groups, key=lambda p: list(AREAS).index(p) if p in AREAS else len(AREAS))]
    targets = [(name, label) for name, (label, _endpoint, _arg) in TARGET_TYPES.items()]
    return {"actors": actors, "areas": areas, "target_types": targets}


# -- one entry in words ----------------------------------------------------------------------------------------

@dataclass
class Change:
    field: str | None   # None: the value itself changed (a stage, an owner), not one of several fields
    before: object
    after: object


@dataclass
class Description:
    label: object
    changes: list
    details: dict       # the rest: a reason, a note, the ids that say more

    @property
    def before(self):
        """The old values as one JSON-able value: {field: old}, or the old value itself."""
        return _side(self.changes, "before")

    @property
    def after(self):
        return _side(self.changes, "after")


def _side(changes, which):
    if not changes:
        return None
    if len(changes) == 1 and changes[0].field is None:
        return getattr(changes[0], which)
    return {change.field: getattr(change, which) for change in changes}


def describe(entry):
    """The entry's label and its before → after, whatever shape its service wrote the details in."""
    details = dict(entry.details or {})
    changes = []
    if entry.action in FIELD_PAIR_ACTIONS:
        for name in [k for k, v in details.items() if isinstance(v, list) and len(v) == 2]:
            old, new = details.pop(name)
            changes.append(Change(name, old, new))
    elif isinstance(details.get("changes"), dict):
        for name, pair in details.pop("changes").items():
            old, new = pair if isinstance(pair, list | tuple) and len(pair) == 2 else (None, pair)
            changes.append(Change(name, old, new))
    else:
        for before_key, after_key in PAIRS:
            if before_key in details or after_key in details:
                changes = _pair_changes(details.pop(before_key, None), details.pop(after_key, None))
                break
    return Description(label=action_label(entry.action), changes=changes, details=details)


def _pair_changes(before, after):
    if isinstance(before, dict) or isinstance(after, dict):
        before, after = before or {}, after or {}
        names = list(before) + [name for name in after if name not in before]
        return [Change(name, before.get(name), after.get(name)) for name in names
                if before.get(name) != after.get(name) or not (before and after)]
    return [Change(None, before, after)]


def readable(value):
    """A stored value as a person reads it: — for nothing, lists joined, structures as compact JSON."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list) and all(not isinstance(item, dict | list) for item in value):
        return ", ".join(str(item) for item in value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return str(value)


def target_label(entry):
    if entry.target_type is None:
        return None
    label = TARGET_TYPES.get(entry.target_type, (entry.target_type,))[0]
    return f"{label} #{entry.target_id}"


def target_url(entry):
    """The page of the entry's object, where it has one and still exists."""
    _label, endpoint, arg = TARGET_TYPES.get(entry.target_type, (None, None, None))
    if endpoint is None or entry.target_id is None or entry.action in TARGET_GONE:
        return None
    return url_for(endpoint, **{arg: entry.target_id})


def page_rows(entries):
    """What the page shows of each entry: the entry, its words, and where its object lives."""
    return [{"entry": entry, "description": describe(entry), "target": target_label(entry),
             "target_url": target_url(entry)} for entry in entries]


# -- the CSV ---------------------------------------------------------------------------------------------------

EXPORT_COLUMNS = ("occurred_at", "actor_id", "actor", "action", "label", "target_type", "target_id", "before",
                  "after", "details", "ip_address")


def export_csv(query):
    """CSV text, piece by piece, of the entries `query` selects: UTF-8 with BOM, before/after/details as JSON."""
    from ..crm.csvio import csv_text

    entries = db.session.scalars(query.execution_options(yield_per=500))
    return csv_text(EXPORT_COLUMNS, (_export_row(entry) for entry in entries))


def _json(value):
    return "" if value is None or value == {} else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _export_row(entry):
    described = describe(entry)
    return [entry.occurred_at.astimezone(UTC).isoformat(), entry.actor_id or "",
            entry.actor.name if entry.actor else "", entry.action, str(described.label), entry.target_type or "",
            entry.target_id or "", _json(described.before), _json(described.after), _json(described.details),
            entry.ip_address or ""]
