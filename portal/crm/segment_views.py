"""Saved segments: the rule builder, its live count, the lists and their CSV."""

import sqlalchemy as sa
from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ..auth.models import User
from ..errors import DomainError, Invalid
from ..extensions import db
from ..forms import attempt, show_errors
from ..inputs import page_number
from ..pagination import CountedPage
from ..permissions import Permission, require
from . import csvio, records, segments
from .forms import ButtonForm
from .models import Customer
from .segment_forms import RuleRow, SegmentForm, fit_operator, place_errors, rows_from_form, rows_from_rules

bp = Blueprint("segments", __name__)
PER_PAGE = 25
MEMBER_COLUMNS = ("name", "email", "customer", "customer_external_id", "joined_at", "last_login_at")


@bp.context_processor
def segment_words():
    return {"rules_in_words": segments.rules_in_words, "match_joiner": segments.match_joiner}


@bp.get("/")
@require(Permission.MANAGE_SEGMENTS)
def index():
    counted = segments.list_segments(current_user)
    people = segments.people_named([entry.segment.rules for entry in counted])
    return render_template("crm/segments/index.html", counted=counted, people=people, button=ButtonForm())


@bp.route("/new", methods=["GET", "POST"])
@require(Permission.MANAGE_SEGMENTS)
def new():
    return _builder(None)


@bp.route("/<int:segment_id>/edit", methods=["GET", "POST"])
@require(Permission.MANAGE_SEGMENTS)
def edit(segment_id):
    return _builder(segments.get_segment(current_user, segment_id))


def _builder(segment):
    """The builder for a new segment (`segment` None) or a saved one; without JavaScript its buttons
    add and remove rows and preview the count by posting the form back."""
    form = SegmentForm(obj=segment) if request.method == "GET" else SegmentForm()
    if request.method == "GET":
        rows = rows_from_rules(segment.rules) if segment else [RuleRow()]
        if segment:
            form.match.data = str(segment.match)
        return _builder_page(form, segment, rows, count=_count_of(form.match.data, rows))
    rows = [fit_operator(row) for row in rows_from_form(request.form)]
    if not form.validate_on_submit():
        return _builder_page(form, segment, rows), 400
    action = request.form.get("action", "save")
    if action == "add":
        rows.append(RuleRow())
    elif action.startswith("remove-") and action[7:].isdigit() and int(action[7:]) < len(rows):
        rows.pop(int(action[7:]))
    if action != "save":
        return _builder_page(form, segment, rows, count=_count_of(form.match.data, rows))
    rules = [row.as_rule() for row in rows]
    try:
        if segment is None:
            segment = segments.create_segment(current_user, form.name.data, form.description.data,
                                              form.match.data, rules)
        else:
            segments.update_segment(current_user, segment.id, form.name.data, form.description.data,
                                    form.match.data, rules)
    except DomainError as error:
        show_errors(form, Invalid(fields=place_errors(rows, error.fields)) if error.fields else error)
        return _builder_page(form, segment, rows), 422
    flash(_("Segment saved."), "success")
    return redirect(url_for("segments.segment", segment_id=segment.id))


def _count_of(match, rows):
    """The count for the builder's "Preview count" (rows still blank left out), or None with the rows'
    errors placed on them."""
    filled = [row for row in rows if not row.is_blank]
    try:
        return segments.count_matching(current_user, match, [row.as_rule() for row in filled])
    except Invalid as error:
        place_errors(filled, error.fields)
        return None


def _builder_page(form, segment, rows, count=None):
    return render_template("crm/segments/builder.html", form=form, segment=segment, rows=rows, count=count,
                           fields=list(segments.FIELDS.values()), choices=records.filter_choices(),
                           delete_form=ButtonForm())


@bp.get("/row")
@require(Permission.MANAGE_SEGMENTS)
def row():
    """One builder row as HTML, for the script that swaps a row's inputs when its field or operator changes."""
    index = request.args.get("index", 0, type=int)
    values = request.args.getlist("value")
    rule_row = fit_operator(RuleRow(field=request.args.get("field", ""), op=request.args.get("op", ""),
                                    values=values))
    return render_template("crm/segments/_row.html", row=rule_row, index=max(0, min(index, 999)),
                           fields=list(segments.FIELDS.values()))


