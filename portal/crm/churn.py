"""Churn risk: the reasons a customer may be about to leave, each kept with what shows it.

A reason is a dict {"code": ..., plus its evidence}; `reason_text()` says
it in the reader's language. The codes:
- activity_falling {"recent", "baseline"}: the last 30 days against the
  customer's own monthly average of the five months before;
- complaints {"count", "words"}: posts with complaint words (crm.complaints);
- unanswered {"count", "topic_ids"}: questions of theirs nobody answered for days;
- renewal_low_engagement {"renewal_date", "level"}: renewal near, engagement low.
"""
from datetime import date

from flask_babel import format_date, get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .models import EngagementLevel

REASON_LABELS = {
    "activity_falling": _l("Activity falling"),
    "complaints": _l("Complaints"),
    "unanswered": _l("Unanswered questions"),
    "renewal_low_engagement": _l("Renewal near, engagement low"),
}


def list_separator():
    """How the reader's language separates the items of a short list: 投诉、太慢 / refund, cancel."""
    return "、" if str(get_locale() or "").startswith("zh") else ", "


def reason_text(reason):
    """One churn reason as a sentence for staff."""
    code = reason.get("code")
    if code == "activity_falling":
        return _("%(recent)d actions in the last 30 days against %(baseline)d a month before.",
                 recent=reason["recent"], baseline=reason["baseline"])
    if code == "complaints":
        return ngettext("%(num)d post with complaint words (%(words)s).",
                        "%(num)d posts with complaint words (%(words)s).", reason["count"],
                        words=list_separator().join(reason.get("words", [])))
    if code == "unanswered":
        return ngettext("%(num)d question left unanswered.", "%(num)d questions left unanswered.",
                        reason["count"])
    if code == "renewal_low_engagement":
        return _("Renewal due %(date)s while engagement is %(level)s.",
                 date=format_date(date.fromisoformat(reason["renewal_date"]), "medium"),
                 level=EngagementLevel(reason["level"]).label)
    return str(REASON_LABELS.get(code, code))
