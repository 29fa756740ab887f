"""OpenAPI 3.1 fragments for the survey endpoints (merged by kb.api)."""

from kb.database import MAX_ID

ERR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
TAGS = ["surveys"]


def _json(ref: str) -> dict:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}


def _body(ref: str) -> dict:
    return {"required": True, "content": _json(ref)}


def _errors(*codes: int) -> dict:
    text = {
        400: "Некорректный запрос (не JSON, нет ключа отправки, неверные параметры)",
        401: "Нужно войти или передать токен",
        403: "Только автор опроса и организаторы сети",
        404: "Опрос или волна не найдены (или неверный код ссылки)",
        409: "Опрос закрыт, уже есть ответ, структура заблокирована ответами",
        422: "Данные не прошли проверку (поле errors: {id вопроса: сообщение})",
        429: "Анонимный опрос: слишком много ответов с одного адреса за час "
        "(KB_SURVEY_RESPONSES_PER_HOUR)",
    }
    return {str(c): {"description": text[c], "content": ERR} for c in codes}


# Ids and numbers are 32-bit: a larger or non-positive one is a 404 in a path, a 400 in a query.
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
SURVEY_ID = {"name": "survey_id", "in": "path", "required": True, "schema": ID}
WAVE_NUMBER = {"name": "number", "in": "path", "required": True, "schema": ID}
FILTERS = [
    {
        "name": "wave",
        "in": "query",
        "schema": {"type": "string", "pattern": "^[0-9]{1,10}(,[0-9]{1,10})*$"},
        "description": "Номера волн через запятую, каждый от 1 до 2147483647 (по умолчанию все)",
    },
    {
        "name": "organization",
        "in": "query",
        "schema": ID,
        "description": "Только ответы этой организации",
    },
]

