"""Saved segments: rules over customer fields and the computed dimensions, compiled to one query.

A segment is a name, a match (all of / any of) and rules like
`{"field": "value_tier", "op": "in", "value": ["key", "valued"]}`. One
checker, `check_rules`, turns what a person typed (form strings) or a system
sent (JSON values) into clean rules for every door: the builder page, its
live count, the API. `segment_customers` compiles clean rules to one
select(Customer) — no customer is ever filtered in Python — and
`segment_members` to the members linked to them, which is what
announcements reach.

Who is in a segment is worked out when asked, against `now`: "touched within
30 days" means 30 days before the moment of asking.
"""
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy.dialects import postgresql

from ..audit import audit
from ..auth.models import User, UserStatus
from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..permissions import Permission, Role, ensure
from ..sqltypes import utcnow
from .fields import COMMUNITY_STAFF_ROLES, LANGUAGES, SALES_ROLES
from .models import (
    ChurnRisk,
    CompanySize,
    Customer,
    CustomerProduct,
    CustomerSource,
    EngagementLevel,
    LifecycleStage,
    Segment,
    SegmentMatch,
    ValueTier,
)

MAX_RULES = 30
MAX_ITEMS = 50
TEXT_MAX = 120
DAYS_MAX = 3650
NAME_MAX = 120
DESCRIPTION_MAX = 2000
AMOUNT_MAX = Decimal("999999999999.99")
VERBATIM = re.compile(r'^[ !#-\[\]-~]+$')   # printable ASCII but " and \


# -- the fields a rule can test -------------------------------------------------------------------

# Operators by kind of field, in the order the builder offers them.
OPERATORS = {
    "enum": ("is", "is_not", "in", "not_in"),
    "person": ("is", "is_not", "in", "not_in", "is_empty", "is_set"),
    "text": ("is", "is_not", "in", "contains", "is_empty", "is_set"),
    "list": ("has_any", "has_all", "has_none"),
    "number": ("gt", "gte", "lt", "lte", "between"),
    "touch": ("within_days", "not_within_days", "never"),
    "renewal": ("within_next_days", "overdue", "before", "after", "is_empty"),
    "yesno": ("is",),
}

OPERATOR_LABELS = {
    "is": lazy_pgettext("segment rule", "is"),
    "is_not": lazy_pgettext("segment rule", "is not"),
    "in": lazy_pgettext("segment rule", "is one of"),
    "not_in": lazy_pgettext("segment rule", "is none of"),
    "contains": lazy_pgettext("segment rule", "contains"),
    "is_empty": lazy_pgettext("segment rule", "is empty"),
    "is_set": lazy_pgettext("segment rule", "is set"),
    "has_any": lazy_pgettext("segment rule", "has any of"),
    "has_all": lazy_pgettext("segment rule", "has all of"),
    "has_none": lazy_pgettext("segment rule", "has none of"),
    "gt": lazy_pgettext("segment rule", "is more than"),
    "gte": lazy_pgettext("segment rule", "is at least"),
    "lt": lazy_pgettext("segment rule", "is less than"),
    "lte": lazy_pgettext("segment rule", "is at most"),
    "between": lazy_pgettext("segment rule", "is between"),
    "within_days": lazy_pgettext("segment rule", "within the last"),
    "not_within_days": lazy_pgettext("segment rule", "not within the last"),
    "never": lazy_pgettext("segment rule", "never"),
    "within_next_days": lazy_pgettext("segment rule", "within the next"),
    "overdue": lazy_pgettext("segment rule", "is overdue"),
    "before": lazy_pgettext("segment rule", "is before"),
    "after": lazy_pgettext("segment rule", "is after"),
}

# Operators that take no value.
VALUELESS = frozenset({"is_empty", "is_set", "never", "overdue"})
# Operators that take a list of values.
MANY = frozenset({"in", "not_in", "has_any", "has_all", "has_none"})


def _enum_choices(enum_class):
    return lambda: [(member.value, member.label) for member in enum_class]


def _people(roles):
    def choices():
        people = db.session.execute(sa.select(User.id, User.name).where(
            User.role.in_(roles), User.status == UserStatus.ACTIVE).order_by(User.name, User.id)).all()
        return [(str(person.id), person.name) for person in people]
    return choices


