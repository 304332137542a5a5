"""Accounts: registration, sign-in, passwords, profile, deletion.

Each function is one action: it validates, writes, records one activity and
commits, or raises a DomainError having written nothing.
"""
import hashlib
import unicodedata
import zoneinfo

import sqlalchemy as sa
from email_validator import EmailNotValidError
from email_validator import validate_email as check_email_syntax
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from ..emails import queue_mail
from ..errors import Conflict, Invalid
from ..events import Verb, record_activity
from ..extensions import db
from ..payloads import ProfileUpdated, Registered
from ..text import weighted_length
from ..urls import public_url
from .models import User, UserStatus
from .sessions import end_sessions
from .tokens import revoke_tokens_of
from .usernames import clash_free_username

NAME_MAX = 80
BIO_MAX = 500
# Stored as is: the name must not depend on the language of whoever deleted the account.
FORMER_MEMBER_NAME = "Former member"
PASSWORD_MIN = 10
PASSWORD_MAX = 128
# Compared against when the email is unknown, so a miss costs as much as a hit.
_DUMMY_HASH = generate_password_hash("teahouse-timing-equaliser")


# -- validation rules --------------------------------------------------------

def normalise_email(email):
    try:
        return check_email_syntax((email or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise Invalid(fields={"email": _l("Enter a valid email address.")}) from None


def strip_invisible(text, keep="\n"):
    """Drop control and format characters (bidi overrides among them) that let text disguise itself."""
    return "".join(ch for ch in text if ch in keep or unicodedata.category(ch) not in {"Cc", "Cf"})


def clean_name(name):
    name = strip_invisible(unicodedata.normalize("NFC", (name or "").strip()), keep="")
    if weighted_length(name) < 2:
        raise Invalid(fields={"name": _l("Enter a name of at least 2 characters.")})
    if len(name) > NAME_MAX:
        raise Invalid(fields={"name": _l("Keep the name to %(n)d characters.", n=NAME_MAX)})
    return name


def check_password_strength(password, *, email="", name=""):
    if len(password) < PASSWORD_MIN:
        raise Invalid(fields={"password": _l("Use at least %(n)d characters.", n=PASSWORD_MIN)})
    if len(password) > PASSWORD_MAX:
        raise Invalid(fields={"password": _l("Use at most %(n)d characters.", n=PASSWORD_MAX)})
    if zxcvbn(password, user_inputs=[email, name, "teahouse"])["score"] < 2:
        raise Invalid(fields={"password": _l("This password is too easy to guess. Try a few unrelated words.")})


def check_locale(locale):
    if locale and locale not in current_app.config["LANGUAGES"]:
        raise Invalid(fields={"locale": _l("Choose one of the offered languages.")})
    return locale or None


def check_timezone(timezone):
    if timezone not in zoneinfo.available_timezones() and timezone != "UTC":
        raise Invalid(fields={"timezone": _l("Choose a time zone from the list.")})
    return timezone


def check_new_account(*, email, password, name):
    """Validate a new account's fields; returns the normalised (email, name)."""
    email = normalise_email(email)
    name = clean_name(name)
    check_password_strength(password, email=email, name=name)
    if user_by_email(email):
        raise _email_taken()
    return email, name


def user_by_email(email):
    return db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))


# -- actions ----------------------------------------------------------------------

def register(*, email, password, name, locale=None, referral_code=None,
             referral_source=None, ip=None, device_id=None):
    """Create a member account; one activity (crm links it to its customer record); committed.

    A `referral_code` nobody owns is a field error before anything is written.
    Whoever referred the new member (the code's owner, else a pending email
    invite to this address) gets the referral in the same transaction, judged
    by the fraud rules against `ip` and `device_id`. `referral_source` says
    how the code came: typed (the default) or from the share link's cookie.
    """
    from ..referrals.codes import check_typed_code
    from ..referrals.signups import record_signup

    email, name = check_new_account(email=email, password=password, name=name)
    locale = check_locale(locale)
    referral_code = check_typed_code(referral_code)
    user = _insert_user(email=email, name=name, locale=locale, password_hash=generate_password_hash(password))
    record_activity(Verb.REGISTERED, actor=user, obj=user, payload=Registered(referral_code=referral_code))
    record_signup(user, code=referral_code, source=referral_source, ip=ip, device_id=device_id)
    db.session.commit()
    return user


def _insert_user(**fields):
    """INSERT the new account, first thing in its transaction; Invalid("email_taken") if the email is taken.

    The check in check_new_account() can pass for two registrations of one
    email at once; the unique index lets only one in. The other gets the
    same field error as a sequential duplicate. A clash on the generated
    @username (two people named alike at once) is tried again with a
    random number in the handle.
    """
    for attempt in range(4):
        user = User(**fields)
        if attempt:
            user.username = clash_free_username(fields["name"], fields["email"])
        db.session.add(user)
        try:
            db.session.flush()
            return user
        except sa.exc.IntegrityError:
            db.session.rollback()
            if user_by_email(fields["email"]):
                raise _email_taken() from None
    raise Conflict("try_again", _("Too many people signed up at once. Please try again."))


