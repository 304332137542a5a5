"""Sign-up, sign-in, passwords, profile and account deletion in the browser."""
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user, login_user, logout_user

from ..errors import DomainError, NotFound
from ..extensions import db, limiter
from ..forms import show_errors
from ..permissions import require_login
from ..referrals import codes as referral_codes
from ..rewards.profile import member_rewards
from . import services
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


def _login_limit():
    return current_app.config["LOGIN_RATE_LIMIT"]


def _register_limit():
    return current_app.config["REGISTER_RATE_LIMIT"]


def _reset_limit():
    return current_app.config["PASSWORD_RESET_RATE_LIMIT"]


def _safe_next(default="community.home"):
    target = request.values.get("next", "")
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc:
        return target
    return url_for(default)


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_register_limit, methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("community.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        code, source = referral_codes.signup_referral(form.referral_code.data)  # typed, else the link's cookie
        try:
            user = services.register(email=form.email.data, password=form.password.data, name=form.name.data,
                                     locale=session.get("locale"), referral_code=code, referral_source=source,
                                     ip=request.remote_addr, device_id=referral_codes.device_id())
        except DomainError as error:
            show_errors(form, error)
        else:
            login_user(user)
            flash(_("Welcome to the community, %(name)s!", name=user.name), "success")
            return referral_codes.forget_attribution(redirect(url_for("community.home")))
    return render_template("auth/register.html", form=form), 422 if form.errors else 200


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
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
            login_user(user, remember=form.remember.data)
            services.record_login(user)
            return redirect(_safe_next())
    return render_template("auth/login.html", form=form), 422 if form.errors else 200


@bp.post("/logout")
def logout():
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("community.home"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        # The same answer whether or not the address has an account.
        flash(_("If an account uses that address, a reset link is on its way."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
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
            login_user(current_user._get_current_object())  # new stamp: this session stays, others end
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
            refresh()  # the confirmation speaks the language just chosen
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("auth.profile"))
    return render_template("auth/profile.html", form=form), 422 if form.errors else 200


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
            logout_user()
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
    rewards = member_rewards(current_user, user, page=max(request.args.get("page", 1, type=int), 1))
    return render_template("auth/member.html", member=user, rewards=rewards)
