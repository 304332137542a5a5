"""Form helpers shared by every feature."""
from .errors import DomainError


def show_errors(form, error: DomainError):
    """Put a service's field errors on the form's fields; the rest on the form."""
    placed = False
    for name, message in error.fields.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, str(message)] if isinstance(field.errors, list) else [str(message)]
            placed = True
    if not placed:
        form.form_errors.append(str(error.message))
