"""The operator's pages: users, roles, teams, suspension, API tokens, point rules, customer rules, lead rules and
the audit log."""
import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from .. import outbox
from ..auth.models import ApiToken, Team, User
from ..auth.services import user_by_email
from ..auth.tokens import create_token_for, revoke_token, tokens_visible_to
from ..community.models import Category
from ..crm import rules as crm_rules
from ..errors import DomainError, Invalid
from ..extensions import db
from ..forms import attempt, show_errors
from ..leads import rules as lead_rules
from ..leads.forms import LeadSettingsForm
from ..leads.models import LeadKind, SignalKind
from ..levels import current_levels
from ..moderation import notes as member_notes
from ..moderation import rules as moderation_rules
from ..moderation import sanctions
from ..moderation.forms import AcknowledgeForm, MemberNoteForm, SanctionForm
from ..permissions import EARNED_BY_LEVEL, Permission, Role, require
from ..rewards import rule_settings
from ..rewards.rules import Rule
from ..sqltypes import utcnow
from . import audit_log, services
from .forms import NewTeamForm, NewTokenForm, RewardSettingsForm, RoleForm, SuspendForm, TeamForm

bp = Blueprint("admin", __name__)


@bp.context_processor
def operations_facts():
    # Every admin page says when side effects (mail, later webhooks) have stopped going out.
    return {"parked_messages": outbox.parked_count()}


@bp.app_template_filter("audit_value")
def audit_value(value):
    return audit_log.readable(value)


def role_choices():
    return [(role.value, str(role.label)) for role in Role]


def team_choices():
    teams = db.session.scalars(sa.select(Team).order_by(Team.name)).all()
    return [(0, _("No team"))] + [(team.id, team.name) for team in teams]


@bp.get("/users")
@require(Permission.MANAGE_USERS)
def users():
    query = services.search_users(request.args.get("q", ""), request.args.get("role") or None,
                                  request.args.get("status") or None)
    page = db.paginate(query.options(selectinload(User.team), selectinload(User.customer)), per_page=25)
    return render_template("admin/users.html", page=page, roles=role_choices(),
                           q=request.args.get("q", ""), role=request.args.get("role", ""),
                           status=request.args.get("status", ""))


@bp.route("/users/<int:user_id>", methods=["GET"])
@require(Permission.MANAGE_USERS)
def user_detail(user_id):
    return _user_page(user_id)


def _user_page(user_id, note_form=None, status=200):
    user = services.get_manageable_user(user_id)
    role_form = RoleForm(role=user.role.value)
    role_form.role.choices = role_choices()
    team_form = TeamForm(team=user.team_id or 0)
    team_form.team.choices = team_choices()
    return render_template("admin/user.html", user=user, role_form=role_form, team_form=team_form,
                           suspend_form=SuspendForm(), sanction_form=SanctionForm(formdata=None),
                           sanctions=sanctions.sanctions_of(current_user, user.id), now=utcnow(),
                           lift_form=AcknowledgeForm(),
                           can_have_team=user.role in (Role.SALES, Role.SALES_MANAGER),
                           audit_entries=services.audit_entries_for(user),
                           notes=member_notes.notes_on(current_user, user.id),
                           note_form=note_form or MemberNoteForm(formdata=None)), status


@bp.post("/users/<int:user_id>/notes")
@require(Permission.MANAGE_USERS)
def add_note(user_id):
    form = MemberNoteForm()
    if form.validate_on_submit():
        try:
            member_notes.add_member_note(current_user, user_id, form.body.data)
        except DomainError as error:
            show_errors(form, error)
            return _user_page(user_id, form, error.status)
        flash(_("Note added."), "success")
        return _back_to(user_id)
    return _user_page(user_id, form, 422)


def _back_to(user_id):
    return redirect(url_for("admin.user_detail", user_id=user_id))


def _run(action, success_message, user_id):
    attempt(action, done=success_message)
    return _back_to(user_id)


@bp.post("/users/<int:user_id>/role")
@require(Permission.MANAGE_USERS)
def change_role(user_id):
    form = RoleForm()
    form.role.choices = role_choices()
    if not form.validate_on_submit():
        flash(_("Choose one of the roles."), "error")
        return _back_to(user_id)
    return _run(lambda: services.change_role(current_user, user_id, form.role.data), _("Role changed."), user_id)


