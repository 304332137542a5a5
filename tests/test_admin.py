"""The operator's pages and the permission mechanism behind every staff view."""
import pytest
import sqlalchemy as sa

from portal.admin import services as admin_services
from portal.audit import AuditEntry
from portal.auth.models import Team, User, UserStatus
from portal.errors import Conflict, Forbidden, Invalid
from portal.extensions import db
from portal.permissions import Permission, Record, Role, Scope, can, scope, scoped
from tests.conftest import PASSWORD

ADMIN_PAGES = ["/admin/users", "/admin/users/{id}", "/admin/teams", "/admin/tokens"]
ADMIN_POSTS = ["/admin/users/{id}/role", "/admin/users/{id}/team", "/admin/users/{id}/suspend",
               "/admin/users/{id}/reactivate", "/admin/teams", "/admin/tokens"]


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_permission_matrix_for_admin_pages(make_app, make_user, role, path):
    """Who may open each admin page: admins only; visitors are sent to sign in."""
    app = make_app()
    target = make_user()
    user = make_user(role)
    url = path.format(id=target.id)
    assert app.test_client().get(url).status_code == 302
    status = app.test_client(user=user).get(url).status_code
    assert status == (200 if role == Role.ADMIN else 403)


@pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMIN])
@pytest.mark.parametrize("path", ADMIN_POSTS)
def test_non_admins_cannot_post_admin_actions(make_app, make_user, role, path):
    app = make_app()
    target = make_user()
    user = make_user(role)
    response = app.test_client(user=user).post(path.format(id=target.id), data={"role": "admin", "team": 0,
                                                                                 "name": "X Team"})
    assert response.status_code == 403
    db.session.refresh(target)
    assert target.role == Role.MEMBER and target.status == UserStatus.ACTIVE
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0


@pytest.mark.parametrize("role", list(Role))
def test_permission_matrix_for_admin_api(client, make_user, bearer, role):
    """Listing every token is an admin power; others see only their own."""
    user = make_user(role)
    other = make_user()
    bearer(other)
    listing = client.get("/api/v1/tokens", headers=bearer(user)).get_json()
    owners = {t["user_id"] for t in listing["items"]}
    assert owners == ({user.id, other.id} if role == Role.ADMIN else {user.id})


def test_role_feature_permissions(app):  # earned permissions read the level settings
    assert Permission.MODERATE not in {p for p in Permission if can(_Fake(Role.SALES), p)}
    assert can(_Fake(Role.MODERATOR), Permission.MODERATE)
    assert not can(_Fake(Role.MEMBER), Permission.VIEW_CUSTOMERS)
    assert can(_Fake(Role.SALES_MANAGER), Permission.ASSIGN_LEADS)
    assert not can(_Fake(Role.SALES), Permission.ASSIGN_LEADS)
    assert all(can(_Fake(Role.ADMIN), p) for p in Permission)
    assert not can(_Fake(Role.ADMIN, active=False), Permission.POST)


class _Fake:
    is_authenticated = True
    level_number = 1

    def __init__(self, role, active=True, id=1, team_id=None):
        self.role, self.is_active, self.id, self.team_id = role, active, id, team_id


def test_data_scope_own_team_all(make_user):
    """Sales see their own records, managers their team's, moderators and admins all."""
    team = Team(name="East")
    db.session.add(team)
    db.session.commit()
    rep = make_user(Role.SALES, team_id=team.id)
    teammate = make_user(Role.SALES, team_id=team.id)
    outsider = make_user(Role.SALES)
    manager = make_user(Role.SALES_MANAGER, team_id=team.id)
    query = sa.select(User.id).where(User.role == Role.SALES)

    def visible(viewer):
        q = scoped(query, viewer, Record.LEAD, owner_column=User.id, team_column=User.team_id)
        return set(db.session.scalars(q))

    assert visible(rep) == {rep.id}
    assert visible(manager) == {rep.id, teammate.id}
    assert visible(make_user(Role.ADMIN)) == {rep.id, teammate.id, outsider.id}
    assert visible(make_user(Role.MEMBER)) == set()
    assert scope(make_user(Role.MODERATOR), Record.CUSTOMER) is Scope.ALL


def test_admin_changes_role_with_audit(client, admin, member):
    client = client.application.test_client(user=admin)
    response = client.post(f"/admin/users/{member.id}/role", data={"role": "moderator"})
    assert response.status_code == 302
    db.session.refresh(member)
    assert member.role == Role.MODERATOR
    entry = db.session.scalar(sa.select(AuditEntry))
    assert (entry.actor_id, entry.action, entry.target_id) == (admin.id, "user.role_changed", member.id)
    assert entry.details == {"old": "member", "new": "moderator"}


