"""The segment builder's form: name, description and match through Flask-WTF, and the rows of rules.

Rows arrive as `rules-N-field`, `rules-N-op` and `rules-N-value` (repeated
for checkboxes and for the two ends of "between"); crm.segments.check_rules
judges them, so this module only carries what was typed, and knows which
input each field and operator wants.
"""
import dataclasses
import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, TextAreaField

from . import segments
from .models import SegmentMatch

ROW_KEY = re.compile(r"^rules-(\d{1,3})-field$")
DEFAULT_FIELD, DEFAULT_OP = "value_tier", "in"


class SegmentForm(FlaskForm):
    name = StringField(_l("Name"), description=_l("What staff call this group, e.g. Key customers going quiet."))
    description = TextAreaField(_l("Description"), description=_l("Optional: who this is for and why."))
    match = RadioField(_l("Customers who match"), default="all", validate_choice=False,
                       choices=[(member.value, member.label) for member in SegmentMatch])


@dataclasses.dataclass
class RuleRow:
    """One row of the builder as typed: a field, an operator and the value inputs' text."""
    field: str = DEFAULT_FIELD
    op: str = DEFAULT_OP
    values: list = dataclasses.field(default_factory=list)
    errors: dict = dataclasses.field(default_factory=dict)   # {"field" | "op" | "value": message}

    @property
    def spec(self):
        return segments.FIELDS.get(self.field) or segments.FIELDS[DEFAULT_FIELD]

    @property
    def operators(self):
        return [(op, segments.OPERATOR_LABELS[op]) for op in self.spec.operators]

    @property
    def widget(self):
        """Which value input suits the field and operator: select, checks, text, list, number, between,
        days, date, yesno or none."""
        kind, op = self.spec.kind, self.op if self.op in self.spec.operators else self.spec.operators[0]
        if op in segments.VALUELESS:
            return "none"
        if kind in ("enum", "person"):
            return "checks" if op in segments.MANY else "select"
        if kind == "list" or op == "in":
            return "list"
        if kind == "text":
            return "text"
        if kind == "number":
            return "between" if op == "between" else "number"
        if kind == "yesno":
            return "yesno"
        return "date" if op in ("before", "after") else "days"

    @property
    def choices(self):
        return [(str(value), label) for value, label in self.spec.choices()] if self.spec.choices else []

    def value(self, position=0):
        """The text of one value input (the list widget shows every value, comma-separated)."""
        if self.widget == "list":
            return ", ".join(str(value) for value in self.values if str(value).strip())
        return str(self.values[position]) if len(self.values) > position else ""

    @property
    def is_blank(self):
        """A row whose value is still to be typed: the live count leaves it out instead of refusing."""
        return self.widget != "none" and not any(str(value).strip() for value in self.values)

    def as_rule(self):
        return {"field": self.field, "op": self.op, "value": self.values}


def rows_from_form(form_data):
    """The builder's rows in the order they stand, from the posted form."""
    indices = sorted({int(match[1]) for key in form_data if (match := ROW_KEY.match(key))})
    return [RuleRow(field=form_data.get(f"rules-{i}-field", ""), op=form_data.get(f"rules-{i}-op", ""),
                    values=[value for value in form_data.getlist(f"rules-{i}-value")])
            for i in indices[:segments.MAX_RULES + 1]]


def rows_from_rules(rules):
    """Rows showing saved (clean) rules."""
    return [RuleRow(field=rule["field"], op=rule["op"], values=_typed(rule["value"])) for rule in rules or []]


def _typed(value):
    if value is None:
        return []
    if isinstance(value, bool):
        return ["yes" if value else "no"]
    if isinstance(value, list):
        return [str(item) for item in value]
    return [str(value)]


def place_errors(rows, fields):
    """Put check_rules' "rules.N.part" messages on their rows; the rest come back for the form."""
    left = {}
    for name, message in fields.items():
        parts = name.split(".")
        if parts[0] == "rules" and len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) < len(rows):
            rows[int(parts[1])].errors[parts[2] if len(parts) > 2 else "value"] = message
        else:
            left[name] = message
    return left


def fit_operator(row):
    """After a field changed, an operator it does not have becomes its first one (the page's reflow)."""
    if row.field not in segments.FIELDS:
        row.field = DEFAULT_FIELD
    if row.op not in row.spec.operators:
        row.op = row.spec.operators[0]
        row.values = []
    return row
