"""Flask CLI commands: `flask --app wsgi <command>`."""
import click

from .errors import DomainError
from .permissions import Role


def register_commands(app):
    from .community.cli import posts_cli
    from .crm.cli import crm_cli, customers_cli
    from .leads.cli import leads_cli
    from .rewards.cli import points_cli

    app.cli.add_command(posts_cli)
    app.cli.add_command(customers_cli)
    app.cli.add_command(crm_cli)
    app.cli.add_command(leads_cli)
    app.cli.add_command(points_cli)

    @app.cli.command("create-user")
    @click.option("--email", required=True)
    @click.option("--password", required=True, help="At least 10 characters, not easily guessed.")
    @click.option("--name", required=True)
    @click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.MEMBER.value,
                  show_default=True)
    def create_user_command(email, password, name, role):
        """Create an account with any role (run by the operator)."""
        from .admin.services import create_user

        try:
            user = create_user(None, email=email, password=password, name=name, role=role)
        except DomainError as error:
            details = "; ".join(f"{field}: {msg}" for field, msg in error.fields.items()) or str(error.message)
            raise click.ClickException(details) from None
        click.echo(f"Created {user.role.value} {user.email} (id {user.id})")

    @app.cli.command("seed-demo")
    def seed_demo_command():
        """Fill an empty database with a demo community (does nothing the second time)."""
        from .demo import DEMO_PASSWORD, LOGINS, seed_demo

        created = seed_demo()["created"]
        click.echo("Demo community created." if created else "Demo data is already there.")
        click.echo("Sign in with:")
        for role, email in LOGINS:
            click.echo(f"  {role.value:<14} {email:<32} {DEMO_PASSWORD}")