PATHS = {
    "/api/v1/surveys": {
        "get": {
            "summary": "Опросы: которые я веду и которые ждут моего ответа",
            "tags": TAGS,
            "responses": {
                "200": {"description": "Списки", "content": _json("SurveyLists")},
                **_errors(401),
            },  # fmt: skip
        },
        "post": {
            "summary": "Создать опрос целиком (педагоги и организаторы)",
            "tags": TAGS,
            "requestBody": _body("SurveyDefinition"),
            "responses": {
                "201": {"description": "Опрос", "content": _json("Survey")},
                **_errors(400, 401, 403, 422),
            },  # fmt: skip
        },
    },
    "/api/v1/surveys/{survey_id}": {
        "parameters": [SURVEY_ID],
        "get": {
            "summary": "Опрос с вопросами (для анонимного опроса без входа нужен ?code=)",
            "tags": TAGS,
            "parameters": [{"name": "code", "in": "query", "schema": {"type": "string"}}],
            "responses": {
                "200": {"description": "Опрос", "content": _json("Survey")},
                **_errors(401, 404),
            },  # fmt: skip
        },
        "put": {
            "summary": "Заменить вопросы (пока нет ни одного ответа)",
            "tags": TAGS,
            "requestBody": _body("SurveyDefinition"),
            "responses": {
                "200": {"description": "Опрос", "content": _json("Survey")},
                **_errors(400, 401, 403, 404, 409, 422),
            },  # fmt: skip
        },
        "delete": {
            "summary": "Удалить опрос вместе с ответами",
            "tags": TAGS,
            "responses": {"204": {"description": "Удалён"}, **_errors(401, 403, 404)},
        },
    },
    "/api/v1/surveys/{survey_id}/waves": {
        "parameters": [SURVEY_ID],
        "get": {
            "summary": "Волны опроса с числом ответов",
            "tags": TAGS,
            "responses": {
                "200": {
                    "description": "Волны",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "array",
                                "items": {"$ref": "#/components/schemas/Wave"},
                            }
                        }
                    },
                },  # fmt: skip
                **_errors(401, 403, 404),
            },
        },
        "post": {
            "summary": "Открыть новую волну с теми же вопросами (текущая закрывается)",
            "tags": TAGS,
            "requestBody": _body("WaveInput"),
            "responses": {
                "201": {"description": "Волна", "content": _json("Wave")},
                **_errors(400, 401, 403, 404, 409, 422),
            },  # fmt: skip
        },
    },
    "/api/v1/surveys/{survey_id}/waves/{number}/close": {
        "parameters": [SURVEY_ID, WAVE_NUMBER],
        "post": {
            "summary": "Закрыть приём ответов в волне",
            "tags": TAGS,
            "responses": {
                "200": {"description": "Волна", "content": _json("Wave")},
                **_errors(401, 403, 404),
            },  # fmt: skip
        },
    },
    "/api/v1/surveys/{survey_id}/responses": {
        "parameters": [SURVEY_ID],
        "post": {
            "summary": "Ответить на опрос (повтор с тем же ключом не создаёт второй ответ)",
            "description": (
                "Подписной опрос: нужен вход, один ответ на человека в волне. Анонимный: "
                "нужен code из ссылки (если без входа) и device_id — случайный идентификатор "
                "устройства (или cookie, которую ставит страница опроса). Ответ 201 — "
                "сохранён; 200 с duplicate=true — этот ключ уже сохранён раньше."
            ),
            "tags": TAGS,
            "requestBody": _body("ResponseInput"),
            "responses": {
                "201": {"description": "Сохранён", "content": _json("ResponseStored")},
                "200": {"description": "Уже был сохранён", "content": _json("ResponseStored")},
                **_errors(400, 401, 404, 409, 422, 429),
            },
        },
        "get": {
            "summary": "Ответы по одному (для подписных — с именами); только организаторы",
            "tags": TAGS,
            "parameters": FILTERS,
            "responses": {
                "200": {
                    "description": "Ответы",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "array",
                                "items": {"$ref": "#/components/schemas/ResponseItem"},
                            }
                        }
                    },
                },  # fmt: skip
                **_errors(400, 401, 403, 404),
            },
        },
    },
    "/api/v1/surveys/{survey_id}/results": {
        "parameters": [SURVEY_ID],
        "get": {
            "summary": "Итоги по вопросам: число, доля ответивших, среднее, тексты",
            "tags": TAGS,
            "parameters": FILTERS,
            "responses": {
                "200": {"description": "Итоги", "content": _json("Results")},
                **_errors(400, 401, 403, 404),
            },  # fmt: skip
        },
    },
    "/api/v1/surveys/{survey_id}/compare": {
        "parameters": [SURVEY_ID],
        "get": {
            "summary": "Сравнение волн по вопросам и по организациям",
            "tags": TAGS,
            "parameters": FILTERS,
            "responses": {
                "200": {"description": "Сравнение", "content": _json("Comparison")},
                **_errors(400, 401, 403, 404),
            },  # fmt: skip
        },
    },
    "/api/v1/surveys/{survey_id}/wiki": {
        "parameters": [SURVEY_ID],
        "post": {
            "summary": "Сохранить итоги в базу знаний (страница вики)",
            "tags": TAGS,
            "responses": {
                "200": {
                    "description": "Страница",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "slug": {"type": "string"},
                                    "revision": {"type": "integer"},
                                    "created": {"type": "boolean"},
                                    "url": {"type": "string"},
                                },
                            }
                        }
                    },
                },  # fmt: skip
                **_errors(401, 403, 404, 409),
            },
        },
    },
}

QUESTION_INPUT = {
    "type": "object",
    "required": ["kind", "text"],
    "properties": {
        "kind": {"enum": ["single", "multiple", "scale", "short_text", "long_text"]},
        "text": {"type": "string", "maxLength": 500},
        "help": {"type": "string", "maxLength": 1000},
        "required": {"type": "boolean", "default": False},
        "options": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 30},
        "scale_max": {"enum": [5, 10]},
        "label_min": {"type": "string", "maxLength": 80},
        "label_max": {"type": "string", "maxLength": 80},
    },
}

