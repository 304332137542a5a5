"""The schema comes from migrations, and they agree with the models."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from portal.extensions import db


def test_models_and_migrations_agree(app):
    """Would `flask db migrate` find anything to add? It must not."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_migrations_run_down_and_up(runner, app):
    assert runner.invoke(args=["db", "downgrade", "base"]).exit_code == 0
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with db.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() is not None
