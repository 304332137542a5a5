"""Moderators shape the community's categories: names, order, colour, access."""
import re

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..audit import audit
from ..errors import Invalid, NotFound
from ..extensions import db
from ..permissions import Permission, ensure
from .lists import mark_changed as mark_lists_changed
from .models import Access, Category, Topic

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
FIELDS = ("name", "slug", "description", "colour", "position", "read_access", "write_access")


def _validated(values, category=None):
    clean = {}
    if "name" in values:
        name = " ".join((values["name"] or "").split())
        if not 2 <= len(name) <= 80:
            raise Invalid(fields={"name": _l("Enter a name of 2 to 80 characters.")})
        clean["name"] = name
    if "slug" in values:
        slug = (values["slug"] or "").strip().lower()
        if not _SLUG.match(slug) or len(slug) > 80:
            raise Invalid(fields={"slug": _l("Use lowercase letters, digits and hyphens.")})
        taken = db.session.scalar(sa.select(Category.id).where(Category.slug == slug))
        if taken and (category is None or taken != category.id):
            raise Invalid("slug_taken", fields={"slug": _l("Another category uses this address.")})
        clean["slug"] = slug
    if "description" in values:
        description = (values["description"] or "").strip()
        if len(description) > 500:
            raise Invalid(fields={"description": _l("Keep the description to %(n)d characters.", n=500)})
        clean["description"] = description
    if "colour" in values:
        if not _COLOUR.match(values["colour"] or ""):
            raise Invalid(fields={"colour": _l("Use a colour like #0f766e.")})
        clean["colour"] = values["colour"].lower()
    if "position" in values:
        try:
            clean["position"] = int(values["position"])
        except (TypeError, ValueError):
            raise Invalid(fields={"position": _l("Enter a whole number.")}) from None
    for field in ("read_access", "write_access"):
        if field in values:
            try:
                clean[field] = Access(values[field])
            except ValueError:
                raise Invalid(fields={field: _l("Choose everyone, members or staff.")}) from None
    if clean.get("write_access") == Access.EVERYONE:
        raise Invalid(fields={"write_access": _l("Visitors can't write; choose members or staff.")})
    return clean


def create_category(actor, **values):
    """Add a category; audited; committed."""
    ensure(actor, Permission.MODERATE)
    missing = [f for f in ("name", "slug") if not values.get(f)]
    if missing:
        raise Invalid(fields={f: _l("This field is required.") for f in missing})
    clean = _validated(values)
    clean.setdefault("position", (db.session.scalar(sa.select(sa.func.max(Category.position))) or 0) + 1)
    category = Category(**clean)
    db.session.add(category)
    db.session.flush()
    audit(actor, "category.created", category, **{k: str(v) for k, v in clean.items()})
    mark_lists_changed()
    db.session.commit()
    return category


def update_category(actor, category_id, **values):
    """Change a category's fields; audited with the old and new values; committed."""
    ensure(actor, Permission.MODERATE)
    category = db.session.get(Category, category_id)
    if category is None:
        raise NotFound()
    clean = _validated({k: v for k, v in values.items() if k in FIELDS}, category)
    changes = {k: [str(getattr(category, k)), str(v)] for k, v in clean.items() if getattr(category, k) != v}
    for field in changes:
        setattr(category, field, clean[field])
    if changes:
        audit(actor, "category.updated", category, **changes)
        # Its name and colour show on its topics' pages and rows, who may read it in every list.
        db.session.execute(sa.update(Topic).where(Topic.category_id == category.id)
                           .values(version=Topic.version + 1))
        mark_lists_changed()
        db.session.commit()
    return category


def all_categories():
    return db.session.scalars(sa.select(Category).order_by(Category.position, Category.name)).all()


def colour_rules():
    """CSS custom properties per category: colours reach pages without inline styles."""
    return "\n".join(f".cat-{c.id} {{ --cat: {c.colour}; }}" for c in all_categories())