@dataclass(frozen=True)
class Field:
    name: str
    label: object
    kind: str
    column: object = None
    choices: object = None       # () -> [(value, label)], for enum and person fields

    @property
    def operators(self):
        return OPERATORS[self.kind]


FIELDS = {field.name: field for field in (
    Field("value_tier", _l("Value tier"), "enum", Customer.value_tier, _enum_choices(ValueTier)),
    Field("lifecycle_stage", _l("Lifecycle stage"), "enum", Customer.lifecycle_stage, _enum_choices(LifecycleStage)),
    Field("engagement_level", _l("Engagement"), "enum", Customer.engagement_level, _enum_choices(EngagementLevel)),
    Field("churn_risk", _l("Churn risk"), "enum", Customer.churn_risk, _enum_choices(ChurnRisk)),
    Field("region", _l("Region"), "text", Customer.region),
    Field("industry", _l("Industry"), "text", Customer.industry),
    Field("size", _l("Company size"), "enum", Customer.size, _enum_choices(CompanySize)),
    Field("source", _l("Source"), "enum", Customer.source, _enum_choices(CustomerSource)),
    Field("preferred_language", _l("Preferred language"), "enum", Customer.preferred_language,
          lambda: list(LANGUAGES.items())),
    Field("tags", _l("Tags"), "list", Customer.tags),
    Field("products", _l("Products"), "list"),
    Field("revenue", _l("Revenue"), "number", Customer.revenue),
    Field("future_value", _l("Future value score"), "number", Customer.future_value),
    Field("last_touch", _l("Last touch"), "touch", Customer.last_touch_at),
    Field("renewal_date", _l("Renewal date"), "renewal", Customer.renewal_date),
    Field("has_members", _l("Has linked members"), "yesno"),
    Field("relationship_owner", _l("Relationship owner"), "person", Customer.relationship_owner_id,
          _people(COMMUNITY_STAFF_ROLES)),
    Field("sales_owner", _l("Sales owner"), "person", Customer.owner_rep_id, _people(SALES_ROLES)),
)}


# -- checking rules -------------------------------------------------------------------------------

