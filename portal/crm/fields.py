"""The fields of a customer record and how each is checked: one door for the staff form, the API and CSV import.

`clean_fields(raw)` takes what a person or a system typed (strings from a
form or a CSV cell, or JSON values) and returns the values to store, or
raises Invalid naming every field that is wrong at once, so a form shows all
its errors and an import row reports all its reasons.
"""
import re
from datetime import date
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from email_validator import EmailNotValidError
from email_validator import validate_email as check_email_syntax
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from ..auth.models import User
from ..errors import Invalid
from ..extensions import db
from ..permissions import Role
from ..sqltypes import LabelledEnum
from .models import CompanySize, CustomerSource, LifecycleStage, ValueTier


class ContactChannel(LabelledEnum):
    EMAIL = "email", _l("Email")
    PHONE = "phone", _l("Phone")
    WECHAT = "wechat", _l("WeChat")
    SMS = "sms", _l("SMS")
    POST = "post", lazy_pgettext("contact channel", "Post")


LANGUAGES = {"en": _l("English"), "zh": _l("Simplified Chinese"), "zh_Hant": _l("Traditional Chinese")}
SALES_ROLES = frozenset({Role.SALES, Role.SALES_MANAGER})
COMMUNITY_STAFF_ROLES = frozenset({Role.MODERATOR, Role.ADMIN})

TEXT_LIMITS = {"name": 120, "company": 120, "region": 80, "industry": 80, "external_id": 64, "lost_to": 120}
MAX_DOMAINS, MAX_TAGS, TAG_MAX, MAX_PRODUCTS = 10, 20, 40, 50
REVENUE_MAX = Decimal("999999999999.99")
PHONE = re.compile(r"^\+?[0-9 ()./-]{4,32}(?:\s*(?:ext\.?|x|转)\s*[0-9]{1,6})?$", re.IGNORECASE)
DOMAIN = re.compile(r"^(?=.{3,120}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}$")
# "Lumina Analytics Pro (2023-04-12)" or "Lumina Analytics Pro (2023-04-12) x3", separated by ";"
PRODUCT = re.compile(r"^(?P<product>.+?)\s*\((?P<on>[^)]+)\)\s*(?:[x×*]\s*(?P<quantity>\d{1,6}))?$")

FIELDS = ("name", "company", "email", "domains", "phone", "region", "industry", "size", "source",
          "external_id", "sales_owner", "relationship_owner", "value_tier", "lifecycle_stage", "lost_to", "revenue",
          "first_purchase_at", "last_purchase_at", "renewal_date", "contact_channels", "opt_outs",
          "preferred_language", "tags", "products", "email_bounced")


def clean_fields(raw, *, creating, today=None):
    """{field: value to store} for the fields present in `raw`; Invalid with every bad field's reason.

    Empty strings clear optional fields. `creating` makes `name` required.
    Owners come back as User rows; products as [(product, purchased_on, quantity)].
    """
    today = today or date.today()
    unknown = sorted(set(raw) - set(FIELDS))
    errors = {field: _l("There is no such field.") for field in unknown}
    clean = {}
    for field in FIELDS:
        if field not in raw:
            continue
        try:
            clean[field] = _CLEANERS[field](raw[field], today)
        except _Bad as bad:
            errors[field] = bad.message
    if (creating or "name" in clean) and not clean.get("name") and "name" not in errors:
        errors["name"] = _l("Give the customer a name.")
    _check_together(clean, errors)
    if errors:
        raise Invalid(fields=errors)
    return clean


