"""OpenAPI 3.1 fragments for the wiki endpoints (merged by kb.api)."""

from kb.database import MAX_ID

ERR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def _json(ref: str) -> dict:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}


def _errors(*codes: int) -> dict:
    text = {
        400: "Некорректный запрос (не JSON, неверные параметры)",
        401: "Нужно войти или передать токен",
        403: "Недостаточно прав",
        404: "Страница, версия или пространство не найдены",
        409: "Конфликт правок",
        413: "Слишком большой файл",
        422: "Данные не прошли проверку",
    }
    return {str(c): {"description": text[c], "content": ERR} for c in codes}


# Revision numbers and ids are 32-bit in the database; past this they name nothing (404).
REVISION = {"type": "integer", "minimum": 1, "maximum": MAX_ID}

SLUG = {
    "name": "slug",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "Название страницы с «_» вместо пробелов, например Растим_инженеров",
}

PATHS = {
    "/api/v1/spaces": {
        "get": {
            "summary": "Пространства (клубы и рабочие группы)",
            "tags": ["wiki"],
            "responses": {"200": {"description": "Список", "content": _json("SpaceList")}},
        }
    },
    "/api/v1/pages": {
        "get": {
            "summary": "Страницы (по пространству и/или метке)",
            "tags": ["wiki"],
            "parameters": [
                {"name": "space", "in": "query", "schema": {"type": "string"}},
                {"name": "tag", "in": "query", "schema": {"type": "string"}},
            ],
            "responses": {
                "200": {"description": "Список страниц", "content": _json("PageList")},
                **_errors(401, 404),
            },
        }
    },
    "/api/v1/pages/{slug}": {
        "parameters": [SLUG],
        "get": {
            "summary": "Страница: текст Markdown и HTML",
            "tags": ["wiki"],
            "responses": {
                "200": {"description": "Страница", "content": _json("Page")},
                **_errors(401, 404),
            },
        },
        "put": {
            "summary": "Создать (base_revision = null) или изменить страницу",
            "description": (
                "Если страница изменилась после base_revision, правка объединяется "
                "трёхсторонним слиянием (merged = true); при пересечении правок — 409 с "
                "текстом с отметками конфликта. Неизменённый текст новой версии не создаёт."
            ),
            "tags": ["wiki"],
            "requestBody": {"required": True, "content": _json("PagePut")},
            "responses": {
                "200": {"description": "Сохранено", "content": _json("SaveResult")},
                "201": {"description": "Создано", "content": _json("SaveResult")},
                "409": {"description": "Конфликт правок", "content": _json("EditConflict")},
                **_errors(400, 401, 403, 404, 422),
            },
        },
        "delete": {
            "summary": "Удалить страницу (мягко; только администратор)",
            "tags": ["wiki"],
            "responses": {"200": {"description": "Удалено"}, **_errors(401, 403, 404, 409)},
        },
    },
    "/api/v1/pages/{slug}/restore": {
        "parameters": [SLUG],
        "post": {
            "summary": "Восстановить удалённую страницу (администратор)",
            "tags": ["wiki"],
            "responses": {"200": {"description": "Восстановлено"}, **_errors(401, 403, 404, 409)},
        },
    },
    "/api/v1/pages/{slug}/revisions": {
        "parameters": [SLUG],
        "get": {
            "summary": "История версий, новые первыми",
            "tags": ["wiki"],
            "responses": {
                "200": {"description": "Версии", "content": _json("RevisionList")},
                **_errors(401, 404),
            },
        },
    },
    "/api/v1/pages/{slug}/diff": {
        "parameters": [
            SLUG,
            {
                "name": "from",
                "in": "query",
                "schema": REVISION,
                "description": "По умолчанию — версия перед to",
            },
            {
                "name": "to",
                "in": "query",
                "schema": REVISION,
                "description": "По умолчанию — текущая версия",
            },
        ],
        "get": {
            "summary": "Разница между версиями (unified и пословная HTML)",
            "tags": ["wiki"],
            "responses": {
                "200": {"description": "Разница", "content": _json("Diff")},
                **_errors(400, 401, 404, 422),
            },
        },
    },
    "/api/v1/pages/{slug}/revert": {
        "parameters": [SLUG],
        "post": {
            "summary": "Вернуть текст старой версии (новой версией)",
            "tags": ["wiki"],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["revision"],
                            "properties": {
                                "revision": REVISION,
                                "comment": {"type": "string", "maxLength": 500},
                            },
                        }
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "Новая версия",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"revision": {"type": "integer"}},
                            }
                        }
                    },
                },
                **_errors(400, 401, 403, 404, 422),
            },
        },
    },
    "/api/v1/pages/{slug}/backlinks": {
        "parameters": [SLUG],
        "get": {
            "summary": "Страницы, которые ссылаются на эту",
            "tags": ["wiki"],
            "responses": {
                "200": {
                    "description": "Адреса страниц",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "pages": {"type": "array", "items": {"type": "string"}}
                                },
                            }
                        }
                    },
                },
                **_errors(401, 404),
            },
        },
    },
    "/api/v1/pages/{slug}/attachments": {
        "parameters": [SLUG],
        "get": {
            "summary": "Файлы страницы",
            "tags": ["wiki"],
            "responses": {"200": {"description": "Файлы"}, **_errors(401, 404)},
        },
        "post": {
            "summary": "Прикрепить файл (тот же файл с тем же именем — новая версия)",
            "tags": ["wiki"],
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["file"],
                            "properties": {"file": {"type": "string", "format": "binary"}},
                        }
                    }
                },
            },
            "responses": {
                "201": {"description": "Файл прикреплён", "content": _json("Attachment")},
                **_errors(400, 401, 403, 404, 413, 422),
            },
        },
    },
    "/api/v1/changes": {
        "get": {
            "summary": "Последние изменения",
            "tags": ["wiki"],
            "parameters": [
                {"name": "space", "in": "query", "schema": {"type": "string"}},
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
                },
            ],
            "responses": {"200": {"description": "Изменения"}, **_errors(400, 401, 404, 422)},
        }
    },
    "/api/v1/preview": {
        "post": {
            "summary": "Предпросмотр Markdown тем же конвейером, что и при сохранении",
            "tags": ["wiki"],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {"body": {"type": "string"}, "slug": {"type": "string"}},
                        }
                    }
                },
            },
            "responses": {"200": {"description": "HTML"}, **_errors(400, 401, 403, 422)},
        }
    },
}

