"""Moderators manage categories; colours reach pages through a stylesheet."""
import pytest
import sqlalchemy as sa

from portal.audit import AuditEntry
from portal.community import categories
from portal.community.models import Access, Category
from portal.errors import Forbidden, Invalid
from portal.extensions import db
from portal.permissions import Role

VALID = {"name": "Integrations", "slug": "integrations", "description": "APIs and connectors",
         "colour": "#1D4ED8", "position": 3, "read_access": "everyone", "write_access": "members"}


def test_moderator_creates_and_edits_a_category(moderator):
    category = categories.create_category(moderator, **VALID)
    assert (category.colour, category.read_access) == ("#1d4ed8", Access.EVERYONE)
    categories.update_category(moderator, category.id, write_access="staff", name="Integrations & API")
    db.session.refresh(category)
    assert category.write_access == Access.STAFF and category.name == "Integrations & API"
    entries = db.session.execute(sa.select(AuditEntry.action, AuditEntry.target_type, AuditEntry.target_id)
                                 .order_by(AuditEntry.id)).all()
    assert entries == [("category.created", "category", category.id), ("category.updated", "category", category.id)]


@pytest.mark.parametrize("changes, field", [
    ({"name": "X"}, "name"),
    ({"slug": "Not A Slug"}, "slug"),
    ({"colour": "red"}, "colour"),
    ({"colour": "#12345g"}, "colour"),
    ({"position": "first"}, "position"),
    ({"read_access": "friends"}, "read_access"),
    ({"write_access": "everyone"}, "write_access"),
    ({"description": "d" * 501}, "description"),
])
def test_bad_category_values_are_refused(moderator, changes, field):
    with pytest.raises(Invalid) as error:
        categories.create_category(moderator, **(VALID | changes))
    assert field in error.value.fields
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Category)) == 0


def test_slugs_are_unique(moderator):
    categories.create_category(moderator, **VALID)
    with pytest.raises(Invalid) as error:
        categories.create_category(moderator, **(VALID | {"name": "Other"}))
    assert error.value.code == "slug_taken"


@pytest.mark.parametrize("role", [Role.MEMBER, Role.SALES, Role.SALES_MANAGER])
def test_only_moderators_and_admins_manage_categories(make_user, make_app, role):
    user = make_user(role)
    with pytest.raises(Forbidden):
        categories.create_category(user, **VALID)
    app = make_app()
    assert app.test_client(user=user).get("/manage/categories").status_code == 403
    assert app.test_client(user=user).post("/manage/categories", data=VALID).status_code == 403


def test_category_pages_for_moderators(app, moderator):
    client = app.test_client(user=moderator)
    response = client.post("/manage/categories", data=VALID)
    assert response.status_code == 302
    category = db.session.scalar(sa.select(Category))
    assert client.get("/manage/categories").status_code == 200
    response = client.post(f"/manage/categories/{category.id}", data=VALID | {"colour": "nope"})
    assert response.status_code == 422 and "Use a colour like #0f766e." in response.get_data(as_text=True)


def test_colour_stylesheet_lists_every_category(client, moderator):
    category = categories.create_category(moderator, **VALID)
    css = client.get("/category-colours.css")
    assert css.mimetype == "text/css"
    assert f".cat-{category.id} {{ --cat: #1d4ed8; }}" in css.get_data(as_text=True)