class _Bad(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def check_match(match):
    """The SegmentMatch for "all" or "any"; Invalid naming `match` otherwise."""
    try:
        return SegmentMatch(str(match or "all").strip().lower())
    except ValueError:
        raise Invalid(fields={"match": _l("Choose all or any.")}) from None


def check_rules(match, rules, *, check_people=True):
    """Clean rules from typed or sent ones; Invalid naming every bad rule at once ("rules.2.value": why).

    Accepts form strings ("key, valued", "30", "yes") and JSON values alike,
    so the builder, its live count and the API share one set of rules. Clean
    rules go through again unchanged. People named as owners must exist and
    be able to own customers (one query for all of them; `check_people`
    False skips it for rules saved after that check).
    """
    errors = {}
    try:
        check_match(match)
    except Invalid as error:
        errors.update(error.fields)
    if rules is None:
        rules = []
    if not isinstance(rules, (list, tuple)):
        raise Invalid(fields={**errors, "rules": _l("Give a list of rules.")})
    if len(rules) > MAX_RULES:
        raise Invalid(fields={**errors, "rules": _l("Give at most %(n)d rules.", n=MAX_RULES)})
    clean = []
    for index, rule in enumerate(rules):
        try:
            clean.append(_check_rule(index, rule))
        except Invalid as error:
            errors.update(error.fields)
    if check_people:
        _check_people(clean, errors)
    if errors:
        raise Invalid(fields=errors)
    return [{"field": rule["field"], "op": rule["op"], "value": rule["value"]} for rule in clean]


def _check_rule(index, rule):
    where = f"rules.{index}"
    if not isinstance(rule, dict):
        raise Invalid(fields={where: _l("Give each rule as a field, an operator and a value.")})
    field = FIELDS.get(str(rule.get("field") or "").strip())
    if field is None:
        raise Invalid(fields={f"{where}.field": _l("Choose a field: %(fields)s.", fields=", ".join(FIELDS))})
    op = str(rule.get("op") or "").strip()
    if op not in field.operators:
        raise Invalid(fields={f"{where}.op": _l("For %(field)s choose one of: %(ops)s.", field=field.label,
                                                ops=", ".join(field.operators))})
    try:
        value = _check_value(field, op, rule.get("value"))
    except _Bad as bad:
        raise Invalid(fields={f"{where}.value": bad.message}) from None
    return {"field": field.name, "op": op, "value": value, "index": index}


def _check_value(field, op, value):
    if op in VALUELESS:
        return None
    kind = field.kind
    if kind in ("enum", "person"):
        allowed = None if kind == "person" else [choice for choice, _label in field.choices()]
        if op in MANY:
            return _some(_items(value), lambda item: _choice(item, allowed))
        return _choice(_one(value), allowed)
    if kind == "text":
        if op in MANY:
            return _some(_items(value), _text)
        return _text(_one(value))
    if kind == "list":
        return _some(_items(value), _text)
    if kind == "number":
        if op == "between":
            low, high = (_amount(item) for item in _pair(value))
            if low > high:
                raise _Bad(_l("Give the smaller number first."))
            return [low, high]
        return _amount(_one(value))
    if op in ("within_days", "not_within_days", "within_next_days"):
        return _days(_one(value))
    if op in ("before", "after"):
        return _date(_one(value))
    return _yes_no(value)


def _one(value):
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            raise _Bad(_l("Give one value."))
        value = value[0]
    return value


def _items(value):
    """A list from a JSON list, a form's repeated values, or "a, b; c"."""
    if value is None:
        return []
    if isinstance(value, str):
        return [item.strip() for item in re.split(r"[;,，、\n]", value) if item.strip()]
    if isinstance(value, (list, tuple)):
        return [item for entry in value for item in (_items(entry) if isinstance(entry, str) else [entry])]
    return [value]


def _some(items, clean_item):
    items = list(dict.fromkeys(clean_item(item) for item in items))
    if not items:
        raise _Bad(_l("Give at least one value."))
    if len(items) > MAX_ITEMS:
        raise _Bad(_l("Give at most %(n)d values.", n=MAX_ITEMS))
    return items


def _choice(value, allowed):
    text = str(value if value is not None else "").strip()
    if allowed is None:  # a person: a user id, checked against the users in one query later
        if not text.isdigit() or not 0 < int(text) < 2**31:
            raise _Bad(_l("Choose a person."))
        return int(text)
    if text not in allowed:
        raise _Bad(_l("Choose one of: %(choices)s.", choices=", ".join(allowed)))
    return text


def _text(value):
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise _Bad(_l("Give text."))
    text = " ".join(str(value).split())
    if not text:
        raise _Bad(_l("Give a value."))
    if len(text) > TEXT_MAX:
        raise _Bad(_l("Keep it to %(n)d characters.", n=TEXT_MAX))
    return text


def _pair(value):
    items = _items(value)
    if len(items) != 2:
        raise _Bad(_l("Give two numbers: the lowest and the highest."))
    return items


def _amount(value):
    if isinstance(value, bool):
        raise _Bad(_l("Give a number."))
    try:
        number = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        raise _Bad(_l("Give a number.")) from None
    if not number.is_finite() or abs(number) > AMOUNT_MAX:
        raise _Bad(_l("Give a number."))
    number = number.quantize(Decimal("0.01"))
    return int(number) if number == number.to_integral_value() else float(number)


def _days(value):
    text = str(value if value is not None else "").strip()
    if isinstance(value, bool) or not text.isdigit() or int(text) > DAYS_MAX:
        raise _Bad(_l("Give a whole number of days from 0 to %(n)d.", n=DAYS_MAX))
    return int(text)


def _date(value):
    try:
        return date.fromisoformat(str(value or "").strip()).isoformat()
    except ValueError:
        raise _Bad(_l("Give a date as YYYY-MM-DD.")) from None


def _yes_no(value):
    if isinstance(value, bool):
        return value
    text = str(_one(value) if value is not None else "").strip().lower()
    if text in ("yes", "true", "1"):
        return True
    if text in ("no", "false", "0"):
        return False
    raise _Bad(_l("Choose yes or no."))


def _check_people(clean, errors):
    """Owners named in rules must be people who can own customers; one query for every rule."""
    wanted = {person for rule in clean if FIELDS[rule["field"]].kind == "person" and rule["value"] is not None
              for person in (rule["value"] if isinstance(rule["value"], list) else [rule["value"]])}
    if not wanted:
        return
    roles = {person: role for person, role in db.session.execute(
        sa.select(User.id, User.role).where(User.id.in_(wanted))).all()}
    for rule in clean:
        if FIELDS[rule["field"]].kind != "person" or rule["value"] is None:
            continue
        allowed = SALES_ROLES if rule["field"] == "sales_owner" else COMMUNITY_STAFF_ROLES
        people = rule["value"] if isinstance(rule["value"], list) else [rule["value"]]
        if any(roles.get(person) not in allowed for person in people):
            errors[f"rules.{rule['index']}.value"] = _l("Choose someone who can own customers.")


# -- compiling rules to SQL -----------------------------------------------------------------------

def segment_customers(segment_or_rules, *, match=None, now=None):
    """select(Customer) of the customers a segment (or its rules) matches, unordered; no rows loaded.

    `segment_or_rules` is a Segment, a list of rules (matched with `match`,
    default all) or {"match", "rules"}. Rules are checked first (Invalid if
    bad). The caller counts it, pages it (add an order_by), or narrows it with
    `.with_only_columns(Customer.id)`. No rules: every customer.
    """
    return sa.select(Customer).where(_matches(segment_or_rules, match=match, now=now))


def segment_members(segment_ids, *, now=None):
    """select(User) of the active members linked to customers in any of the segments, each once, by id.

    A member in two of the segments comes once (a user belongs to one
    customer, so nothing is joined that could repeat them). NotFound if a
    segment does not exist; no segments: no members.
    """
    ids = list(dict.fromkeys(segment_ids or []))
    segments = db.session.scalars(sa.select(Segment).where(Segment.id.in_(ids))).all() if ids else []
    if len(segments) != len(ids):
        raise NotFound("segment_not_found", _l("That segment does not exist."))
    return members_of(*segments, now=now)


def members_of(*segments, now=None):
    """select(User) of the active members linked to customers in any of these Segment rows, by id."""
    condition = sa.or_(*(_matches(segment, now=now) for segment in segments)) if segments else sa.false()
    customers = sa.select(Customer.id).where(condition)
    return (sa.select(User).where(User.customer_id.in_(customers), User.status == UserStatus.ACTIVE,
                                  User.role == Role.MEMBER).order_by(User.id))


def _matches(segment_or_rules, *, match=None, now=None):
    """The WHERE condition over customers for a segment or its rules."""
    saved = isinstance(segment_or_rules, Segment)
    if saved:
        match, rules = segment_or_rules.match, segment_or_rules.rules
    elif isinstance(segment_or_rules, dict):
        match, rules = segment_or_rules.get("match"), segment_or_rules.get("rules")
    else:
        rules = segment_or_rules
    match = check_match(match)
    rules = check_rules(match, rules, check_people=not saved)
    if not rules:
        return sa.true()
    now = now or utcnow()
    conditions = [_condition(rule, now) for rule in rules]
    return sa.and_(*conditions) if match == SegmentMatch.ALL else sa.or_(*conditions)


def _condition(rule, now):
    field, op, value = FIELDS[rule["field"]], rule["op"], rule["value"]
    kind, column = field.kind, field.column
    if kind in ("enum", "person", "text"):
        return _plain(column, op, value)
    if kind == "list":
        return _tags_has(op, value) if field.name == "tags" else _has(_owns_any, op, value)
    if kind == "number":
        return _compare(column, op, value)
    if kind == "touch":
        return _touched(column, op, value, now)
    if kind == "renewal":
        return _renewal(column, op, value, now.date())
    # As products: an uncorrelated IN (NULLs left out, so NOT IN stays true for customers without people).
    members = Customer.id.in_(sa.select(User.customer_id).where(User.customer_id.is_not(None)))
    return members if value else ~members


def _plain(column, op, value):
    # Exact comparisons keep to the column's index; an empty value counts as "not" anything.
    if op == "is":
        return column == value
    if op == "in":
        return column.in_(value)
    if op == "is_not":
        return sa.or_(column.is_(None), column != value)
    if op == "not_in":
        return sa.or_(column.is_(None), column.not_in(value))
    if op == "contains":
        return column.icontains(value, autoescape=True)
    # Text may hold an empty string; an owner id only NULL.
    text = isinstance(column.type, sa.String)
    if op == "is_empty":
        return sa.or_(column.is_(None), column == "") if text else column.is_(None)
    return sa.and_(column.is_not(None), column != "") if text else column.is_not(None)


def _has(any_of, op, values):
    if op == "has_any":
        return any_of(values)
    if op == "has_none":
        return ~any_of(values)
    return sa.and_(*(any_of([value]) for value in values))


def _tags_has(op, tags):
    """Whether the customer's JSON list of tags has any, all or none of `tags`, in any case."""
    if db.session.get_bind().dialect.name == "postgresql" and all(VERBATIM.match(tag) for tag in tags):
        return _tags_has_on_postgresql(op, tags)
    return _has(_contains_any, op, tags)


def _tags_has_on_postgresql(op, tags):
    """jsonb's ?| and ?& over the lowered JSON text: several times faster than unpacking every row's list.

    Lowering the text folds exactly what lower() folds in the elements while
    the tags asked for are plain ASCII (VERBATIM); others take _contains_any.
    """
    array = sa.case((sa.func.json_typeof(Customer.tags) == "array", Customer.tags))
    lowered = sa.cast(sa.func.lower(sa.cast(array, sa.Text)), postgresql.JSONB)
    wanted = postgresql.array([tag.lower() for tag in tags], type_=sa.Text)
    if op == "has_all":
        return lowered.has_all(wanted)
    has_any = sa.func.coalesce(lowered.has_any(wanted), False)
    return has_any if op == "has_any" else ~has_any


def _contains_any(tags):
    """A tag among `tags` (any case) in the customer's JSON list of tags, on SQLite and PostgreSQL.

    Unpacking every row's list is the slow part, so a LIKE over the stored
    JSON text goes first: a tag missing from the text can't be one of its
    elements. It only stands in for tags json.dumps stores verbatim (printable
    ASCII, no quote or backslash); any other tag leaves the rows to the exact test.
    """
    wanted = _lowered(tags)
    if db.session.get_bind().dialect.name == "postgresql":
        # A JSON value that is not an array (never written, but possible by hand) counts as no tags.
        array = sa.case((sa.func.json_typeof(Customer.tags) == "array", Customer.tags))
        elements = sa.func.json_array_elements_text(array).table_valued("value").alias("tag")
    else:
        elements = sa.func.json_each(Customer.tags).table_valued("value").alias("tag")
    exact = sa.exists(sa.select(1).select_from(elements).where(sa.func.lower(elements.c.value).in_(wanted)))
    if not all(VERBATIM.match(tag) for tag in tags):
        return exact
    text = sa.cast(Customer.tags, sa.Text)
    return sa.and_(sa.or_(*(text.icontains(tag, autoescape=True) for tag in tags)), exact)


def _owns_any(products):
    """Owning one of the products (any case): an IN over customer_products, never a join that multiplies
    rows; uncorrelated, so the database reads the products once, also inside an "any of"."""
    wanted = _lowered(products)
    return Customer.id.in_(sa.select(CustomerProduct.customer_id)
                           .where(sa.func.lower(CustomerProduct.product).in_(wanted)))


def _lowered(values):
    # The database lowers both sides, so "any case" means the same on either side (SQLite folds ASCII only).
    return [sa.func.lower(sa.literal(value, sa.String)) for value in values]


def _compare(column, op, value):
    if op == "between":
        return column.between(Decimal(str(value[0])), Decimal(str(value[1])))
    number = Decimal(str(value))
    return {"gt": column > number, "gte": column >= number, "lt": column < number, "lte": column <= number}[op]


def _touched(column, op, days, now):
    if op == "never":
        return column.is_(None)
    cutoff = now - timedelta(days=days)
    if op == "within_days":
        return column >= cutoff
    return sa.or_(column.is_(None), column < cutoff)


def _renewal(column, op, value, today):
    if op == "within_next_days":
        return column.between(today, today + timedelta(days=value))
    if op == "overdue":
        return column < today
    if op == "before":
        return column < date.fromisoformat(value)
    if op == "after":
        return column > date.fromisoformat(value)
    return column.is_(None)


def count_of(query):
    """How many customers a segment_customers() select holds, counted in the database."""
    return db.session.scalar(query.with_only_columns(sa.func.count(Customer.id)).order_by(None))


# -- rules in words -------------------------------------------------------------------------------

def rule_in_words(rule, people=None):
    """One clean rule as a person would say it: "Value tier is one of Key, Valued"."""
    field, op, value = FIELDS[rule["field"]], rule["op"], rule["value"]
    if field.kind == "yesno":
        return str(_l("Has linked members")) if value else str(_l("Has no linked members"))
    shown = _shown_value(field, value, people or {})
    if field.kind == "touch" and op in ("within_days", "not_within_days"):
        phrase = (_l("Last touch within the last %(n)s days") if op == "within_days"
                  else _l("Last touch not within the last %(n)s days"))
        return str(phrase) % {"n": value}
    if field.kind == "touch":
        return str(_l("Never touched"))
    if op == "within_next_days":
        return str(_l("Renewal date within the next %(n)s days")) % {"n": value}
    if op == "between":
        return str(_l("%(field)s is between %(low)s and %(high)s")) % {
            "field": field.label, "low": f"{value[0]:,}", "high": f"{value[1]:,}"}
    if op in VALUELESS:
        return f"{field.label} {OPERATOR_LABELS[op]}"
    return f"{field.label} {OPERATOR_LABELS[op]} {shown}"


def _shown_value(field, value, people):
    values = value if isinstance(value, list) else [value]
    if field.kind == "enum":
        labels = dict(field.choices())
        return ", ".join(str(labels.get(item, item)) for item in values)
    if field.kind == "person":
        return ", ".join(people.get(item, f"#{item}") for item in values)
    if field.kind == "number":
        return ", ".join(f"{item:,}" for item in values)
    return ", ".join(str(item) for item in values)


def rules_in_words(segment_or_rules, people=None):
    """Every rule in words, as a list (the page joins them with "and" or "or")."""
    rules = segment_or_rules.rules if isinstance(segment_or_rules, Segment) else segment_or_rules
    return [rule_in_words(rule, people) for rule in rules or []]


def people_named(rule_lists):
    """{user id: display name} for the owners the rules name: one query for a whole page."""
    wanted = {person for rules in rule_lists for rule in rules or [] if FIELDS[rule["field"]].kind == "person"
              and rule["value"] is not None
              for person in (rule["value"] if isinstance(rule["value"], list) else [rule["value"]])}
    if not wanted:
        return {}
    return dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(wanted))).all())


