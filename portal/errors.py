"""Domain errors and the one place that turns them into responses.

Services raise these with a stable code and a translated message; the
handlers answer `{"error": {...}}` on the API and a styled page or a form
error in the browser.
"""
import logging
import uuid

from flask import Response, g, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException, SecurityError

from .extensions import db, login_manager

log = logging.getLogger(__name__)

API_PREFIX = "/api/"


class DomainError(Exception):
    status = 400
    code = "bad_request"
    default_message = _l("The request could not be processed.")

    def __init__(self, code=None, message=None, fields=None):
        super().__init__(code or self.code)
        self.code = code or self.code
        self.message = message or self.default_message
        self.fields = fields or {}

    def to_dict(self):
        error = {"code": self.code, "message": str(self.message)}
        if self.fields:
            error["fields"] = {name: str(msg) for name, msg in self.fields.items()}
        return {"error": error}


class Invalid(DomainError):
    status = 422
    code = "invalid"
    default_message = _l("Some fields are not valid.")


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"
    default_message = _l("Please sign in.")


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    default_message = _l("You don't have permission to do that.")


class NotFound(DomainError):
    status = 404
    code = "not_found"
    default_message = _l("That was not found.")


class Conflict(DomainError):
    status = 409
    code = "conflict"
    default_message = _l("That conflicts with the current state.")


class TooManyRequests(DomainError):
    status = 429
    code = "rate_limited"
    default_message = _l("Too many requests. Please wait a moment and try again.")


def wants_json():
    """The API, and a page's script that asks for JSON (Accept: application/json), get errors as JSON."""
    if request.path.startswith(API_PREFIX):
        return True
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
}


def _http_message(status):
    messages = {
        400: _l("The request could not be understood."),
        401: _l("Please sign in."),
        403: _l("You don't have permission to do that."),
        404: _l("That page does not exist."),
        405: _l("That method is not allowed here."),
        413: _l("The request is too large."),
        415: _l("Send JSON with Content-Type: application/json."),
        429: _l("Too many requests. Please wait a moment and try again."),
    }
    return messages.get(status, _l("The request could not be processed."))


def _error_page(status, message):
    return render_template("errors/error.html", status=status, message=message), status


def _abandon_transaction():
    """Before anything else: whatever the failed action wrote is undone, and a broken transaction is usable again."""
    db.session.rollback()


def handle_domain_error(error: DomainError):
    _abandon_transaction()
    if wants_json():
        return jsonify(error.to_dict()), error.status
    if isinstance(error, Unauthorized):
        return login_manager.unauthorized()
    return _error_page(error.status, error.message)


def handle_http_error(error: HTTPException):
    _abandon_transaction()
    status = error.code or 500
    if status >= 500:
        return handle_unexpected(error)
    code = _HTTP_CODES.get(status, "error")
    message = _http_message(status)
    if status == 400 and error.description and "CSRF" in str(error.description):
        code, message = "csrf_failed", _l("Your form expired. Please reload the page and try again.")
    if wants_json():
        return jsonify({"error": {"code": code, "message": str(message)}}), status
    if isinstance(error, SecurityError):  # a host outside TRUSTED_HOSTS: no URLs can be built for it
        return Response(str(message), status, mimetype="text/plain")
    return _error_page(status, message)


def handle_unexpected(error):
    _abandon_transaction()
    log.exception("unhandled error, request id %s", request_id())
    if wants_json():
        body = {"error": {"code": "server_error", "message": str(_l("Something went wrong on our side.")),
                          "request_id": request_id()}}
        return jsonify(body), 500
    return _error_page(500, _l("Something went wrong on our side."))


def request_id():
    if "request_id" not in g:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if 8 <= len(incoming) <= 64 and incoming.isalnum() else uuid.uuid4().hex
    return g.request_id


def register_error_handlers(app):
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)

    @app.after_request
    def tag_request_id(response):
        response.headers["X-Request-ID"] = request_id()
        return response
