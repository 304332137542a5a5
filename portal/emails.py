"""Email, sent through the outbox so a rolled-back action never mails anyone."""
from flask import current_app, render_template
from flask_babel import force_locale
from flask_mailman import EmailMessage

from . import outbox


def queue_mail(user, subject, template, **context):
    """Render a text email in the recipient's language and queue it in the current transaction."""
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        body = render_template(f"mail/{template}.txt", user=user, **context)
        subject = str(subject)
    outbox.enqueue("mail.send", {"to": [user.email], "subject": subject, "body": body})


def init_app(app):
    outbox.register_handler("mail.send", deliver_mail, lane=outbox.Lane.MAIL)


def deliver_mail(message):
    payload = message.payload
    EmailMessage(subject=payload["subject"], body=payload["body"], to=payload["to"]).send()