def match_joiner(match):
    if check_match(match) == SegmentMatch.ALL:
        return str(lazy_pgettext("segment rule", "and"))
    return str(lazy_pgettext("segment rule", "or"))


# -- services -------------------------------------------------------------------------------------

@dataclass
class SegmentCounts:
    segment: Segment
    customers: int
    members: int


def list_segments(actor, *, now=None):
    """[SegmentCounts] of every segment by name, in three queries however many segments there are.

    The customers of all segments are counted in one pass over the customers
    (count(*) FILTER per segment), their members in one pass over the members.
    """
    ensure(actor, Permission.MANAGE_SEGMENTS)
    segments = db.session.scalars(sa.select(Segment).order_by(sa.func.lower(Segment.name), Segment.id)).all()
    if not segments:
        return []
    now = now or utcnow()
    conditions = [_matches(segment, now=now) for segment in segments]
    customers = db.session.execute(sa.select(*(sa.func.count(Customer.id).filter(condition)
                                               for condition in conditions))).one()
    members = db.session.execute(
        sa.select(*(sa.func.count(User.id).filter(condition) for condition in conditions))
        .select_from(User).join(Customer, Customer.id == User.customer_id)
        .where(User.status == UserStatus.ACTIVE, User.role == Role.MEMBER)).one()
    return [SegmentCounts(segment, customers[i], members[i]) for i, segment in enumerate(segments)]