class _Bad(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def _blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


def _text(field):
    def clean(value, today):
        if _blank(value):
            return None
        value = " ".join(str(value).split())
        if len(value) > TEXT_LIMITS[field]:
            raise _Bad(_l("Keep it to %(n)d characters.", n=TEXT_LIMITS[field]))
        return value
    return clean


def _email(value, today):
    if _blank(value):
        return None
    try:
        return check_email_syntax(str(value).strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise _Bad(_l("Enter a valid email address.")) from None


def _items(value):
    """A list from a JSON list or a cell like "a, b; c"."""
    if _blank(value):
        return []
    if isinstance(value, str):
        return [item.strip() for item in re.split(r"[;,，、\n]", value) if item.strip()]
    if isinstance(value, (list, tuple)):
        return [str(item).strip() for item in value if str(item).strip()]
    raise _Bad(_l("Give a list."))


def _domains(value, today):
    domains = list(dict.fromkeys(item.lower().removeprefix("@") for item in _items(value)))
    bad = [domain for domain in domains if not DOMAIN.match(domain)]
    if bad:
        raise _Bad(_l("%(domain)s is not a domain name (like example.com).", domain=bad[0]))
    if len(domains) > MAX_DOMAINS:
        raise _Bad(_l("Give at most %(n)d domains.", n=MAX_DOMAINS))
    return domains


def _phone(value, today):
    if _blank(value):
        return None
    value = " ".join(str(value).split())
    if not PHONE.match(value):
        raise _Bad(_l("Enter a phone number: digits, spaces, + ( ) - and an extension."))
    return value


def _choice(enum_class, message):
    def clean(value, today):
        if _blank(value):
            return None
        try:
            return enum_class(str(value).strip().lower())
        except ValueError:
            raise _Bad(message) from None
    return clean


def _required_choice(enum_class, message):
    inner = _choice(enum_class, message)

    def clean(value, today):
        chosen = inner(value, today)
        if chosen is None:
            raise _Bad(message)
        return chosen
    return clean


def _size(value, today):
    if _blank(value):
        return None
    try:
        return CompanySize(str(value).strip().replace("–", "-")).value
    except ValueError:
        raise _Bad(_l("Choose a size: %(sizes)s.", sizes=", ".join(size.value for size in CompanySize))) from None


def _staff_member(roles, message):
    def clean(value, today):
        if _blank(value):
            return None
        where = (User.id == int(value) if str(value).strip().isdigit()
                 else sa.func.lower(User.email) == str(value).strip().lower())
        user = db.session.scalar(sa.select(User).where(where))
        if user is None or user.role not in roles or not user.is_active:
            raise _Bad(message)
        return user
    return clean


def _revenue(value, today):
    if _blank(value):
        return Decimal("0")
    text = str(value).strip().replace(",", "").replace(" ", "").removeprefix("¥").removeprefix("$")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise _Bad(_l("Give the revenue as a number, like 125000.50.")) from None
    if not amount.is_finite() or amount < 0 or amount > REVENUE_MAX:
        raise _Bad(_l("Give the revenue as a number from 0 up."))
    return amount.quantize(Decimal("0.01"))


def _parse_date(value):
    if isinstance(value, date):
        return value
    text = str(value).strip().replace("/", "-").replace(".", "-")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _Bad(_l("Give a date as YYYY-MM-DD.")) from None


def _date(*, past_only):
    def clean(value, today):
        if _blank(value):
            return None
        when = _parse_date(value)
        if past_only and when > today:
            raise _Bad(_l("A purchase can't be in the future."))
        return when
    return clean


def _channels(value, today):
    try:
        return list(dict.fromkeys(ContactChannel(item.lower()).value for item in _items(value)))
    except ValueError:
        raise _Bad(_l("Choose from: %(channels)s.",
                      channels=", ".join(channel.value for channel in ContactChannel))) from None


def _language(value, today):
    if _blank(value):
        return None
    value = str(value).strip().replace("-", "_")
    matches = [code for code in LANGUAGES if code.lower() == value.lower()]
    if not matches:
        raise _Bad(_l("Choose en, zh or zh_Hant."))
    return matches[0]


def _tags(value, today):
    tags = list(dict.fromkeys(" ".join(tag.split()) for tag in _items(value)))
    if len(tags) > MAX_TAGS or any(len(tag) > TAG_MAX for tag in tags):
        raise _Bad(_l("Give at most %(n)d tags of up to %(chars)d characters.", n=MAX_TAGS, chars=TAG_MAX))
    return tags


def _flag(value, today):
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in ("", "0", "false", "no", "n"):
        return False
    if text in ("1", "true", "yes", "y"):
        return True
    raise _Bad(_l("Give true or false."))


def _products(value, today):
    if _blank(value):
        return []
    entries = value if isinstance(value, (list, tuple)) else [part for part in str(value).split(";") if part.strip()]
    products = [_product(entry, today) for entry in entries]
    if len(products) > MAX_PRODUCTS:
        raise _Bad(_l("Give at most %(n)d products.", n=MAX_PRODUCTS))
    return products


def _product(entry, today):
    if isinstance(entry, dict):
        name, on, quantity = entry.get("product"), entry.get("purchased_on"), entry.get("quantity", 1)
    else:
        match = PRODUCT.match(str(entry).strip())
        if match is None:
            raise _Bad(_l('Give each product as "Name (YYYY-MM-DD)", separated by ";".'))
        name, on, quantity = match["product"], match["on"], match["quantity"] or 1
    name = " ".join(str(name or "").split())
    if not name or len(name) > 120:
        raise _Bad(_l("Give each product a name of up to 120 characters."))
    if _blank(on):
        raise _Bad(_l("Give each product its purchase date."))
    purchased_on = _parse_date(on)
    if purchased_on > today:
        raise _Bad(_l("A purchase can't be in the future."))
    try:
        quantity = int(quantity)
    except (TypeError, ValueError):
        quantity = 0
    if not 1 <= quantity <= 999999:
        raise _Bad(_l("Give each product a quantity of at least 1."))
    return name, purchased_on, quantity


_CLEANERS = {
    "name": _text("name"),
    "company": _text("company"),
    "email": _email,
    "domains": _domains,
    "phone": _phone,
    "region": _text("region"),
    "industry": _text("industry"),
    "size": _size,
    "source": _required_choice(CustomerSource, _l("Choose how the company came to know this customer.")),
    "external_id": _text("external_id"),
    "sales_owner": _staff_member(SALES_ROLES, _l("Choose a sales rep or sales manager who is active.")),
    "relationship_owner": _staff_member(COMMUNITY_STAFF_ROLES,
                                        _l("Choose a moderator or admin of the community staff who is active.")),
    "value_tier": _required_choice(ValueTier, _l("Choose key, valued or standard.")),
    "lifecycle_stage": _required_choice(LifecycleStage, _l("Choose one of the lifecycle stages.")),
    "lost_to": _text("lost_to"),
    "revenue": _revenue,
    "first_purchase_at": _date(past_only=True),
    "last_purchase_at": _date(past_only=True),
    "renewal_date": _date(past_only=False),
    "contact_channels": _channels,
    "opt_outs": _channels,
    "preferred_language": _language,
    "tags": _tags,
    "products": _products,
    "email_bounced": _flag,
}


def _check_together(clean, errors):
    first, last = clean.get("first_purchase_at"), clean.get("last_purchase_at")
    if first and last and first > last and "last_purchase_at" not in errors:
        errors["last_purchase_at"] = _l("The last purchase can't come before the first.")
    both = set(clean.get("contact_channels") or ()) & set(clean.get("opt_outs") or ())
    if both and "opt_outs" not in errors:
        errors["opt_outs"] = _l("A channel can't be both preferred and opted out of: %(channels)s.",
                                channels=", ".join(sorted(both)))
