"""Shared pieces of the JSON API (`/api/v1`): request bodies and the OpenAPI document.

Each part describes its endpoints in ``kb/<part>/openapi.py`` with module constants
``PATHS`` and ``SCHEMAS`` (OpenAPI 3.1 fragments); they are merged here.
"""

import importlib
from datetime import datetime
from typing import Any

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _

from kb.errors import BadRequest

bp = Blueprint("api", __name__, url_prefix="/api/v1")

OPENAPI_MODULES = (
    "kb.pages.openapi",
    "kb.search.openapi",
    "kb.board.openapi",
    "kb.surveys.openapi",
    "kb.consult.openapi",
)


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a clear 400 for anything else."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest(_("Тело запроса должно быть JSON-объектом."))
    return data


def iso(moment: datetime | None) -> str | None:
    """A stored naive-UTC time as ISO 8601 with a `Z`, the format of every API answer."""
    return None if moment is None else moment.isoformat(timespec="seconds") + "Z"


def person(user) -> dict | None:
    """An author as the API shows people: name and organization, never the e-mail."""
    if user is None:
        return None
    return {
        "name": user.name,
        "organization": user.organization.short_name if user.organization else None,
    }


def openapi_document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "string"}},
        }
    }
    for name in OPENAPI_MODULES:
        module = importlib.import_module(name)
        paths.update(getattr(module, "PATHS", {}))
        schemas.update(getattr(module, "SCHEMAS", {}))
    # Every route answers 400 to a NUL character in its path or query string
    # (kb.security.refuse_nul_characters), so every operation documents it.
    bad_address = {
        "description": "Недопустимый символ в адресе или параметрах запроса",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    for operations in paths.values():
        for operation in operations.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"].setdefault("400", bad_address)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Методкабинет API", "version": "1"},
        "servers": [{"url": "/"}],
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
        },
        "security": [{"bearer": []}, {"cookie": []}, {}],
        "paths": paths,
    }


@bp.route("/openapi.json")
def openapi():
    """The OpenAPI document of the JSON API."""
    return jsonify(openapi_document())