_PERSON = {
    "type": ["object", "null"],
    "properties": {"name": {"type": "string"}, "organization": {"type": ["string", "null"]}},
}
_SUMMARY_PROPS = {
    "slug": {"type": "string"},
    "title": {"type": "string"},
    "space": {"type": "string"},
    "tags": {"type": "array", "items": {"type": "string"}},
    "revision": {"type": "integer"},
    "updated_at": {"type": "string", "format": "date-time"},
}

SCHEMAS = {
    "SpaceList": {
        "type": "object",
        "properties": {
            "spaces": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "slug": {"type": "string"},
                        "title": {"type": "string"},
                        "description": {"type": "string"},
                        "is_default": {"type": "boolean"},
                        "pages": {"type": "integer"},
                    },
                },
            }
        },
    },
    "PageSummary": {"type": "object", "properties": _SUMMARY_PROPS},
    "PageList": {
        "type": "object",
        "properties": {
            "pages": {"type": "array", "items": {"$ref": "#/components/schemas/PageSummary"}}
        },
    },
    "Page": {
        "type": "object",
        "properties": {
            **_SUMMARY_PROPS,
            "deleted": {
                "type": "boolean",
                "description": "Удалённую страницу видят только администраторы",
            },
            "body": {"type": "string"},
            "html": {"type": "string"},
            "author": _PERSON,
        },
    },
    "PagePut": {
        "type": "object",
        "required": ["body", "base_revision"],
        "properties": {
            "title": {"type": "string", "maxLength": 200},
            "body": {"type": "string", "description": "Markdown, не больше 1 МБ"},
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 60}},
            "space": {"type": "string"},
            "base_revision": {**REVISION, "type": ["integer", "null"]},
            "comment": {"type": "string", "maxLength": 500},
        },
    },
    "SaveResult": {
        "type": "object",
        "properties": {
            "slug": {"type": "string"},
            "revision": {"type": "integer"},
            "merged": {"type": "boolean"},
        },
    },
    "EditConflict": {
        "type": "object",
        "properties": {
            "error": {"type": "string"},
            "current_revision": {"type": "integer"},
            "body_with_conflicts": {"type": "string"},
            "passages": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "text": {"type": "string"},
                        "mine": {"type": "string"},
                        "theirs": {"type": "string"},
                    },
                },
            },
        },
    },
    "RevisionList": {
        "type": "object",
        "properties": {
            "revisions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "revision": {"type": "integer"},
                        "kind": {"type": "string"},
                        "title": {"type": "string"},
                        "author": _PERSON,
                        "comment": {"type": "string"},
                        "created_at": {"type": "string", "format": "date-time"},
                        "size": {"type": "integer"},
                    },
                },
            }
        },
    },
    "Diff": {
        "type": "object",
        "properties": {
            "from": {"type": "integer"},
            "to": {"type": "integer"},
            "unified": {"type": "string"},
            "html": {"type": "string"},
        },
    },
    "Attachment": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "filename": {"type": "string"},
            "size": {"type": "integer"},
            "content_type": {"type": "string"},
            "url": {"type": "string"},
            "version": {"type": "integer"},
        },
    },
}
