"""`flask --app wsgi leads sweep` and `leads daily`."""
import click
from flask.cli import AppGroup

leads_cli = AppGroup("leads", help="Leads: return neglected ones to the pool, the daily run.")


@leads_cli.command("sweep")
def sweep_command():
    """Return held leads with no follow-up for the set number of days to the pool (their notes stay)."""
    from .pipeline import sweep

    click.echo(f"{sweep()} leads returned to the pool.")


@leads_cli.command("daily")
def daily_command():
    """The daily run now: sweep, replacement and prospect signals, scores decayed to today."""
    from .daily import run_daily

    done = run_daily()
    click.echo(f"{done.returned} returned to the pool, {done.replacements} replacement signals, "
               f"{done.prospects} prospect signals, {done.rescored} scores changed.")
