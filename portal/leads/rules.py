"""The lead rules an admin may change: each signal's weight and half-life, the threshold that makes a lead,
what counts as a higher plan, each kind's time to first contact, and when a neglected lead goes back.

All live in one stored setting ("leads"), over the defaults below; every
reader goes through `lead_rules()`, so a change applies from the next signal
on, in every process.
"""
from dataclasses import asdict, dataclass, field, fields, replace

from flask_babel import lazy_gettext as _l

from ..audit import audit
from ..errors import Invalid
from ..extensions import db
from ..inputs import whole_number_in
from ..settings import store_setting, stored_setting
from .models import LeadKind, SignalKind

SETTING_KEY = "leads"
TAG_MAX = 40


@dataclass(frozen=True)
class Weight:
    points: int
    half_life_days: int


DEFAULT_WEIGHTS = {
    SignalKind.INTENT_WORDS: Weight(40, 21),
    SignalKind.HIGHER_PLAN: Weight(25, 30),
    SignalKind.REFERRAL_SIGNUP: Weight(40, 30),
    SignalKind.CAME_BACK: Weight(40, 14),
    SignalKind.PROSPECT_ENGAGED: Weight(25, 30),
    SignalKind.REPLACEMENT_DUE: Weight(40, 60),
    SignalKind.STAFF_FLAG: Weight(60, 30),
}
# Days from the claim to the first contact.
DEFAULT_SLA_DAYS = {
    LeadKind.UPSELL: 3, LeadKind.UPGRADE: 3, LeadKind.REPURCHASE: 5,
    LeadKind.REFERRAL: 2, LeadKind.WIN_BACK: 2, LeadKind.NEW_BUSINESS: 2,
}


@dataclass(frozen=True)
class LeadRules:
    # A subject whose signals add up to this (after decay) becomes a lead.
    threshold: int = 40
    weights: dict = field(default_factory=lambda: {str(k): asdict(w) for k, w in DEFAULT_WEIGHTS.items()})
    sla_days: dict = field(default_factory=lambda: {str(k): d for k, d in DEFAULT_SLA_DAYS.items()})
    # A held lead with no note or stage change for this many days goes back to the pool.
    follow_up_days: int = 7
    # Questions in these categories, or with these tags, are about features of a higher plan.
    higher_plan_tags: list = field(default_factory=list)
    higher_plan_category_ids: list = field(default_factory=list)
    # A prospect account whose engagement score reaches this is engaging strongly.
    prospect_engaged_score: int = 45
    # A customer whose people were silent this many days is coming back when they act again.
    came_back_after_days: int = 90

    def weight(self, kind):
        stored = self.weights.get(str(kind)) or asdict(DEFAULT_WEIGHTS[SignalKind(kind)])
        return Weight(int(stored["points"]), int(stored["half_life_days"]))

    def sla(self, kind):
        return int(self.sla_days.get(str(kind), DEFAULT_SLA_DAYS[LeadKind(kind)]))


# (lowest, highest, label) of every plain number an admin may set.
LIMITS = {
    "threshold": (1, 1000, _l("A lead is made at (points)")),
    "follow_up_days": (1, 90, _l("A held lead with no follow-up goes back to the pool after (days)")),
    "prospect_engaged_score": (1, 100, _l("A prospect engages strongly from (engagement score)")),
    "came_back_after_days": (7, 730, _l("A customer comes back after being silent (days)")),
}
POINTS_LIMITS = (0, 1000)
HALF_LIFE_LIMITS = (1, 365)
SLA_LIMITS = (1, 90)


def lead_rules():
    """The rules in force: the defaults with whatever an admin stored over them."""
    stored = stored_setting(SETTING_KEY)
    known = {f.name for f in fields(LeadRules)}
    rules = replace(LeadRules(), **{name: value for name, value in stored.items() if name in known})
    # A signal kind added after the admin saved gets its default.
    weights = {str(kind): asdict(rules.weight(kind)) for kind in SignalKind}
    sla_days = {str(kind): rules.sla(kind) for kind in LeadKind}
    return replace(rules, weights=weights, sla_days=sla_days)


def _range_error(lowest, highest):
    return _l("Enter a whole number from %(low)d to %(high)d.", low=lowest, high=highest)