def get_segment(actor, segment_id):
    """The segment with this id; NotFound otherwise."""
    ensure(actor, Permission.MANAGE_SEGMENTS)
    segment = db.session.get(Segment, segment_id) if isinstance(segment_id, int) else None
    if segment is None:
        raise NotFound("segment_not_found", _l("That segment does not exist."))
    return segment


def count_matching(actor, match, rules, *, now=None):
    """How many customers the rules match now (the builder's live count); Invalid for bad rules."""
    ensure(actor, Permission.MANAGE_SEGMENTS)
    return count_of(segment_customers(rules, match=match, now=now))


def member_count(segment, *, now=None):
    """How many active members are linked to the segment's customers."""
    query = members_of(segment, now=now)
    return db.session.scalar(query.with_only_columns(sa.func.count(User.id)).order_by(None))


def create_segment(actor, name, description, match, rules, *, now=None):
    """A new segment with checked rules and a unique name; audited and committed. Invalid or Conflict write nothing.

    Two people creating one name at once make one segment: the unique
    constraint decides, and the loser gets the same Conflict as a name taken
    long ago.
    """
    ensure(actor, Permission.MANAGE_SEGMENTS)
    values = _checked(name, description, match, rules)
    now = now or utcnow()
    segment = Segment(**values, created_by_id=actor.id, created_at=now, updated_at=now)
    _name_free(values["name"])
    db.session.add(segment)
    _flush_or_conflict()
    audit(actor, "segment.created", segment, now=now, after=_snapshot(segment))
    db.session.commit()
    return segment


