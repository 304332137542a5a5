"""Side effects outside the database, made durable, in lanes that never wait on each other.

A service that needs an email sent, a search entry updated, a live push or a
webhook calls `enqueue()` inside its transaction; the row commits with the
action. Each topic belongs to a lane (mail, search, live, webhook), named
when its feature registers the handler. A handler receives a `Message`
(id, topic, lane, attempt, payload): the id is stable across retries, so a
webhook delivery can carry it for the receiver to deduplicate. A `dedup_key`
collapses repeated updates of one object while one is still waiting (ten
edits, one reindex).

Who runs them:
- OUTBOX_MODE=inline (the embedded default): after a commit, the messages
  that transaction enqueued (and only those) go to this process's drainer,
  one thread per lane, so a request never pays for other requests' retries
  and a slow webhook never holds up a live push. Each lane thread also
  drains what is due every OUTBOX_POLL_SECONDS (what a crash or a backoff
  left behind). With OUTBOX_POLL_SECONDS=0 there are no threads and the
  committing thread runs its own messages right away (tests, the CLI).
- OUTBOX_MODE=worker: `flask outbox worker [--lane L]` runs them.

Each message is leased by a conditional UPDATE, so two drainers never run
the same one; a failing handler is retried with backoff until
OUTBOX_MAX_ATTEMPTS, then parked: `flask outbox failed` lists the parked,
`flask outbox retry` sends them again.
"""
import enum
import logging
import queue
import threading
import time
from dataclasses import dataclass
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


class Lane(enum.StrEnum):
    MAIL = "mail"
    SEARCH = "search"
    LIVE = "live"
    WEBHOOK = "webhook"
    # Work over many records (the CRM's recomputations): slow, so it has a lane of its own.
    CRM = "crm"


class OutboxMessage(db.Model):
    __tablename__ = "outbox"
    __table_args__ = (
        sa.Index("ix_outbox_pending", "processed_at", "available_at"),
        sa.Index("ix_outbox_lane_pending", "lane", "processed_at", "available_at"),
        sa.Index("ix_outbox_dedup", "topic", "dedup_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(sa.String(48))
    lane: Mapped[str] = mapped_column(sa.String(16), default=Lane.MAIL, server_default=Lane.MAIL.value)
    dedup_key: Mapped[str | None] = mapped_column(sa.String(200))
    payload: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class Message:
    """What a handler receives. `attempt` counts from 1; `id` stays the same on every retry."""
    id: int
    topic: str
    lane: str
    attempt: int
    payload: dict


@dataclass(frozen=True)
class _Handler:
    lane: Lane
    function: object


_handlers: dict[str, _Handler] = {}
# Topics that run every day at a UTC hour: {topic: hour}.
_daily: dict[str, int] = {}
SCHEDULED = "schedule"


def register_handler(topic, function, *, lane):
    """Name the function that carries out messages of `topic`, and its lane (a feature's init_app calls this)."""
    _handlers[topic] = _Handler(Lane(lane), function)


def register_daily(topic, function, *, lane, hour):
    """Like register_handler(), and run `topic` once a day at `hour` (UTC) while any drainer runs.

    The next run waits in the table as an ordinary message (dedup key
    "schedule"), so a restart neither skips nor doubles a day.
    """
    register_handler(topic, function, lane=lane)
    _daily[topic] = hour


def next_daily_run(hour, now):
    """The next `hour`:00 UTC after `now`."""
    today = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    return today if today > now else today + timedelta(days=1)


def _keep_daily_runs_waiting(session, lane):
    """Make sure each daily topic of `lane` has its next run waiting."""
    from .idempotency import one_at_a_time

    for topic, hour in _daily.items():
        if lane is not None and _handlers[topic].lane != lane:
            continue
        one_at_a_time(f"outbox.daily.{topic}", session=session)
        waiting = session.scalar(sa.select(OutboxMessage.id).where(
            OutboxMessage.topic == topic, OutboxMessage.dedup_key == SCHEDULED,
            OutboxMessage.processed_at.is_(None), OutboxMessage.failed_at.is_(None)).limit(1))
        if waiting is None:
            session.add(OutboxMessage(topic=topic, lane=_handlers[topic].lane, dedup_key=SCHEDULED, payload={},
                                      available_at=next_daily_run(hour, utcnow())))
        session.commit()


# -- enqueueing, inside the action's transaction ------------------------------------------------------

def enqueue(topic, payload, *, dedup_key=None):
    """Add a side effect to the current transaction; it runs after commit. Returns the message id.

    With `dedup_key`, a message of the same topic and key that is still
    waiting (not running, not done) takes the new payload instead of a
    second message being added; within one transaction that costs no query.
    """
    if topic not in _handlers:
        raise LookupError(f"no outbox handler for {topic!r}")
    lane = _handlers[topic].lane
    if dedup_key is not None:
        in_this_transaction = db.session.info.setdefault("outbox_keys", {})
        if (topic, dedup_key) in in_this_transaction:
            message_id = in_this_transaction[topic, dedup_key]
            db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == message_id)
                               .values(payload=payload))
            return message_id
    message_id = _collapse(topic, dedup_key, payload) if dedup_key else None
    if message_id is None:
        message = OutboxMessage(topic=topic, lane=lane, dedup_key=dedup_key, payload=payload)
        db.session.add(message)
        db.session.flush()
        message_id = message.id
    db.session.info.setdefault("outbox_enqueued", []).append((message_id, lane))
    if dedup_key is not None:
        db.session.info["outbox_keys"][topic, dedup_key] = message_id
    return message_id


