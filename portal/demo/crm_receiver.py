"""The company CRM's end of the demo webhook, for as long as the demo is seeded.

The demo's lead, referral and customer events go out through the real
webhook pipeline (signed, sent from the outbox, logged) to this receiver on
127.0.0.1, which checks each signature and answers as a CRM would. When
seeding ends the receiver stops and the webhook is paused, so its delivery
log shows real deliveries and nothing keeps knocking at a closed port. An
admin points it at the company's CRM and turns it on.
"""
import contextlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from flask import current_app

from ..webhooks import services, signing
from ..webhooks.catalog import SUBSCRIBABLE

DESCRIPTION = ("Lumina CRM sandbox: took the demo's events while it was seeded. "
               "Point it at your CRM's address and turn it on.")


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        expected = signing.signature(self.server.secret, self.headers.get("webhook-id", ""),
                                     self.headers.get("webhook-timestamp", ""), body)
        valid = any(hmac.compare_digest(expected, given) for given in self.headers.get("webhook-signature", "").split())
        if not valid:
            self._answer(401, {"error": "bad signature"})
            return
        event = json.loads(body)
        self.server.received += 1
        self._answer(200, {"received": event["type"], "crm_ref": f"LUM-EVT-{self.server.received:05d}"})

    def _answer(self, status, body):
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def stand_in_crm(admin):
    """Serve the CRM's end on 127.0.0.1 and subscribe a webhook to every event; pause it afterwards."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.received = 0
    thread = threading.Thread(target=server.serve_forever, name="demo-crm-receiver", daemon=True)
    thread.start()
    config = current_app.config
    allowed = config["WEBHOOKS_ALLOW_PRIVATE_TARGETS"]
    config["WEBHOOKS_ALLOW_PRIVATE_TARGETS"] = True  # the stand-in lives on loopback
    try:
        webhook = services.create_webhook(admin, url=f"http://127.0.0.1:{server.server_port}/hooks/teahouse",
                                          events=list(SUBSCRIBABLE), description=DESCRIPTION)
        server.secret = webhook.secret
        yield webhook
        services.update_webhook(admin, webhook.id, active=False)
    finally:
        config["WEBHOOKS_ALLOW_PRIVATE_TARGETS"] = allowed
        server.shutdown()
        server.server_close()
