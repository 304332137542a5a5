"""The outbox: side effects after commit, in lanes, each message leased once, retried, parked, retried again."""
import threading
import time

import pytest
import sqlalchemy as sa

from portal import outbox
from portal.extensions import db
from portal.outbox import Lane, OutboxMessage, _lease, drain, enqueue
from portal.sqltypes import utcnow

calls = []


def _record(message):
    calls.append(message.payload)


def _fail(message):
    raise ConnectionError("webhook target down")


@pytest.fixture(autouse=True)
def _handlers():
    outbox.register_handler("test.record", _record, lane=Lane.MAIL)
    outbox.register_handler("test.fail", _fail, lane=Lane.WEBHOOK)
    calls.clear()


def _wait_for(condition, seconds=10):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def test_outbox_drains_after_commit_once(member):
    enqueue("test.record", {"n": 1})
    assert calls == []
    db.session.commit()
    assert calls == [{"n": 1}]
    assert drain() == 0
    message = db.session.scalar(sa.select(OutboxMessage))
    assert message.processed_at is not None and message.attempts == 1 and message.lane == "mail"


def test_a_commit_runs_only_its_own_messages(app):
    """A request never pays for other requests' backlog: what is already waiting is not its business."""
    app.config["OUTBOX_MODE"] = "worker"
    enqueue("test.record", {"n": "someone else's"})
    db.session.commit()
    app.config["OUTBOX_MODE"] = "inline"
    enqueue("test.record", {"n": "mine"})
    db.session.commit()
    assert calls == [{"n": "mine"}]
    assert drain() == 1 and calls == [{"n": "mine"}, {"n": "someone else's"}]


def test_worker_mode_leaves_messages_for_the_worker(app, runner):
    app.config["OUTBOX_MODE"] = "worker"
    enqueue("test.record", {"n": 2})
    db.session.commit()
    assert calls == []
    result = runner.invoke(args=["outbox", "worker", "--once"])
    assert "1 message(s) processed" in result.output
    assert calls == [{"n": 2}]


def test_a_worker_can_take_one_lane(app, runner):
    app.config["OUTBOX_MODE"] = "worker"
    enqueue("test.record", {"n": "mail"})
    enqueue("test.fail", {"n": "webhook"})
    db.session.commit()
    assert "0 message(s) processed" in runner.invoke(args=["outbox", "worker", "--once", "--lane", "webhook"]).output
    assert calls == []  # the webhook lane's worker never touched the mail
    assert "1 message(s) processed" in runner.invoke(args=["outbox", "worker", "--once", "--lane", "mail"]).output
    assert calls == [{"n": "mail"}]


def test_handlers_get_the_message_with_a_stable_id_and_its_attempt(app):
    seen = []

    def flaky(message):
        seen.append((message.id, message.lane, message.attempt, message.payload))
        if message.attempt == 1:
            raise TimeoutError("first try times out")

    outbox.register_handler("test.flaky", flaky, lane=Lane.WEBHOOK)
    message_id = enqueue("test.flaky", {"event": "lead.created"})
    db.session.commit()
    db.session.execute(sa.update(OutboxMessage).values(available_at=utcnow()))
    db.session.commit()
    assert drain() == 1
    assert seen == [(message_id, "webhook", 1, {"event": "lead.created"}),
                    (message_id, "webhook", 2, {"event": "lead.created"})]


def test_a_dedup_key_collapses_waiting_updates_of_one_object(app, runner):
    """Ten edits while the search lane is busy: one reindex, with the last payload."""
    outbox.register_handler("test.reindex", _record, lane=Lane.SEARCH)
    app.config["OUTBOX_MODE"] = "worker"
    for edit in range(10):
        enqueue("test.reindex", {"topic_id": 7, "edit": edit}, dedup_key="topic:7")
        db.session.commit()
    enqueue("test.reindex", {"topic_id": 8, "edit": 0}, dedup_key="topic:8")
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 2
    runner.invoke(args=["outbox", "worker", "--once"])
    assert calls == [{"topic_id": 7, "edit": 9}, {"topic_id": 8, "edit": 0}]


