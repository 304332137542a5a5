"""Category management for moderators, and the category colour stylesheet."""
from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..errors import DomainError, NotFound
from ..extensions import db
from ..forms import show_errors
from ..permissions import Permission, require
from . import categories
from .models import Access, Category

bp = Blueprint("categories", __name__)

ACCESS_LABELS = {Access.EVERYONE: _l("Everyone, visitors too"), Access.MEMBERS: _l("Signed-in members"),
                 Access.STAFF: _l("Staff only")}


class CategoryForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    slug = StringField(_l("Address"), validators=[DataRequired(), Length(max=80)],
                       description=_l("Lowercase letters, digits and hyphens: /c/<address>"))
    description = TextAreaField(_l("Description"), validators=[Length(max=500)])
    colour = StringField(_l("Colour"), validators=[DataRequired(), Length(max=7)], default="#0f766e")
    position = IntegerField(_l("Position"), default=0)
    read_access = SelectField(_l("Who can read"))
    write_access = SelectField(_l("Who can start topics and reply"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.read_access.choices = [(a.value, str(label)) for a, label in ACCESS_LABELS.items()]
        self.write_access.choices = [(a.value, str(label)) for a, label in ACCESS_LABELS.items()
                                     if a != Access.EVERYONE]

    def values(self):
        return {field: getattr(self, field).data for field in categories.FIELDS}


@bp.route("/manage/categories", methods=["GET", "POST"])
@require(Permission.MODERATE)
def manage():
    form = CategoryForm()
    if form.validate_on_submit():
        try:
            categories.create_category(current_user, **form.values())
        except DomainError as error:
            show_errors(form, error)
        else:
            flash(_("Category created."), "success")
            return redirect(url_for("categories.manage"))
    return render_template("community/manage/categories.html", categories=categories.all_categories(),
                           form=form, access_labels=ACCESS_LABELS), 422 if form.errors else 200


@bp.route("/manage/categories/<int:category_id>", methods=["GET", "POST"])
@require(Permission.MODERATE)
def edit(category_id):
    category = db.session.get(Category, category_id)
    if category is None:
        raise NotFound()
    form = CategoryForm(obj=category)
    if form.validate_on_submit():
        try:
            categories.update_category(current_user, category_id, **form.values())
        except DomainError as error:
            show_errors(form, error)
        else:
            flash(_("Category saved."), "success")
            return redirect(url_for("categories.manage"))
    return render_template("community/manage/category.html", category=category,
                           form=form), 422 if form.errors else 200


@bp.get("/category-colours.css")
def colours():
    response = Response(categories.colour_rules(), mimetype="text/css")
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response
