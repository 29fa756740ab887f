"""OpenAPI 3.1 fragments for the consulting-centre endpoints (merged by kb.api)."""

from kb.database import MAX_ID

ERR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
TAGS = ["consult"]


def _json(ref: str, array: bool = False) -> dict:
    schema = {"$ref": f"#/components/schemas/{ref}"}
    if array:
        schema = {"type": "array", "items": schema}
    return {"application/json": {"schema": schema}}


def _errors(*codes: int) -> dict:
    text = {
        400: "Некорректный запрос",
        401: "Нужно войти или передать токен",
        403: "Только методисты (или автор вопроса, или организатор сети)",
        404: "Вопрос или ответ не найдены (личные вопросы видят автор и методисты)",
        409: "Вопрос закрыт; свой или личный вопрос нельзя поддержать",
        422: "Данные не прошли проверку",
    }
    return {str(c): {"description": text[c], "content": ERR} for c in codes}


def _body(properties: dict, required: list[str]) -> dict:
    return {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": required, "properties": properties}}}}  # fmt: skip


# Ids are 32-bit: a larger or non-positive one names nothing (404 in a path, 422 in a body).
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
QID = {"name": "question_id", "in": "path", "required": True, "schema": ID}
AID = {"name": "answer_id", "in": "path", "required": True, "schema": ID}
UID = {"name": "user_id", "in": "path", "required": True, "schema": ID}

PATHS = {
    "/api/v1/consult/questions": {
        "get": {
            "summary": "Вопросы консультативного центра (видимые мне)",
            "tags": TAGS,
            "parameters": [
                {
                    "name": "status",
                    "in": "query",
                    "schema": {"enum": ["new", "answered", "closed"]},
                },
                {"name": "mine", "in": "query", "schema": {"type": "boolean"}},
                {"name": "q", "in": "query", "schema": {"type": "string"}},
            ],
            "responses": {
                "200": {"description": "Список", "content": _json("ConsultQuestion", True)},
                **_errors(401, 422),
            },  # fmt: skip
        },
        "post": {
            "summary": "Задать вопрос (private — только методистам)",
            "tags": TAGS,
            "requestBody": _body(
                {
                    "title": {"type": "string", "maxLength": 200},
                    "body": {"type": "string", "maxLength": 10000},
                    "private": {"type": "boolean"},
                },
                ["title"],
            ),  # fmt: skip
            "responses": {
                "201": {"description": "Вопрос", "content": _json("ConsultQuestion")},
                **_errors(400, 401, 422),
            },  # fmt: skip
        },
    },
    "/api/v1/consult/questions/{question_id}": {
        "parameters": [QID],
        "get": {
            "summary": "Вопрос с ответами",
            "tags": TAGS,
            "responses": {
                "200": {"description": "Вопрос", "content": _json("ConsultQuestion")},
                **_errors(401, 404),
            },  # fmt: skip
        },
    },
    "/api/v1/consult/questions/{question_id}/answers": {
        "parameters": [QID],
        "post": {
            "summary": "Ответить (методисты); вопрос получает статус answered",
            "tags": TAGS,
            "requestBody": _body({"body": {"type": "string", "maxLength": 20000}}, ["body"]),
            "responses": {
                "201": {"description": "Ответ", "content": _json("ConsultAnswer")},
                **_errors(400, 401, 403, 404, 409, 422),
            },  # fmt: skip
        },
    },
    "/api/v1/consult/questions/{question_id}/upvote": {
        "parameters": [QID],
        "put": {
            "summary": "«У меня тот же вопрос»",
            "tags": TAGS,
            "responses": {"200": {"description": "Число голосов"}, **_errors(401, 404, 409)},
        },
        "delete": {
            "summary": "Снять голос",
            "tags": TAGS,
            "responses": {"200": {"description": "Число голосов"}, **_errors(401, 404, 409)},
        },
    },  # fmt: skip
    "/api/v1/consult/questions/{question_id}/status": {
        "parameters": [QID],
        "post": {
            "summary": "Закрыть (closed) или открыть снова (open) — автор или методист",
            "tags": TAGS,
            "requestBody": _body(
                {"status": {"enum": ["closed", "open", "new", "answered"]}}, ["status"]
            ),  # fmt: skip
            "responses": {
                "200": {"description": "Вопрос", "content": _json("ConsultQuestion")},
                **_errors(400, 401, 403, 404, 409, 422),
            },  # fmt: skip
        },
    },
    "/api/v1/consult/answers/{answer_id}/faq": {
        "parameters": [AID],
        "post": {
            "summary": "Опубликовать ответ как страницу FAQ в базе знаний (методисты)",
            "description": (
                "Открытый вопрос публикуется как есть, без имени автора. Личный вопрос — "
                "только с обезличенным текстом (title, по желанию body), который методист "
                "проверил, и confirm_anonymized=true; без них ответ 422."
            ),
            "tags": TAGS,
            "requestBody": {
                "required": False,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "title": {
                                    "type": "string",
                                    "maxLength": 200,
                                    "description": "Обезличенная формулировка вопроса",
                                },
                                "body": {
                                    "type": "string",
                                    "maxLength": 10000,
                                    "description": "Обезличенные подробности",
                                },
                                "confirm_anonymized": {"type": "boolean"},
                            },
                        }
                    }
                },
            },
            "responses": {
                "200": {"description": "Страница вики (slug, revision, url)"},
                **_errors(400, 401, 403, 404, 409, 422),
            },  # fmt: skip
        },
    },
    "/api/v1/consult/notifications": {
        "get": {
            "summary": "Мои уведомления и число непрочитанных",
            "tags": TAGS,
            "parameters": [{"name": "unread", "in": "query", "schema": {"enum": ["1"]}}],
            "responses": {
                "200": {"description": "Уведомления", "content": _json("ConsultNotifications")},
                **_errors(401),
            },  # fmt: skip
        },
    },
    "/api/v1/consult/notifications/read": {
        "post": {
            "summary": "Отметить прочитанными (все или ids)",
            "tags": TAGS,
            "requestBody": {
                "required": False,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {"ids": {"type": "array", "items": ID}},
                        }
                    }
                },
            },
            "responses": {"200": {"description": "Сколько отмечено"}, **_errors(401, 422)},
        },
    },
    "/api/v1/consult/methodists": {
        "get": {
            "summary": "Методисты (отвечают на вопросы)",
            "tags": TAGS,
            "responses": {"200": {"description": "Список"}, **_errors(401)},
        },
    },  # fmt: skip
    "/api/v1/consult/methodists/{user_id}": {
        "parameters": [UID],
        "put": {
            "summary": "Назначить методистом (организатор сети)",
            "tags": TAGS,
            "responses": {"200": {"description": "Готово"}, **_errors(401, 403, 404)},
        },
        "delete": {
            "summary": "Снять с роли методиста",
            "tags": TAGS,
            "responses": {"200": {"description": "Готово"}, **_errors(401, 403, 404)},
        },
    },  # fmt: skip
}