def test_failed_side_effect_is_retried_with_backoff_then_parked_and_retried_by_command(app, runner):
    app.config["OUTBOX_MAX_ATTEMPTS"] = 2
    enqueue("test.fail", {})
    db.session.commit()
    message = db.session.scalar(sa.select(OutboxMessage))
    db.session.refresh(message)
    assert message.attempts == 1 and "webhook target down" in message.last_error
    assert message.available_at > message.created_at and message.failed_at is None
    db.session.execute(sa.update(OutboxMessage).values(available_at=message.created_at))
    db.session.commit()
    drain()
    db.session.refresh(message)
    assert message.attempts == 2 and message.failed_at is not None

    listing = runner.invoke(args=["outbox", "failed"]).output
    assert f"{message.id}\twebhook\ttest.fail\t2 attempts" in listing and "1 parked message(s)" in listing
    assert runner.invoke(args=["outbox", "retry", "999999"]).exit_code != 0
    assert runner.invoke(args=["outbox", "retry"]).exit_code != 0  # an ID or --all
    assert "1 message(s) back in line" in runner.invoke(args=["outbox", "retry", "--all"]).output
    db.session.refresh(message)
    assert (message.failed_at, message.attempts) == (None, 0)
    outbox.register_handler("test.fail", _record, lane=Lane.WEBHOOK)  # the target is back up
    assert drain() == 1 and calls == [{}]


def test_staff_see_the_parked_count_on_the_admin_pages(app, admin, runner):
    app.config["OUTBOX_MAX_ATTEMPTS"] = 1
    page = app.test_client(user=admin).get("/admin/users").get_data(as_text=True)
    assert "parked" not in page
    enqueue("test.fail", {})
    db.session.commit()
    page = app.test_client(user=admin).get("/admin/users").get_data(as_text=True)
    assert "1 side effect (an email, a webhook…) failed too often and is parked." in page
    assert "flask outbox retry --all" in page


def test_a_leased_message_is_not_run_twice(app):
    app.config["OUTBOX_MODE"] = "worker"
    enqueue("test.record", {"n": 3})
    db.session.commit()
    message_id = db.session.scalar(sa.select(OutboxMessage.id))
    with sa.orm.Session(db.engine) as other_worker:
        assert _lease(other_worker, message_id, utcnow())
    assert drain() == 0
    assert calls == []


def test_enqueue_rejects_unknown_topics():
    with pytest.raises(LookupError):
        enqueue("nobody.listens", {})


# -- the background drainer of a server process ---------------------------------------------------

@pytest.fixture
def server(make_app):
    """An app as gunicorn runs it: inline mode with its lane threads."""
    built = []

    def build():
        app = make_app(OUTBOX_POLL_SECONDS=0.05)
        built.append(app)
        return app

    yield build
    for app in built:
        app.extensions["outbox_drainer"].stop()


def test_a_slow_webhook_never_holds_up_a_live_push(server, app):
    server_app = server()
    release, live = threading.Event(), threading.Event()
    outbox.register_handler("test.slow_webhook", lambda message: release.wait(10), lane=Lane.WEBHOOK)
    outbox.register_handler("test.live_push", lambda message: live.set(), lane=Lane.LIVE)
    with server_app.app_context():
        enqueue("test.slow_webhook", {})
        enqueue("test.live_push", {})
        started = time.monotonic()
        db.session.commit()  # hands both to the lane threads and returns at once
        assert time.monotonic() - started < 1
        assert live.wait(5), "the live push waited for the webhook"
        release.set()
        server_app.extensions["outbox_drainer"].wait_idle()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                                 .where(OutboxMessage.processed_at.is_(None),
                                        OutboxMessage.dedup_key.is_distinct_from(outbox.SCHEDULED))) == 0


def test_a_server_process_picks_up_what_a_crash_left_in_the_outbox(server, app, member):
    """Mail committed but never drained (kill -9 between commit and drain) goes out when the app starts,
    and mail that becomes due later goes out without anyone running the worker."""
    from portal.emails import queue_mail

    app.config["OUTBOX_MODE"] = "worker"  # as good as a crash: the commit happens, the drain never does
    queue_mail(member, "Left behind", "password_reset", link="https://example.org/x", minutes=60)
    db.session.commit()
    server_app = server()

    def sent():  # the lane thread may have sent it already: read the list, never reset it
        return [mail.subject for mail in getattr(server_app.extensions["mailman"], "outbox", [])]

    assert _wait_for(lambda: len(sent()) == 1)
    assert sent() == ["Left behind"]

    queue_mail(member, "Due later", "password_reset", link="https://example.org/y", minutes=60)
    db.session.commit()  # still not drained by this (worker-mode) process
    assert _wait_for(lambda: len(sent()) == 2)
    assert sent() == ["Left behind", "Due later"]