def test_admin_rejects_unknown_role(client, admin, member):
    client = client.application.test_client(user=admin)
    client.post(f"/admin/users/{member.id}/role", data={"role": "emperor"})
    db.session.refresh(member)
    assert member.role == Role.MEMBER


def test_admin_puts_sales_rep_in_team(client, admin, sales):
    team = Team(name="East China")
    db.session.add(team)
    db.session.commit()
    client = client.application.test_client(user=admin)
    assert client.post(f"/admin/users/{sales.id}/team", data={"team": team.id}).status_code == 302
    db.session.refresh(sales)
    assert sales.team_id == team.id


def test_members_cannot_join_sales_teams(admin, member):
    team = admin_services.create_team(admin, "East China")
    with pytest.raises(Invalid):
        admin_services.set_team(admin, member.id, team.id)


def test_team_names_are_unique(admin):
    admin_services.create_team(admin, "East China")
    with pytest.raises(Invalid):
        admin_services.create_team(admin, "East China")


def test_suspension_ends_sessions_at_once(make_app, admin, member):
    app = make_app()
    browser = app.test_client()
    browser.post("/login", data={"email": member.email, "password": PASSWORD, "remember": "y"})
    assert browser.get("/account/profile").status_code == 200
    app.test_client(user=admin).post(f"/admin/users/{member.id}/suspend", data={"reason": "spam"})
    assert browser.get("/account/profile").status_code == 302
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "user.suspended"))
    assert entry.details == {"reason": "spam"}
    app.test_client(user=admin).post(f"/admin/users/{member.id}/reactivate")
    db.session.refresh(member)
    assert member.status == UserStatus.ACTIVE
    # Old cookies stay dead after reactivation: the member signs in again.
    assert browser.get("/account/profile").status_code == 302


def test_admin_cannot_suspend_self_or_remove_last_admin(admin, member):
    with pytest.raises(Conflict):
        admin_services.suspend(admin, admin.id)
    with pytest.raises(Conflict):
        admin_services.change_role(admin, admin.id, "member")


def test_services_check_permission_too(moderator, member):
    with pytest.raises(Forbidden):
        admin_services.change_role(moderator, member.id, "admin")


def test_admin_user_list_filters_and_keeps_query_count(client, admin, make_user):
    from tests.helpers import count_queries

    client = client.application.test_client(user=admin)
    make_user(Role.SALES, name="Liu Yang")
    client.get("/admin/users")  # warm-up: the day's first page also counts the visit
    with count_queries() as few:
        page = client.get("/admin/users?q=liu").get_data(as_text=True)
    assert "Liu Yang" in page and admin.name not in page.split("<tbody>")[1]
    for _ in range(10):
        make_user()
    with count_queries() as many:
        client.get("/admin/users")
    assert len(many) == len(few)


def test_admin_creates_token_for_integration(client, admin, member):
    client = client.application.test_client(user=admin)
    response = client.post("/admin/tokens", data={"user_email": member.email, "name": "CRM sync"})
    page = response.get_data(as_text=True)
    assert "Copy this token now" in page
    token = page.split('<code class="token">')[1].split("<")[0]
    assert client.application.test_client().get(
        "/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()["id"] == member.id
    assert db.session.scalar(sa.select(AuditEntry.action)) == "api_token.created"


def test_cli_create_user(runner):
    result = runner.invoke(args=["create-user", "--email", "ops@example.com", "--password", "violet kettle 42x",
                                 "--name", "Ops Person", "--role", "admin"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.email == "ops@example.com"))
    assert user.role == Role.ADMIN


def test_cli_create_user_rejects_weak_password(runner):
    result = runner.invoke(args=["create-user", "--email", "ops@example.com", "--password", "123",
                                 "--name", "Ops Person"])
    assert result.exit_code != 0
    assert "password" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_user_page_shows_the_audit_trail_in_words(client, admin, member):
    client = client.application.test_client(user=admin)
    client.post(f"/admin/users/{member.id}/role", data={"role": "moderator"})
    client.post(f"/admin/users/{member.id}/suspend", data={"reason": "spam"})
    page = client.get(f"/admin/users/{member.id}").get_data(as_text=True)
    assert "Role changed" in page and "Account suspended" in page and "user.suspended" not in page