@bp.post("/users/<int:user_id>/team")
@require(Permission.MANAGE_USERS)
def change_team(user_id):
    form = TeamForm()
    form.team.choices = team_choices()
    if not form.validate_on_submit():
        flash(_("Choose an existing team."), "error")
        return _back_to(user_id)
    return _run(lambda: services.set_team(current_user, user_id, form.team.data or None), _("Team changed."),
                user_id)


@bp.post("/users/<int:user_id>/suspend")
@require(Permission.MANAGE_USERS)
def suspend(user_id):
    form = SuspendForm()
    if not form.validate_on_submit():
        flash(_("Keep the reason to 1,000 characters."), "error")
        return _back_to(user_id)
    return _run(lambda: services.suspend(current_user, user_id, form.reason.data,
                                         sanctions.parse_until(form.until.data or None, get_timezone())),
                _("Account suspended."), user_id)


@bp.post("/users/<int:user_id>/reactivate")
@require(Permission.MANAGE_USERS)
def reactivate(user_id):
    return _run(lambda: services.reactivate(current_user, user_id), _("Account reactivated."), user_id)


@bp.route("/teams", methods=["GET", "POST"])
@require(Permission.MANAGE_USERS)
def teams():
    form = NewTeamForm()
    if form.validate_on_submit():
        try:
            services.create_team(current_user, form.name.data)
        except DomainError as error:
            show_errors(form, error)
        else:
            flash(_("Team created."), "success")
            return redirect(url_for("admin.teams"))
    all_teams = db.session.scalars(sa.select(Team).options(selectinload(Team.members)).order_by(Team.name)).all()
    return render_template("admin/teams.html", teams=all_teams, form=form), 422 if form.errors else 200


@bp.route("/tokens", methods=["GET", "POST"])
@require(Permission.MANAGE_TOKENS)
def tokens():
    form = NewTokenForm()
    new_token = None
    if form.validate_on_submit():
        owner = user_by_email(form.user_email.data)
        if owner is None:
            form.user_email.errors = [_("No account has this email.")]
        else:
            try:
                new_token, _token = create_token_for(current_user, owner.id, form.name.data)
            except DomainError as error:
                show_errors(form, error)
    page = db.paginate(tokens_visible_to(current_user).options(selectinload(ApiToken.user)), per_page=50)
    return render_template("admin/tokens.html", page=page, form=form, new_token=new_token), 422 if form.errors else 200


@bp.post("/tokens/<int:token_id>/revoke")
@require(Permission.MANAGE_TOKENS)
def revoke(token_id):
    revoke_token(current_user, token_id)
    flash(_("Token revoked."), "success")
    return redirect(url_for("admin.tokens"))


@bp.route("/settings/points", methods=["GET", "POST"])
@require(Permission.MANAGE_SETTINGS)
def reward_settings():
    form = RewardSettingsForm()
    values, errors = rule_settings.reward_settings(), {}
    if form.validate_on_submit():
        values = _submitted_reward_settings(request.form)
        try:
            rule_settings.update_reward_settings(current_user, **values)
        except DomainError as error:
            errors = {name: str(message) for name, message in error.fields.items()}
        else:
            flash(_("Point rules and levels are saved. They apply from the next action on."), "success")
            return redirect(url_for("admin.reward_settings"))
    elif form.is_submitted():
        flash(_("Your form expired. Please reload the page and try again."), "error")
    return render_template("admin/reward_settings.html", form=form, values=values, errors=errors,
                           rules=list(Rule), levels=current_levels(), privileges=list(EARNED_BY_LEVEL)), \
        422 if errors or form.is_submitted() else 200


def _submitted_reward_settings(data):
    return {
        "rules": {str(rule): data.get(f"rule_{rule}", "") for rule in Rule},
        "daily_vote_cap": data.get("daily_vote_cap", ""),
        "thresholds": [data.get(f"threshold_{level.number}", "") for level in current_levels()],
        "privileges": {str(permission): data.get(f"privilege_{permission}", "") for permission in EARNED_BY_LEVEL},
    }


