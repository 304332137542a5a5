"""Sign-up, sign-in, passwords, profile and account deletion in the browser."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user, logout_user

from ..crm import announcements
from ..crm.announcement_forms import AnnouncementChoicesForm
from ..errors import DomainError, NotFound
from ..extensions import db
from ..forms import error_text, show_errors
from ..inputs import page_number
from ..permissions import require_login
from ..referrals import codes as referral_codes
from ..rewards.profile import member_rewards
from ..urls import is_local_path
from . import limits, services, sessions
from .forms import (
    ChangePasswordForm,
    DeleteAccountForm,
    ForgotPasswordForm,
    LocaleForm,
    LoginForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
    timezone_choices,
)
from .models import User, UserStatus

bp = Blueprint("auth", __name__)


def _safe_next(default="community.home"):
    target = request.values.get("next", "")
    return target if is_local_path(target) else url_for(default)


@bp.route("/register", methods=["GET", "POST"])
@limits.registration
def register():
    if current_user.is_authenticated:
        return redirect(url_for("community.home"))
    form, email_taken = RegisterForm(), False
    if form.validate_on_submit():
        code, source = referral_codes.signup_referral(form.referral_code.data)  # typed, else the link's cookie
        try:
            user = services.register(email=form.email.data, password=form.password.data, name=form.name.data,
                                     locale=session.get("locale"), referral_code=code, referral_source=source,
                                     ip=request.remote_addr, device_id=referral_codes.device_id())
        except DomainError as error:
            show_errors(form, error)
            email_taken = error.code == "email_taken"
        else:
            sessions.sign_in(user)
            flash(_("Welcome to the community, %(name)s!", name=user.name), "success")
            return referral_codes.forget_attribution(redirect(url_for("community.home")))
    return render_template("auth/register.html", form=form, email_taken=email_taken), 422 if form.errors else 200


@bp.route("/login", methods=["GET", "POST"])
@limits.sign_in
@limits.failed_sign_ins_per_account
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next())
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except DomainError as error:
            form.form_errors.append(str(error.message))
        else:
            sessions.sign_in(user, remember=form.remember.data)
            return redirect(_safe_next())
    return render_template("auth/login.html", form=form), 422 if form.errors else 200


@bp.post("/logout")
def logout():
    sessions.sign_out(current_user)
    flash(_("You are signed out."), "info")
    return redirect(url_for("community.home"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@limits.password_reset
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        # The same answer whether or not the address has an account.
        flash(_("If an account uses that address, a reset link is on its way."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@limits.password_reset
def reset_password(token):
    form = ResetPasswordForm()
    try:
        services.user_for_reset_token(token)
    except DomainError as error:
        return render_template("auth/reset_password.html", form=None, problem=error.message), 400
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data)
        except DomainError as error:
            show_errors(form, error)
        else:
            flash(_("Your password is changed. Sign in with the new one."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form, problem=None)


@bp.route("/account/password", methods=["GET", "POST"])
@require_login
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, current_password=form.current_password.data,
                                     new_password=form.new_password.data)
        except DomainError as error:
            show_errors(form, error)
        else:
            flash(_("Your password is changed. Other devices are signed out."), "success")
            return redirect(url_for("auth.profile"))
    return render_template("auth/change_password.html", form=form), 422 if form.errors else 200


@bp.route("/account/profile", methods=["GET", "POST"])
@require_login
def profile():
    form = ProfileForm(obj=current_user)
    form.locale.choices = [("", _("Browser default"))] + list(current_app.config["LANGUAGES"].items())
    form.timezone.choices = timezone_choices()
    if request.method == "GET":
        form.locale.data = current_user.locale or ""
    if form.validate_on_submit():
        try:
            services.update_profile(current_user, name=form.name.data, bio=form.bio.data,
                                    locale=form.locale.data or None, timezone=form.timezone.data)
        except DomainError as error:
            show_errors(form, error)
        else:
            _remember_language(current_user.locale)
            refresh()  # the confirmation speaks the language just chosen
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("auth.profile"))
    return (render_template("auth/profile.html", form=form,
                            announcement_form=AnnouncementChoicesForm.for_user(current_user)),
            422 if form.errors else 200)


@bp.post("/account/announcements")
@require_login
def announcement_choices():
    """The member's yes or no to announcements, per channel (the profile page's "Announcements" section)."""
    form = AnnouncementChoicesForm()
    if form.validate_on_submit():
        try:
            announcements.set_opt_outs(current_user, form.opt_outs())
        except DomainError as error:
            flash(error_text(error), "error")
        else:
            flash(_("Your choice of announcements is saved."), "success")
    return redirect(url_for("auth.profile", _anchor="announcements"))


def _remember_language(locale):
    """This browser now speaks the profile's language (none: the browser's own)."""
    if locale:
        session["locale"] = locale
    else:
        session.pop("locale", None)


@bp.route("/account/delete", methods=["GET", "POST"])
@require_login
def delete_account():
    form = DeleteAccountForm()
    if form.validate_on_submit():
        try:
            services.delete_account(current_user, password=form.password.data)
        except DomainError as error:
            show_errors(form, error)
        else:
            logout_user()  # its sessions ended with the account
            flash(_("Your account is deleted. Thank you for being part of the community."), "info")
            return redirect(url_for("community.home"))
    return render_template("auth/delete_account.html", form=form), 422 if form.errors else 200


@bp.route("/locale", methods=["GET", "POST"])
def set_locale():
    """The footer's language switch: the session's language, and a member's profile on POST."""
    # A GET only sets the session's language, so it needs no CSRF token; a POST keeps the default check.
    form = LocaleForm(request.values, **({} if request.method == "POST" else {"meta": {"csrf": False}}))
    form.locale.choices = list(current_app.config["LANGUAGES"].items())
    if form.validate():
        session["locale"] = form.locale.data
        if request.method == "POST" and current_user.is_authenticated:
            services.update_profile(current_user, locale=form.locale.data)
    return redirect(_safe_next())


@bp.get("/members/<int:user_id>")
def member(user_id):
    user = db.session.get(User, user_id)
    if user is None or user.status == UserStatus.DELETED:
        raise NotFound()
    rewards = member_rewards(current_user, user, page=page_number())
    return render_template("auth/member.html", member=user, rewards=rewards)