def check_rules(values):
    """LeadRules from submitted values (strings or numbers), or Invalid naming every bad field.

    Weights come as "weight.<kind>.points" / "weight.<kind>.half_life_days",
    SLAs as "sla.<kind>", or nested under "weights" / "sla_days".
    """
    current, clean, errors = lead_rules(), {}, {}
    for name, (lowest, highest, _label) in LIMITS.items():
        number = whole_number_in(values.get(name, getattr(current, name)), lowest, highest)
        if number is None:
            errors[name] = _range_error(lowest, highest)
        clean[name] = number
    weights = {}
    for kind in SignalKind:
        nested = (values.get("weights") or {}).get(str(kind), {})
        weight = {}
        for part, (lowest, highest) in (("points", POINTS_LIMITS), ("half_life_days", HALF_LIFE_LIMITS)):
            raw = values.get(f"weight.{kind}.{part}", nested.get(part, getattr(current.weight(kind), part)))
            weight[part] = whole_number_in(raw, lowest, highest)
            if weight[part] is None:
                errors[f"weight.{kind}.{part}"] = _range_error(lowest, highest)
        weights[str(kind)] = weight
    sla_days = {}
    for kind in LeadKind:
        raw = values.get(f"sla.{kind}", (values.get("sla_days") or {}).get(str(kind), current.sla(kind)))
        sla_days[str(kind)] = whole_number_in(raw, *SLA_LIMITS)
        if sla_days[str(kind)] is None:
            errors[f"sla.{kind}"] = _range_error(*SLA_LIMITS)
    tags, tag_error = _check_tags(values.get("higher_plan_tags", current.higher_plan_tags))
    if tag_error:
        errors["higher_plan_tags"] = tag_error
    categories, category_error = _check_categories(values.get("higher_plan_category_ids",
                                                              current.higher_plan_category_ids))
    if category_error:
        errors["higher_plan_category_ids"] = category_error
    if errors:
        raise Invalid("invalid_rules", fields=errors)
    return LeadRules(**clean, weights=weights, sla_days=sla_days, higher_plan_tags=tags,
                     higher_plan_category_ids=categories)


def _check_tags(tags):
    """Tag names from a list or from text separated by commas or new lines (， too)."""
    if isinstance(tags, str):
        tags = tags.replace("，", ",").replace("\n", ",").split(",")
    clean = []
    for tag in tags or []:
        tag = " ".join(str(tag).split()).lower()
        if not tag:
            continue
        if len(tag) > TAG_MAX:
            return [], _l("Each tag can be at most %(n)d characters.", n=TAG_MAX)
        if tag not in clean:
            clean.append(tag)
    return clean, None


def _check_categories(ids):
    from ..community.models import Category

    try:
        clean = sorted({int(i) for i in ids or []})
    except (TypeError, ValueError):
        return [], _l("Choose categories from the list.")
    if clean and db.session.query(Category.id).filter(Category.id.in_(clean)).count() != len(clean):
        return [], _l("Choose categories from the list.")
    return clean, None


def update_lead_rules(actor, values):
    """Store new rules (everything checked, nothing stored if one is bad); audited, committed.

    Signals already recorded keep the points and half-life they were
    recorded with; new ones follow the new rules.
    """
    before = lead_rules()
    after = check_rules(values)
    store_setting(actor, SETTING_KEY, asdict(after))
    audit(actor, "settings.lead_rules_changed", None, old=asdict(before), new=asdict(after))
    db.session.commit()
    return after


def form_values(rules=None):
    """The rules as the settings page's fields: {"threshold": 40, "weight.<kind>.points": 40, "sla.<kind>": 3,
    "higher_plan_tags": "a, b", "higher_plan_category_ids": [1, 2], …}."""
    rules = rules or lead_rules()
    values = {name: getattr(rules, name) for name in LIMITS}
    for kind in SignalKind:
        weight = rules.weight(kind)
        values[f"weight.{kind}.points"], values[f"weight.{kind}.half_life_days"] = weight.points, weight.half_life_days
    values.update({f"sla.{kind}": rules.sla(kind) for kind in LeadKind})
    values["higher_plan_tags"] = ", ".join(rules.higher_plan_tags)
    values["higher_plan_category_ids"] = list(rules.higher_plan_category_ids)
    return values


def submitted_values(form):
    """The settings page's posted fields (a MultiDict), as check_rules reads them; missing boxes count as empty."""
    names = [*LIMITS, *(f"weight.{kind}.{part}" for kind in SignalKind for part in ("points", "half_life_days")),
             *(f"sla.{kind}" for kind in LeadKind), "higher_plan_tags"]
    values = {name: form.get(name, "") for name in names}
    values["higher_plan_category_ids"] = form.getlist("higher_plan_category_ids")
    return values
