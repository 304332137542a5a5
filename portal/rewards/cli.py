"""`flask points verify`: does every member's balance equal their ledger?"""
import click
from flask.cli import AppGroup

from .ledger import balance_mismatches

points_cli = AppGroup("points", help="The points ledger.")


@points_cli.command("verify")
def verify_command():
    """Report every member whose cached points differ from the sum of their ledger."""
    mismatches = balance_mismatches()
    for user_id, cached, ledger in mismatches:
        click.echo(f"user {user_id}: balance {cached}, ledger {ledger}")
    if mismatches:
        raise click.ClickException(f"{len(mismatches)} member(s) differ from the ledger")
    click.echo("Every balance equals its ledger.")