@bp.post("/count")
@require(Permission.MANAGE_SEGMENTS)
def count():
    """The live count: {"count", "text"} for the rules posted (form fields or JSON), 422 naming bad rules."""
    if request.is_json:
        body = request.get_json(silent=True) or {}
        match, rules = body.get("match", "all"), body.get("rules", [])
    else:
        rows = rows_from_form(request.form)
        match, rules = request.form.get("match", "all"), [row.as_rule() for row in rows if not row.is_blank]
    try:
        number = segments.count_matching(current_user, match, rules)
    except Invalid as error:  # JSON here, not the error page the browser's other routes get
        return jsonify(error.to_dict()), error.status
    return jsonify({"count": number, "text": ngettext("%(num)d customer matches now.",
                                                      "%(num)d customers match now.", number)})


@bp.get("/<int:segment_id>")
@require(Permission.MANAGE_SEGMENTS)
def segment(segment_id):
    record = segments.get_segment(current_user, segment_id)
    page = CountedPage(_customers(record), page=page_number(), per_page=PER_PAGE)
    linked = _linked_members([customer.id for customer in page.items])
    return render_template("crm/segments/segment.html", segment=record, page=page, linked=linked, tab="customers",
                           member_total=segments.member_count(record), customer_total=page.total,
                           people=segments.people_named([record.rules]), button=ButtonForm())


@bp.get("/<int:segment_id>/members")
@require(Permission.MANAGE_SEGMENTS)
def members(segment_id):
    record = segments.get_segment(current_user, segment_id)
    query = segments.members_of(record).options(selectinload(User.customer).load_only(
        Customer.id, Customer.name, Customer.company))
    page = CountedPage(query, page=page_number(), per_page=PER_PAGE)
    customer_total = segments.count_of(segments.segment_customers(record))
    return render_template("crm/segments/segment.html", segment=record, page=page, tab="members",
                           member_total=page.total, customer_total=customer_total,
                           people=segments.people_named([record.rules]), button=ButtonForm())


@bp.post("/<int:segment_id>/delete")
@require(Permission.MANAGE_SEGMENTS)
def delete(segment_id):
    if ButtonForm().validate_on_submit():
        attempt(segments.delete_segment, current_user, segment_id, done=_("Segment deleted."))
    return redirect(url_for("segments.index"))


@bp.get("/<int:segment_id>/customers.csv")
@require(Permission.MANAGE_SEGMENTS)
def export_customers(segment_id):
    record = segments.get_segment(current_user, segment_id)
    query = _customers(record).options(selectinload(Customer.products))
    return _csv(csvio.export_rows(query), f"segment-{record.id}-customers.csv")


@bp.get("/<int:segment_id>/members.csv")
@require(Permission.MANAGE_SEGMENTS)
def export_members(segment_id):
    record = segments.get_segment(current_user, segment_id)
    return _csv(_member_rows(segments.members_of(record)), f"segment-{record.id}-members.csv")


def _customers(segment):
    return (segments.segment_customers(segment)
            .options(selectinload(Customer.owner_rep), selectinload(Customer.relationship_owner),
                     selectinload(Customer.domains))
            .order_by(Customer.name, Customer.id))


def _linked_members(customer_ids):
    """{customer id: how many people are linked}, for one page of customers in one query."""
    if not customer_ids:
        return {}
    return dict(db.session.execute(sa.select(User.customer_id, sa.func.count(User.id))
                                   .where(User.customer_id.in_(customer_ids)).group_by(User.customer_id)).all())


def _member_rows(query):
    """CSV text of members (crm.csvio.csv_text: the BOM and formula quoting of the customers' export)."""
    query = query.options(selectinload(User.customer).load_only(Customer.id, Customer.name, Customer.external_id))
    return csvio.csv_text(MEMBER_COLUMNS, (
        (user.name, user.email, user.customer.name if user.customer else "",
         user.customer.external_id if user.customer else "", user.created_at.isoformat(),
         user.last_login_at.isoformat() if user.last_login_at else "")
        for user in db.session.scalars(query.execution_options(yield_per=500))))


def _csv(rows, filename):
    return Response(stream_with_context(rows), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