def update_segment(actor, segment_id, name, description, match, rules, *, now=None):
    """Change a segment's name, description, match and rules; audited with before and after; committed."""
    segment = get_segment(actor, segment_id)
    values = _checked(name, description, match, rules)
    before = _snapshot(segment)
    if values["name"] != segment.name:
        _name_free(values["name"], but=segment.id)
    for key, value in values.items():
        setattr(segment, key, value)
    after = _snapshot(segment)
    if after != before:
        now = now or utcnow()
        segment.updated_at = now
        _flush_or_conflict()
        audit(actor, "segment.updated", segment, now=now,
              before={k: v for k, v in before.items() if after[k] != v},
              after={k: v for k, v in after.items() if before[k] != v})
    db.session.commit()
    return segment


def delete_segment(actor, segment_id, *, now=None):
    """Remove a segment (what it was is kept in the audit log); committed."""
    segment = get_segment(actor, segment_id)
    audit(actor, "segment.deleted", segment, now=now or utcnow(), before=_snapshot(segment))
    db.session.delete(segment)
    db.session.commit()


def _checked(name, description, match, rules):
    """The segment's columns from typed values; Invalid naming every bad field and rule at once."""
    errors = {}
    name = " ".join(str(name or "").split())
    if not name:
        errors["name"] = _l("Give the segment a name.")
    elif len(name) > NAME_MAX:
        errors["name"] = _l("Keep it to %(n)d characters.", n=NAME_MAX)
    description = str(description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = _l("Keep it to %(n)d characters.", n=DESCRIPTION_MAX)
    clean = []
    try:
        clean = check_rules(match, rules)
    except Invalid as error:
        errors.update(error.fields)
    if errors:
        raise Invalid(fields=errors)
    return {"name": name, "description": description, "match": check_match(match), "rules": clean}


def _name_taken():
    message = _l("Another segment already has this name.")
    return Conflict("segment_name_taken", message, fields={"name": message})


def _name_free(name, but=None):
    query = sa.select(Segment.id).where(sa.func.lower(Segment.name) == name.lower())
    if but is not None:
        query = query.where(Segment.id != but)
    if db.session.scalar(query.limit(1)) is not None:
        raise _name_taken()


def _flush_or_conflict():
    """Flush, turning the unique name's IntegrityError (a parallel create or rename) into Conflict."""
    try:
        db.session.flush()
    except sa.exc.IntegrityError:
        db.session.rollback()
        raise _name_taken() from None


def _snapshot(segment):
    return {"name": segment.name, "description": segment.description, "match": str(segment.match),
            "rules": list(segment.rules or [])}
