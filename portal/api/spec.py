"""Request parsing and the OpenAPI description, from the same pydantic models.

Every API view is wrapped in `@documented(...)`; `/api/v1/openapi.json` is
built by walking the URL map, so a route can't exist without its entry.
"""
from flask import request
from flask_babel import gettext as _
from pydantic import BaseModel, ValidationError

from ..errors import DomainError, Invalid

_models = {}


class Unsupported(DomainError):
    status = 415
    code = "unsupported_media_type"


def parse(model: type[BaseModel], data=None):
    """Validate a JSON body against `model`, or raise Invalid with one message per field."""
    if data is None:
        if not request.is_json:
            raise Unsupported(message=_("Send a JSON object with Content-Type: application/json."))
        data = request.get_json()  # malformed JSON: werkzeug answers 400
    if not isinstance(data, dict):
        raise Invalid(message=_("The body must be a JSON object."))
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = {".".join(str(p) for p in err["loc"]) or "body": err["msg"] for err in exc.errors()}
        raise Invalid(fields=fields) from None


def parse_query(model: type[BaseModel]):
    """The query string validated against `model`; bad values answer 422 with `fields`."""
    return parse(model, request.args.to_dict())


def dump(model: type[BaseModel], obj):
    return model.model_validate(obj, from_attributes=True).model_dump(mode="json")


def page_out(model, pagination):
    """The list shape of every API collection."""
    return {"items": [dump(model, item) for item in pagination.items], "page": pagination.page,
            "per_page": pagination.per_page, "total": pagination.total}


def documented(summary, *, body=None, response=None, status=200, auth=True, tag="general",
               query=None, errors=(400, 401, 403, 422)):
    """Attach the OpenAPI facts of a view: its body and response models, auth, status."""
    def decorate(view):
        view.openapi = {
            "summary": summary, "body": body, "response": response, "status": status,
            "auth": auth, "tag": tag, "query": query or {}, "errors": errors,
        }
        for model in (body, response):
            if model is not None:
                _models[model.__name__] = model
        return view
    return decorate


ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["code", "message"],
        "properties": {
            "code": {"type": "string"},
            "message": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    }},
}


def _ref(model):
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _operation(meta, path_params):
    op = {"summary": meta["summary"], "tags": [meta["tag"]], "responses": {}}
    params = [{"name": p, "in": "path", "required": True, "schema": {"type": "integer"}} for p in path_params]
    params += [{"name": name, "in": "query", "required": False, "schema": {"type": kind}}
               for name, kind in meta["query"].items()]
    if params:
        op["parameters"] = params
    if meta["body"] is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(meta["body"])}}}
    success = {"description": "OK"}
    if meta["response"] is not None:
        success["content"] = {"application/json": {"schema": _ref(meta["response"])}}
    op["responses"][str(meta["status"])] = success
    for code in meta["errors"]:
        if code == 401 and not meta["auth"]:
            continue
        op["responses"][str(code)] = {"description": "Error", "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    op["security"] = [{"bearerAuth": []}] if meta["auth"] else []
    return op


def _schemas():
    schemas = {"Error": ERROR_SCHEMA}
    for name, model in sorted(_models.items()):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[name] = schema
    return schemas


def openapi_document(app, prefix="/api/v1"):
    paths = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(prefix):
            continue
        view = app.view_functions[rule.endpoint]
        meta = getattr(view, "openapi", None)
        if meta is None:
            raise LookupError(f"API route {rule.rule} has no @documented entry")
        path = rule.rule[len(prefix):] or "/"
        for arg in rule.arguments:
            path = path.replace(f"<int:{arg}>", f"{{{arg}}}").replace(f"<{arg}>", f"{{{arg}}}")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(meta, sorted(rule.arguments))
    return {
        "openapi": "3.1.0",
        "info": {"title": "Teahouse API", "version": "1"},
        "servers": [{"url": prefix}],
        "paths": paths,
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }
