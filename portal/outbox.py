"""Side effects outside the database, made durable.

A service that needs an email sent (later: a search index update, a live
push, a webhook) calls `enqueue()` inside its transaction. The row commits
with the action. After the commit it is drained: inline after every commit in
the embedded default (and by a background drainer in each server process,
for what a crash or a backoff left behind), or by `flask outbox worker` when
OUTBOX_MODE=worker.
Each row is leased by a conditional UPDATE so two drainers never run the same
one; a failing handler is retried with backoff until OUTBOX_MAX_ATTEMPTS.
"""
import logging
import threading
import time
from datetime import datetime, timedelta

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from .extensions import db
from .sqltypes import UTCDateTime, utcnow

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
_handlers = {}


class OutboxMessage(db.Model):
    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_pending", "processed_at", "available_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(sa.String(48))
    payload: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def register_handler(topic, function):
    """Name the function that carries out messages of `topic` (a feature's init_app calls this)."""
    _handlers[topic] = function


def enqueue(topic, payload):
    """Add a side effect to the current transaction; it runs after commit."""
    if topic not in _handlers:
        raise LookupError(f"no outbox handler for {topic!r}")
    message = OutboxMessage(topic=topic, payload=payload)
    db.session.add(message)
    db.session.info["outbox_pending"] = True
    return message


def _lease(session, message_id, now):
    """Take the message for LEASE; only one drainer's UPDATE can match."""
    table = OutboxMessage.__table__
    result = session.execute(
        table.update()
        .where(
            table.c.id == message_id,
            table.c.processed_at.is_(None),
            table.c.failed_at.is_(None),
            sa.or_(table.c.leased_until.is_(None), table.c.leased_until < now),
        )
        .values(leased_until=now + LEASE, attempts=table.c.attempts + 1)
    )
    session.commit()
    return result.rowcount == 1


def _settle(session, message, error):
    now = utcnow()
    if error is None:
        message.processed_at = now
        message.last_error = None
    else:
        message.last_error = error[:2000]
        if message.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
            message.failed_at = now
        else:
            message.available_at = now + timedelta(seconds=2 ** message.attempts)
    message.leased_until = None
    session.commit()


def drain(limit=100):
    """Run the due messages, oldest first. Returns how many succeeded."""
    done = 0
    with Session(db.engine, expire_on_commit=False) as session:
        now = utcnow()
        due_ids = session.scalars(
            sa.select(OutboxMessage.id)
            .where(OutboxMessage.processed_at.is_(None), OutboxMessage.failed_at.is_(None),
                   OutboxMessage.available_at <= now)
            .order_by(OutboxMessage.id)
            .limit(limit)
        ).all()
        for message_id in due_ids:
            if not _lease(session, message_id, utcnow()):
                continue
            message = session.get(OutboxMessage, message_id)
            try:
                _handlers[message.topic](message.payload)
            except Exception as exc:  # a side effect may fail in any way; it is retried
                log.warning("outbox %s #%s failed: %s", message.topic, message.id, exc)
                _settle(session, message, f"{type(exc).__name__}: {exc}")
            else:
                _settle(session, message, None)
                done += 1
    return done


# On the app's scoped session only; drain() uses a plain Session, so its own
# commits don't trigger this again.
def _drain_after_commit(session):
    if session.info.pop("outbox_pending", False) and current_app.config["OUTBOX_MODE"] == "inline":
        drain()


def _forget_pending(session):
    session.info.pop("outbox_pending", None)


class BackgroundDrainer:
    """A thread per app process that drains what is due: once on start, then every OUTBOX_POLL_SECONDS.

    Inline draining runs right after each commit, so a process killed between
    a commit and its drain, or a retry whose backoff has passed, would leave
    mail waiting for a manual `flask outbox worker`. This picks them up.
    Leases keep it and the after-commit drains from running a message twice.
    """

    def __init__(self, app, interval):
        self.app, self.interval = app, interval
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="outbox-drainer", daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.stopped.set()
        self.thread.join(timeout=10)

    def _run(self):
        while not self.stopped.is_set():
            with self.app.app_context():
                try:
                    drain()
                except Exception:  # the database may be down or not migrated yet: try again next round
                    log.exception("background outbox drain failed")
            self.stopped.wait(self.interval)


def _serves_requests():
    # Commands (`flask db upgrade`, `seed-demo`, the worker itself) build the app inside a click context;
    # a server (gunicorn) does not.
    return click.get_current_context(silent=True) is None


def init_app(app):
    app.cli.add_command(outbox_cli)
    for name, listener in (("after_commit", _drain_after_commit), ("after_rollback", _forget_pending)):
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)
    interval = app.config["OUTBOX_POLL_SECONDS"]
    if app.config["OUTBOX_MODE"] == "inline" and interval > 0 and _serves_requests():
        app.extensions["outbox_drainer"] = BackgroundDrainer(app, interval).start()


outbox_cli = AppGroup("outbox", help="Run after-commit side effects.")


@outbox_cli.command("worker")
@click.option("--interval", default=1.0, help="Seconds between polls when idle.")
@click.option("--once", is_flag=True, help="Drain what is due, then exit.")
def worker_command(interval, once):
    """Drain the outbox continuously (OUTBOX_MODE=worker)."""
    while True:
        done = drain()
        if once:
            click.echo(f"{done} message(s) processed")
            return
        if not done:
            time.sleep(interval)
