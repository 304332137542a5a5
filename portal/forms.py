"""Form helpers shared by every feature."""
from flask import flash

from .errors import DomainError, Forbidden, Unauthorized
from .extensions import db


def show_errors(form, error: DomainError):
    """Put a service's field errors on the form's fields; the rest on the form.

    The refused action is rolled back first, as the error handler does, so
    nothing it left in the session can ride along with a later commit.
    """
    db.session.rollback()
    placed = False
    for name, message in error.fields.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, str(message)] if isinstance(field.errors, list) else [str(message)]
            placed = True
    if not placed:
        form.form_errors.append(str(error.message))


def error_text(error: DomainError):
    """One line for a flash: the field messages, else the error's message."""
    return " ".join(str(m) for m in error.fields.values()) if error.fields else str(error.message)


def attempt(service, *args, done=None, **kwargs):
    """Call a service for a button: flash its refusal, or `done` when it worked. The result, or None.

    401 and 403 still answer as such (a sign-in page, a 403), rather than a
    flash on a page the user may not see.
    """
    try:
        result = service(*args, **kwargs)
    except (Unauthorized, Forbidden):
        raise
    except DomainError as error:
        db.session.rollback()  # as show_errors(): a refusal leaves nothing for a later commit
        flash(error_text(error), "error")
        return None
    if done:
        flash(done, "success")
    return result
