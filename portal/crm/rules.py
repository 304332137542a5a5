"""The numbers behind segments that an admin may change: tier shares, lifecycle rules, replacement cycles,
churn-risk windows and the announcement frequency cap.

All live in one stored setting ("crm"), over the defaults below. Every
reader goes through `crm_rules()`, so a change applies from the next
computation on, in every process.
"""
from dataclasses import asdict, dataclass, field, fields, replace

from flask_babel import lazy_gettext as _l

from ..audit import audit
from ..errors import Invalid
from ..extensions import db
from ..inputs import whole_number_in
from ..settings import store_setting, stored_setting

SETTING_KEY = "crm"
PRODUCT_MAX = 120


@dataclass(frozen=True)
class CrmRules:
    # ABC analysis, in percent of all revenue: the first 80% is key, up to 95% valued, the rest standard.
    key_share: int = 80
    valued_share: int = 95
    # Lifecycle: a prospect silent this many days goes dormant, then lost; a renewal this many days
    # overdue with no purchase since churns the customer. 0 turns a rule off.
    dormant_after_days: int = 90
    lost_after_days: int = 180
    renewal_grace_days: int = 30
    # Future value: a renewal within this many days counts; a product this far (percent) into its
    # replacement cycle is a repurchase chance.
    renewal_window_days: int = 90
    cycle_share_due: int = 75
    # Years until a product is usually replaced, by product name.
    product_cycles: dict = field(default_factory=dict)
    # Churn risk: a question of theirs unanswered this many days; complaints counted over this many days.
    unanswered_days: int = 3
    complaint_window_days: int = 90
    # Retention: days an owner has to act on a customer at risk.
    retention_due_days: int = 7
    # Announcements: at most this many per member in this many days.
    announcement_cap: int = 1
    announcement_cap_days: int = 7


# (name, lowest, highest, label) of every number an admin may set.
LIMITS = {
    "key_share": (1, 99, _l("Key customers bring the first (percent of revenue)")),
    "valued_share": (2, 100, _l("Valued customers bring up to (percent of revenue)")),
    "dormant_after_days": (0, 3650, _l("A silent prospect goes dormant after (days)")),
    "lost_after_days": (0, 3650, _l("A dormant prospect is lost after (days)")),
    "renewal_grace_days": (0, 365, _l("A lapsed renewal churns after (days)")),
    "renewal_window_days": (1, 730, _l("A renewal counts as due within (days)")),
    "cycle_share_due": (1, 100, _l("A product is due for replacement at (percent of its cycle)")),
    "unanswered_days": (1, 90, _l("A question is unanswered after (days)")),
    "complaint_window_days": (7, 730, _l("Complaints count over the last (days)")),
    "retention_due_days": (1, 90, _l("Owners act on a customer at risk within (days)")),
    "announcement_cap": (1, 100, _l("Announcements per member at most")),
    "announcement_cap_days": (1, 365, _l("…in this many days")),
}


def crm_rules():
    """The rules in force: the defaults with whatever an admin stored over them."""
    stored = stored_setting(SETTING_KEY)
    known = {f.name for f in fields(CrmRules)}
    return replace(CrmRules(), **{name: value for name, value in stored.items() if name in known})


def check_rules(values):
    """CrmRules from submitted values (strings or numbers), or Invalid naming every bad field."""
    current, clean, errors = crm_rules(), {}, {}
    for name, (lowest, highest, _label) in LIMITS.items():
        raw = values.get(name, getattr(current, name))
        number = whole_number_in(raw, lowest, highest)
        if number is None:
            errors[name] = _l("Enter a whole number from %(low)d to %(high)d.", low=lowest, high=highest)
        else:
            clean[name] = number
    if "key_share" in clean and "valued_share" in clean and clean["valued_share"] <= clean["key_share"]:
        errors["valued_share"] = _l("The valued share must be above the key share.")
    if clean.get("lost_after_days") and clean.get("dormant_after_days") \
            and clean["lost_after_days"] <= clean["dormant_after_days"]:
        errors["lost_after_days"] = _l("A prospect must be dormant before it is lost: give more days.")
    cycles, cycle_error = _check_cycles(values.get("product_cycles", current.product_cycles))
    if cycle_error:
        errors["product_cycles"] = cycle_error
    if errors:
        raise Invalid("invalid_rules", fields=errors)
    return CrmRules(**clean, product_cycles=cycles)


def _check_cycles(cycles):
    """{product: years} from a dict or from lines of "product: years"."""
    if isinstance(cycles, str):
        pairs = []
        for line in cycles.splitlines():
            if not line.strip():
                continue
            product, sep, years = line.rpartition(":") if ":" in line else line.rpartition("：")
            if not sep:
                return {}, _l("Write one product per line as “product: years”.")
            pairs.append((product, years))
    else:
        pairs = list(dict(cycles or {}).items())
    clean = {}
    for product, years in pairs:
        product = " ".join(str(product).split())
        try:
            years = int(str(years).strip())
        except ValueError:
            years = 0
        if not product or len(product) > PRODUCT_MAX or not 1 <= years <= 50:
            return {}, _l("Each product needs a name and a cycle of 1 to 50 years.")
        clean[product] = years
    return clean, None


def update_crm_rules(actor, values):
    """Store new rules (every number checked, nothing stored if one is bad); audited, committed.

    Returns the rules now in force. A changed tier share re-runs the ABC
    analysis after commit (crm.dimensions).
    """
    before = crm_rules()
    after = check_rules(values)
    store_setting(actor, SETTING_KEY, asdict(after))
    audit(actor, "settings.crm_rules_changed", None, old=asdict(before), new=asdict(after))
    if (before.key_share, before.valued_share) != (after.key_share, after.valued_share):
        from .dimensions import schedule_tier_recompute

        schedule_tier_recompute(cause="tiers.thresholds")
    db.session.commit()
    return after


def cycle_lines(cycles):
    """The replacement cycles as the settings form shows them, one "product: years" per line."""
    return "\n".join(f"{product}: {years}" for product, years in sorted(cycles.items()))