def _collapse(topic, dedup_key, payload):
    """The id of the waiting message with this key, now carrying `payload`; None if there is none."""
    now, table = utcnow(), OutboxMessage.__table__
    waiting = (table.update()
               .where(table.c.topic == topic, table.c.dedup_key == dedup_key, table.c.processed_at.is_(None),
                      table.c.failed_at.is_(None),
                      sa.or_(table.c.leased_until.is_(None), table.c.leased_until < now))
               .values(payload=payload, available_at=now)
               .returning(table.c.id))
    return db.session.execute(waiting).scalars().first()


def _hand_over_after_commit(session):
    session.info.pop("outbox_keys", None)
    enqueued = session.info.pop("outbox_enqueued", None)
    if enqueued and current_app.config["OUTBOX_MODE"] == "inline":
        drainer = current_app.extensions.get("outbox_drainer")
        if drainer is not None:
            drainer.submit(enqueued)
        else:
            # A context of its own, so a handler that writes has a fresh session (this one is mid-commit).
            with current_app.app_context():
                run_messages([message_id for message_id, _lane in enqueued])


def _forget_after_rollback(session):
    session.info.pop("outbox_enqueued", None)
    session.info.pop("outbox_keys", None)


# -- running ------------------------------------------------------------------------------------------

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


def _run_one(session, message_id):
    """Lease, run and settle one message; True if its handler succeeded."""
    if not _lease(session, message_id, utcnow()):
        return False
    message = session.get(OutboxMessage, message_id)
    handler = _handlers.get(message.topic)
    try:
        if handler is None:
            raise LookupError(f"no outbox handler for {message.topic!r}")
        handler.function(Message(message.id, message.topic, message.lane, message.attempts, message.payload))
    except Exception as exc:  # a side effect may fail in any way; it is retried
        log.warning("outbox %s #%s failed: %s", message.topic, message.id, exc)
        _settle(session, message, f"{type(exc).__name__}: {exc}")
        return False
    _settle(session, message, None)
    if message.topic in _daily:
        _keep_daily_runs_waiting(session, message.lane)
    return True


def run_messages(message_ids):
    """Run these messages now (those a transaction just committed); how many succeeded."""
    with Session(db.engine, expire_on_commit=False) as session:
        return sum(_run_one(session, message_id) for message_id in message_ids)


def drain(lane=None, limit=100):
    """Run the due messages (of one lane, or all), oldest first. Returns how many succeeded."""
    query = (sa.select(OutboxMessage.id)
             .where(OutboxMessage.processed_at.is_(None), OutboxMessage.failed_at.is_(None),
                    OutboxMessage.available_at <= utcnow())
             .order_by(OutboxMessage.id).limit(limit))
    if lane is not None:
        query = query.where(OutboxMessage.lane == Lane(lane))
    with Session(db.engine, expire_on_commit=False) as session:
        _keep_daily_runs_waiting(session, Lane(lane) if lane is not None else None)
        due_ids = session.scalars(query).all()
        return sum(_run_one(session, message_id) for message_id in due_ids)