def _email_taken():
    return Invalid("email_taken", fields={"email": _l("An account with this email already exists.")})


def authenticate(email, password):
    """The active user with these credentials, or Invalid / Forbidden. Writes nothing."""
    user = user_by_email(email or "")
    if user is None or user.password_hash is None:
        check_password_hash(_DUMMY_HASH, password or "")
        raise Invalid("invalid_credentials", _("Wrong email or password."))
    if not check_password_hash(user.password_hash, password or ""):
        raise Invalid("invalid_credentials", _("Wrong email or password."))
    if user.status == UserStatus.SUSPENDED:
        from ..moderation.sanctions import end_lapsed_suspension, suspended_error  # moderation sits above auth

        if not end_lapsed_suspension(user):  # a timed suspension that is over ends here, with the sign-in
            raise suspended_error(user)
    if user.status != UserStatus.ACTIVE:
        raise Invalid("invalid_credentials", _("Wrong email or password."))
    return user


def change_password(user, *, current_password, new_password):
    """Replace the password after checking the current one; signs out other sessions."""
    if not check_password_hash(user.password_hash or _DUMMY_HASH, current_password or ""):
        raise Invalid("wrong_password", fields={"current_password": _l("That is not your current password.")})
    check_password_strength(new_password, email=user.email, name=user.name)
    _set_password(user, new_password)
    end_sessions(user, keep_current=True)
    record_activity(Verb.PASSWORD_CHANGED, actor=user, obj=user)
    db.session.commit()


def _set_password(user, password):
    user.password_hash = generate_password_hash(password)


def _reset_serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def _password_fingerprint(user):
    # Part of the token: once the password changes, every earlier token is spent.
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def password_reset_token(user):
    return _reset_serializer().dumps({"id": user.id, "pw": _password_fingerprint(user)})


def request_password_reset(email):
    """Mail a reset link if an active account has this email; silent otherwise."""
    try:
        user = user_by_email(normalise_email(email))
    except Invalid:
        return
    if user is None or not user.is_active:
        return
    link = public_url("auth.reset_password", token=password_reset_token(user))
    queue_mail(user, _l("Reset your password"), "password_reset", link=link,
               minutes=current_app.config["PASSWORD_RESET_MAX_AGE"] // 60)
    db.session.commit()


def user_for_reset_token(token):
    """The user a reset token is for, or Invalid when expired, tampered or used."""
    try:
        data = _reset_serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except SignatureExpired:
        raise Invalid("token_expired", _("This reset link has expired. Ask for a new one.")) from None
    except BadSignature:
        raise Invalid("token_invalid", _("This reset link is not valid.")) from None
    user = db.session.get(User, data.get("id"))
    if user is None or not user.is_active or data.get("pw") != _password_fingerprint(user):
        raise Invalid("token_used", _("This reset link has already been used. Ask for a new one."))
    return user


def reset_password(token, new_password):
    """Set a new password from a valid reset token; the token is spent."""
    user = user_for_reset_token(token)
    check_password_strength(new_password, email=user.email, name=user.name)
    _set_password(user, new_password)
    end_sessions(user)  # whoever knew the old password is out
    record_activity(Verb.PASSWORD_RESET, actor=user, obj=user)
    db.session.commit()
    return user


def update_profile(user, *, name=None, bio=None, locale=..., timezone=None):
    """Change the given profile fields; records which ones changed."""
    changes = {}
    if name is not None:
        changes["name"] = clean_name(name)
    if bio is not None:
        bio = strip_invisible(unicodedata.normalize("NFC", bio.replace("\r\n", "\n"))).strip()
        if len(bio) > BIO_MAX:
            raise Invalid(fields={"bio": _l("Keep the bio to %(n)d characters.", n=BIO_MAX)})
        changes["bio"] = bio
    if locale is not ...:
        changes["locale"] = check_locale(locale)
    if timezone is not None:
        changes["timezone"] = check_timezone(timezone)
    changed = sorted(field for field, value in changes.items() if getattr(user, field) != value)
    for field in changed:
        setattr(user, field, changes[field])
    if changed:
        record_activity(Verb.PROFILE_UPDATED, actor=user, obj=user, payload=ProfileUpdated(fields=changed))
    db.session.commit()
    return user


def delete_account(user, *, password):
    """Anonymise the account: its content stays readable, nothing identifies the person."""
    if not check_password_hash(user.password_hash or _DUMMY_HASH, password or ""):
        raise Invalid("wrong_password", fields={"password": _l("That is not your password.")})
    record_activity(Verb.ACCOUNT_DELETED, actor=user, obj=user)
    user.email = f"deleted-{user.id}@deleted.invalid"
    user.name = FORMER_MEMBER_NAME
    user.bio = ""
    user.password_hash = None
    user.status = UserStatus.DELETED
    user.customer_id = None
    end_sessions(user)
    revoke_tokens_of(user)
    db.session.commit()
