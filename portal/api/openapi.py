from flask import current_app, jsonify

from . import bp
from .spec import documented, openapi_document


@bp.get("/openapi.json")
@documented("This OpenAPI document", auth=False, errors=())
def openapi():
    return jsonify(openapi_document(current_app))