class LaneThread:
    """One lane's background thread: runs what commits hand it, and every `interval` what is due."""

    def __init__(self, app, lane, interval):
        self.app, self.lane, self.interval = app, lane, interval
        self.inbox = queue.Queue()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"outbox-{lane}", daemon=True)

    def _run(self):
        self._safely(drain, self.lane)  # on start: whatever a crash left behind
        while not self.stopped.is_set():
            try:
                message_ids = self.inbox.get(timeout=self.interval)
            except queue.Empty:
                self._safely(drain, self.lane)
            else:
                if message_ids is not None:
                    self._safely(run_messages, message_ids)
                self.inbox.task_done()

    def _safely(self, function, argument):
        with self.app.app_context():
            try:
                function(argument)
            except Exception:  # the database may be down or not migrated yet: the next round tries again
                log.exception("outbox %s lane: drain failed", self.lane)


class BackgroundDrainer:
    """This process's lane threads (inline mode): commits hand them their own messages."""

    def __init__(self, app, interval):
        self.lanes = {lane: LaneThread(app, lane, interval) for lane in Lane}

    def start(self):
        for lane in self.lanes.values():
            lane.thread.start()
        return self

    def submit(self, enqueued):
        by_lane = {}
        for message_id, lane in enqueued:
            by_lane.setdefault(Lane(lane), []).append(message_id)
        for lane, message_ids in by_lane.items():
            self.lanes[lane].inbox.put(message_ids)

    def wait_idle(self):
        """Block until every message handed over so far has run (for tests and orderly shutdown)."""
        for lane in self.lanes.values():
            lane.inbox.join()

    def stop(self):
        for lane in self.lanes.values():
            lane.stopped.set()
            lane.inbox.put(None)
        for lane in self.lanes.values():
            lane.thread.join(timeout=10)


def _serves_requests():
    # Commands (`flask db upgrade`, `seed-demo`, the worker itself) build the app inside a click context;
    # a server (gunicorn) does not.
    return click.get_current_context(silent=True) is None


def parked_count():
    """How many messages failed OUTBOX_MAX_ATTEMPTS times and wait for `flask outbox retry`."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.failed_at.is_not(None)))


def retry_parked(message_id=None):
    """Put parked messages (one, or all) back in line with fresh attempts; committed. Returns how many."""
    table = OutboxMessage.__table__
    statement = (table.update().where(table.c.failed_at.is_not(None))
                 .values(failed_at=None, attempts=0, available_at=utcnow(), leased_until=None))
    if message_id is not None:
        statement = statement.where(table.c.id == message_id)
    count = db.session.execute(statement).rowcount
    db.session.commit()
    return count


def init_app(app):
    app.cli.add_command(outbox_cli)
    for name, listener in (("after_commit", _hand_over_after_commit), ("after_rollback", _forget_after_rollback)):
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)
    interval = app.config["OUTBOX_POLL_SECONDS"]
    if app.config["OUTBOX_MODE"] == "inline" and interval > 0 and _serves_requests():
        app.extensions["outbox_drainer"] = BackgroundDrainer(app, interval).start()


outbox_cli = AppGroup("outbox", help="Run after-commit side effects.")


@outbox_cli.command("worker")
@click.option("--lane", type=click.Choice([lane.value for lane in Lane]), help="Only this lane.")
@click.option("--interval", default=1.0, help="Seconds between polls when idle.")
@click.option("--once", is_flag=True, help="Drain what is due, then exit.")
def worker_command(lane, interval, once):
    """Drain the outbox continuously (OUTBOX_MODE=worker): every lane, or one per worker."""
    while True:
        done = drain(lane)
        if once:
            click.echo(f"{done} message(s) processed")
            return
        if not done:
            time.sleep(interval)


@outbox_cli.command("failed")
def failed_command():
    """List the parked messages: those that failed OUTBOX_MAX_ATTEMPTS times."""
    parked = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.failed_at.is_not(None))
                                .order_by(OutboxMessage.id)).all()
    for message in parked:
        error = (message.last_error or "").splitlines()[0][:120] if message.last_error else ""
        click.echo(f"{message.id}\t{message.lane}\t{message.topic}\t{message.attempts} attempts\t"
                   f"{message.failed_at:%Y-%m-%d %H:%M}\t{error}")
    click.echo(f"{len(parked)} parked message(s)")


@outbox_cli.command("retry")
@click.argument("message_id", required=False, type=int)
@click.option("--all", "every", is_flag=True, help="Retry every parked message.")
def retry_command(message_id, every):
    """Send parked messages again: one by ID, or --all."""
    if (message_id is None) == (not every):
        raise click.UsageError("give a message ID or --all")
    count = retry_parked(None if every else message_id)
    if message_id is not None and count == 0:
        raise click.ClickException(f"message {message_id} is not parked")
    click.echo(f"{count} message(s) back in line")
