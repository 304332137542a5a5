"""The customer reports, one page each with CSV export (the questions and their answers live in crm.reports).

A page with a filter that makes no sense shows why and the default period;
its CSV answers 422 instead, so a file never holds other rows than asked for.
"""
from flask import Blueprint, Response, render_template, request, stream_with_context, url_for
from flask_babel import format_percent
from flask_login import current_user

from ..errors import Invalid
from ..permissions import Permission, require
from ..urls import public_url
from . import reports

bp = Blueprint("reports", __name__)
PAGE_ROWS = 200  # a page shows this many rows at most; the CSV has them all


@bp.context_processor
def report_facts():
    return {"percent": lambda share: "—" if share is None else format_percent(share, "#,##0.0%"),
            "reports": reports.REPORTS, "page_rows": PAGE_ROWS, "post_link": post_link,
            "report": next((r for r in reports.REPORTS if r.endpoint == request.endpoint), None)}


def _or_default(parse, text):
    """(value, {}) from `parse(text)`, or (the default value, the errors) when `text` makes no sense."""
    try:
        return parse(text), {}
    except Invalid as error:
        return parse(""), error.fields


def _shown(rows):
    """(the rows a page shows, whether there were more)."""
    return rows[:PAGE_ROWS], len(rows) > PAGE_ROWS


def _csv(filename, header, rows):
    return Response(stream_with_context(reports.csv_lines(header, rows)), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _quarter(text):
    return reports.parse_quarter(text)


def _year(text):
    return reports.parse_year(text)


def _min_future_value(text):
    return reports.parse_whole(text, "min_future_value", default=reports.FUTURE_VALUE_DEFAULT, low=0,
                               high=reports.FUTURE_VALUE_MAX)


def _top(text):
    return reports.parse_whole(text, "top", default=reports.TOP_DEFAULT, low=1, high=reports.TOP_MAX)


@bp.get("/")
@require(Permission.MANAGE_SEGMENTS)
def index():
    return render_template("crm/reports/index.html")


@bp.get("/value")
@require(Permission.MANAGE_SEGMENTS)
def value():
    q = (request.args.get("q") or "").strip()
    rows, more = _shown(reports.key_and_valued(current_user, limit=PAGE_ROWS + 1))
    return render_template("crm/reports/value.html", q=q, found=reports.customer_standing(current_user, q),
                           rows=rows, more=more, thresholds=reports.thresholds())


@bp.get("/value.csv")
@require(Permission.MANAGE_SEGMENTS)
def value_csv():
    return _csv("key-and-valued-customers.csv", *reports.key_and_valued_table(reports.key_and_valued(current_user)))


@bp.get("/support")
@require(Permission.MANAGE_SEGMENTS)
def support():
    quarter, errors = _or_default(_quarter, request.args.get("quarter"))
    rows, more = _shown(reports.support_costs(current_user, quarter, limit=PAGE_ROWS + 1))
    return render_template("crm/reports/support.html", rows=rows, more=more, errors=errors, quarter=quarter,
                           quarters=reports.recent_quarters())


@bp.get("/support.csv")
@require(Permission.MANAGE_SEGMENTS)
def support_csv():
    quarter = _quarter(request.args.get("quarter"))
    return _csv(f"support-{quarter.key}.csv", *reports.support_table(reports.support_costs(current_user, quarter)))


@bp.get("/closer")
@require(Permission.MANAGE_SEGMENTS)
def closer():
    least, errors = _or_default(_min_future_value, request.args.get("min_future_value"))
    rows, more = _shown(reports.closer_relationship(current_user, min_future_value=least, limit=PAGE_ROWS + 1))
    return render_template("crm/reports/closer.html", rows=rows, more=more, errors=errors, least=least)


@bp.get("/closer.csv")
@require(Permission.MANAGE_SEGMENTS)
def closer_csv():
    least = _min_future_value(request.args.get("min_future_value"))
    return _csv("closer-relationship.csv",
                *reports.closer_table(reports.closer_relationship(current_user, min_future_value=least)))


@bp.get("/complaints")
@require(Permission.MANAGE_SEGMENTS)
def complaints():
    year, errors = _or_default(_year, request.args.get("year"))
    rows, more = _shown(reports.key_customer_complaints(current_user, year, limit=PAGE_ROWS + 1))
    return render_template("crm/reports/complaints.html", rows=rows, more=more, errors=errors, year=year,
                           years=reports.recent_years(), complained=sum(1 for row in rows if row.count))


def post_link(post):
    """Where a complaint post is: its topic page, scrolled to the post (as notifications link to posts)."""
    return url_for("community.topic", topic_id=post.topic_id, _anchor=f"post-{post.number}")


@bp.get("/complaints.csv")
@require(Permission.MANAGE_SEGMENTS)
def complaints_csv():
    year = _year(request.args.get("year"))

    def address(post):
        return public_url("community.topic", topic_id=post.topic_id, _anchor=f"post-{post.number}")

    return _csv(f"key-customer-complaints-{year}.csv",
                *reports.complaints_table(reports.key_customer_complaints(current_user, year), address))


@bp.get("/repeat")
@require(Permission.MANAGE_SEGMENTS)
def repeat():
    year, year_errors = _or_default(_year, request.args.get("year"))
    top, top_errors = _or_default(_top, request.args.get("top"))
    return render_template("crm/reports/repeat.html", result=reports.repeat_buyers(current_user, year, top=top),
                           errors={**year_errors, **top_errors}, year=year, top=top, years=reports.recent_years())


@bp.get("/repeat.csv")
@require(Permission.MANAGE_SEGMENTS)
def repeat_csv():
    year, top = _year(request.args.get("year")), _top(request.args.get("top"))
    return _csv(f"repeat-buyers-{year}.csv", *reports.repeat_table(reports.repeat_buyers(current_user, year, top=top)))


@bp.get("/competitors")
@require(Permission.MANAGE_SEGMENTS)
def competitors():
    competitor = (request.args.get("lost_to") or "").strip()
    result = reports.lost_to_competitors(current_user, competitor=competitor, limit=PAGE_ROWS + 1)
    rows, more = _shown(result.rows)
    return render_template("crm/reports/competitors.html", result=result, rows=rows, more=more,
                           competitor=competitor, not_recorded=reports.NOT_RECORDED)


@bp.get("/competitors.csv")
@require(Permission.MANAGE_SEGMENTS)
def competitors_csv():
    competitor = (request.args.get("lost_to") or "").strip()
    return _csv("lost-to-competitors.csv",
                *reports.competitors_table(reports.lost_to_competitors(current_user, competitor=competitor)))
