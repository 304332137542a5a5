"""`flask --app wsgi customers import FILE [--dry-run]`, `customers export [filters]` and `crm recompute`."""
import sys

import click
from flask.cli import AppGroup

from ..errors import DomainError, Invalid

customers_cli = AppGroup("customers", help="Customer records: import and export CSV.")
crm_cli = AppGroup("crm", help="The CRM's computed dimensions.")


@crm_cli.command("recompute")
def recompute_command():
    """Work out every customer's value tier, lifecycle stage, engagement, future value and churn risk again."""
    import time

    from .dimensions import recompute_all

    started = time.perf_counter()
    done = recompute_all()
    click.echo(f"{done.tiers} tier changes, {done.stages} stage moves, {done.dimensions} customers with new "
               f"engagement, future value or churn risk, {done.retention_cases} retention cases opened "
               f"({time.perf_counter() - started:.1f} s).")


@customers_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Say what each row would do; write nothing.")
def import_command(path, dry_run):
    """Upsert customers from a CSV file (by external_id, else email); bad rows are reported, never half written."""
    from .csvio import import_customers

    with open(path, "rb") as file:
        data = file.read()
    try:
        report = import_customers(None, data, dry_run=dry_run)
    except DomainError as error:
        raise click.ClickException("; ".join(str(m) for m in error.fields.values()) or str(error.message)) from None
    for row in report.rows:
        if row.action == "error":
            reasons = "; ".join(f"{name}: {message}" for name, message in row.errors.items())
            click.echo(f"line {row.number}: error: {reasons}", err=True)
    counts = report.counts
    verb = "would be" if dry_run else "were"
    click.echo(f"{counts['create']} {verb} created, {counts['update']} updated, {counts['unchanged']} unchanged, "
               f"{counts['error']} with errors ({report.encoding}, '{report.delimiter}').")
    if report.ignored_columns:
        click.echo(f"Ignored columns: {', '.join(report.ignored_columns)}")
    if counts["error"]:
        sys.exit(1)


@customers_cli.command("export")
@click.option("--output", "-o", type=click.File("w", encoding="utf-8", lazy=True), default="-",
              help="Where to write the CSV (default: standard output).")
@click.option("--q", default="", help="Search text.")
@click.option("--value-tier", default="")
@click.option("--lifecycle-stage", default="")
@click.option("--region", default="")
@click.option("--industry", default="")
@click.option("--untouched-days", default="")
@click.option("--unverified-days", default="")
@click.option("--sort", default="name")
def export_command(output, **filters):
    """Write customers as CSV (UTF-8 with BOM, for Excel), filtered as on the staff list."""
    from .csvio import export_rows
    from .records import CustomerFilters, customer_query

    try:
        chosen = CustomerFilters.from_args({key: value for key, value in filters.items() if value})
    except Invalid as error:
        raise click.ClickException("; ".join(f"{k}: {v}" for k, v in error.fields.items())) from None
    for piece in export_rows(customer_query(None, chosen)):
        output.write(piece)