@bp.route("/settings/customers", methods=["GET", "POST"])
@require(Permission.MANAGE_SETTINGS)
def crm_settings():
    form = RewardSettingsForm()
    current = crm_rules.crm_rules()
    values = {name: getattr(current, name) for name in crm_rules.LIMITS}
    values["product_cycles"] = crm_rules.cycle_lines(current.product_cycles)
    errors = {}
    if form.validate_on_submit():
        values = {name: request.form.get(name, "") for name in (*crm_rules.LIMITS, "product_cycles")}
        try:
            crm_rules.update_crm_rules(current_user, values)
        except DomainError as error:
            errors = {name: str(message) for name, message in error.fields.items()}
        else:
            flash(_("Customer rules are saved. Tiers are worked out again now; the other rules apply from the "
                    "next nightly run."), "success")
            return redirect(url_for("admin.crm_settings"))
    elif form.is_submitted():
        flash(_("Your form expired. Please reload the page and try again."), "error")
    return render_template("admin/crm_settings.html", form=form, values=values, errors=errors,
                           limits=crm_rules.LIMITS), 422 if errors or form.is_submitted() else 200


@bp.route("/settings/leads", methods=["GET", "POST"])
@require(Permission.MANAGE_SETTINGS)
def lead_settings():
    form = LeadSettingsForm()
    values, errors = lead_rules.form_values(), {}
    if form.validate_on_submit():
        values = lead_rules.submitted_values(request.form)
        try:
            lead_rules.update_lead_rules(current_user, values)
        except DomainError as error:
            errors = {name: str(message) for name, message in error.fields.items()}
        else:
            flash(_("Lead rules are saved. They apply from the next signal and the next claim on."), "success")
            return redirect(url_for("admin.lead_settings"))
    elif form.is_submitted():
        flash(_("Your form expired. Please reload the page and try again."), "error")
    categories = db.session.scalars(sa.select(Category).order_by(Category.position, Category.name)).all()
    return render_template("leads/settings.html", form=form, values=values, errors=errors, limits=lead_rules.LIMITS,
                           signal_kinds=list(SignalKind), lead_kinds=list(LeadKind), categories=categories), \
        422 if errors or form.is_submitted() else 200


@bp.route("/settings/moderation", methods=["GET", "POST"])
@require(Permission.MANAGE_SETTINGS)
def moderation_settings():
    form = RewardSettingsForm()
    current = moderation_rules.moderation_rules()
    values = {"hold_first_posts": current.hold_first_posts, "first_posts_to_hold": current.first_posts_to_hold,
              "watched_words": moderation_rules.word_lines(current.watched_words)}
    errors = {}
    if form.validate_on_submit():
        values = {"hold_first_posts": request.form.get("hold_first_posts") == "1",
                  "first_posts_to_hold": request.form.get("first_posts_to_hold", ""),
                  "watched_words": request.form.get("watched_words", "")}
        try:
            moderation_rules.update_moderation_rules(current_user, values)
        except DomainError as error:
            errors = {name: str(message) for name, message in error.fields.items()}
        else:
            flash(_("Moderation rules are saved. They apply from the next post on."), "success")
            return redirect(url_for("admin.moderation_settings"))
    elif form.is_submitted():
        flash(_("Your form expired. Please reload the page and try again."), "error")
    return render_template("admin/moderation_settings.html", form=form, values=values, errors=errors,
                           new_account_hours=current_app.config["NEW_ACCOUNT_HOURS"],
                           first_posts_max=moderation_rules.FIRST_POSTS_MAX), \
        422 if errors or form.is_submitted() else 200


@bp.get("/audit", endpoint="audit_log")
@require(Permission.VIEW_AUDIT_LOG)
def audit_log_page():
    try:
        filters, errors = audit_log.AuditFilters.from_args(request.args, tz=get_timezone()), {}
    except Invalid as error:
        filters, errors = audit_log.AuditFilters(tz=get_timezone()), error.fields
    page = audit_log.audit_page(filters) if not errors else None
    return render_template("admin/audit_log.html", page=page, rows=audit_log.page_rows(page.items) if page else [],
                           filters=filters, args=filters.as_args() if not errors else {}, submitted=request.args,
                           filter_errors=errors, choices=audit_log.filter_choices()), 422 if errors else 200


@bp.get("/audit.csv", endpoint="audit_log_csv")
@require(Permission.VIEW_AUDIT_LOG)
def audit_log_csv():
    filters = audit_log.AuditFilters.from_args(request.args, tz=get_timezone())
    body = audit_log.export_csv(audit_log.audit_query(filters))
    return Response(stream_with_context(body), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=audit-log.csv"})