SCHEMAS = {
    "SurveyDefinition": {
        "type": "object",
        "required": ["title", "sections"],
        "properties": {
            "title": {"type": "string", "maxLength": 200},
            "description": {"type": "string"},
            "anonymous": {"type": "boolean", "default": False},
            "sections": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "title": {"type": "string"},
                        "description": {"type": "string"},
                        "questions": {"type": "array", "items": QUESTION_INPUT},
                    },
                },
            },
        },
    },
    "Question": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "section_id": {"type": "integer"},
            "position": {"type": "integer"},
            "kind": {"type": "string"},
            "text": {"type": "string"},
            "help": {"type": "string"},
            "required": {"type": "boolean"},
            "options": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"id": {"type": "integer"}, "text": {"type": "string"}},
                },
            },  # fmt: skip
            "scale_min": {"type": "integer"},
            "scale_max": {"type": "integer"},
            "label_min": {"type": "string"},
            "label_max": {"type": "string"},
            "max_length": {"type": "integer"},
        },
    },
    "Survey": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "anonymous": {"type": "boolean"},
            "accepting": {"type": "boolean"},
            "current_wave": {"type": ["integer", "null"]},
            "archived": {"type": "boolean"},
            "url": {"type": "string"},
            "waves": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/Wave"},
                "description": "Только для организаторов",
            },  # fmt: skip
            "code": {
                "type": "string",
                "description": "Код ссылки (анонимный опрос, организаторам)",
            },
            "link": {"type": "string"},
            "sections": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "title": {"type": "string"},
                        "description": {"type": "string"},
                        "questions": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Question"},
                        },
                    },
                },
            },  # fmt: skip
        },
    },
    "SurveyLists": {
        "type": "object",
        "properties": {
            "organized": {"type": "array", "items": {"$ref": "#/components/schemas/Survey"}},
            "open": {"type": "array", "items": {"$ref": "#/components/schemas/Survey"}},
        },
    },
    "WaveInput": {
        "type": "object",
        "properties": {
            "title": {"type": "string", "maxLength": 200},
            "opens_at": {"type": ["string", "null"], "format": "date-time"},
            "closes_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "Wave": {
        "type": "object",
        "properties": {
            "number": {"type": "integer"},
            "title": {"type": "string"},
            "label": {"type": "string"},
            "opens_at": {"type": "string", "format": "date-time"},
            "closes_at": {"type": ["string", "null"], "format": "date-time"},
            "open": {"type": "boolean"},
            "responses": {"type": "integer"},
        },
    },
    "ResponseInput": {
        "type": "object",
        "required": ["answers", "idempotency_key"],
        "properties": {
            "answers": {
                "type": "object",
                "description": (
                    "{id вопроса: ответ}: id варианта (один вариант), список id (несколько), "
                    "целое число (шкала), строка (текст)"
                ),
                "additionalProperties": True,
            },
            "idempotency_key": {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$"},
            "device_id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{16,128}$"},
            "code": {"type": "string"},
            "organization_id": {
                "type": ["integer", "null"],
                "minimum": 1,
                "maximum": MAX_ID,
                "description": "Только для анонимных опросов, по желанию",
            },  # fmt: skip
        },
    },
    "ResponseStored": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "wave": {"type": "integer"},
            "submitted_at": {"type": "string", "format": "date-time"},
            "duplicate": {"type": "boolean"},
            "thanks_url": {"type": "string"},
        },
    },
    "ResponseItem": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "wave": {"type": "integer"},
            "submitted_at": {"type": "string", "format": "date-time"},
            "person": {"type": ["string", "null"]},
            "email": {"type": ["string", "null"]},
            "organization": {"type": ["string", "null"]},
            "answers": {"type": "object", "additionalProperties": {"type": "array"}},
        },
    },
    "Results": {
        "type": "object",
        "properties": {
            "survey_id": {"type": "integer"},
            "waves": {"type": "array", "items": {"type": "integer"}},
            "organization_id": {"type": ["integer", "null"]},
            "respondents": {"type": "integer"},
            "questions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "text": {"type": "string"},
                        "kind": {"type": "string"},
                        "answered": {"type": "integer"},
                        "options": {"type": "array"},
                        "scale": {"type": "object"},
                        "texts": {"type": "array"},
                    },
                },
            },
        },
    },  # fmt: skip
    "Comparison": {
        "type": "object",
        "properties": {
            "waves": {"type": "array", "items": {"type": "object"}},
            "questions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "text": {"type": "string"},
                        "answered": {"type": "array", "items": {"type": "integer"}},
                        "rows": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "label": {"type": "string"},
                                    "values": {
                                        "type": "array",
                                        "items": {"type": ["number", "null"]},
                                    },
                                    "delta": {"type": ["number", "null"]},
                                },
                            },
                        },
                        "means": {"type": "array", "items": {"type": ["number", "null"]}},
                        "delta": {"type": ["number", "null"]},
                    },
                },
            },
            "organizations": {"type": "array", "items": {"type": "object"}},
        },
    },  # fmt: skip
}