PERSON = {"type": ["object", "null"], "properties": {
    "name": {"type": "string"}, "organization": {"type": ["string", "null"]}}}  # fmt: skip

SCHEMAS = {
    "ConsultAnswer": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "body": {"type": "string"},
            "author": PERSON,
            "created_at": {"type": "string", "format": "date-time"},
            "published": {"type": "boolean", "description": "Опубликован как FAQ"},
        },
    },
    "ConsultQuestion": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "body": {"type": "string"},
            "private": {"type": "boolean"},
            "status": {"enum": ["new", "answered", "closed"]},
            "upvotes": {"type": "integer"},
            "upvoted": {"type": "boolean"},
            "answers_count": {"type": "integer"},
            "author": PERSON,
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "faq_slug": {"type": ["string", "null"]},
            "url": {"type": "string"},
            "answers": {"type": "array", "items": {"$ref": "#/components/schemas/ConsultAnswer"}},
        },
    },
    "ConsultNotifications": {
        "type": "object",
        "properties": {
            "unread": {"type": "integer"},
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "kind": {"enum": ["question", "answer", "status", "faq"]},
                        "text": {"type": "string"},
                        "question_id": {"type": "integer"},
                        "answer_id": {"type": ["integer", "null"]},
                        "created_at": {"type": "string", "format": "date-time"},
                        "read": {"type": "boolean"},
                    },
                },
            },
        },
    },  # fmt: skip
}
