"""OpenAPI fragments of the board API (merged into /api/v1/openapi.json by kb.api).

Every number that names something (post, poll, column, option, seminar ids) is an integer
from 1 to 2**31-1 and ``since``/``seq`` from 0 to 2**31-1; outside that range the answer is
422 (in the body) or 404 (in the path), never 500.
"""

from kb.database import MAX_ID

_ERR_BODY = {
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
_ERR = {"description": "Ошибка", **_ERR_BODY}


def _json(ref: str, description: str = "OK") -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
    }


def _body(ref: str) -> dict:
    return {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
    }


_ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
_SEQ = {"type": "integer", "minimum": 0, "maximum": MAX_ID}
_COLUMN = {
    "description": (
        "Колонка: её id или точное название (строка). Не указана — первая колонка доски. "
        "Строка сначала сравнивается с названиями, затем читается как id."
    ),
    "oneOf": [_ID, {"type": "string", "minLength": 1, "maxLength": 100}],
}
CODE = {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}
POST_ID = {"name": "post_id", "in": "path", "required": True, "schema": _ID}
POLL_ID = {"name": "poll_id", "in": "path", "required": True, "schema": _ID}
TOKEN = {
    "name": "X-Board-Token",
    "in": "header",
    "required": False,
    "description": (
        "Как участник без учётной записи называет себя по HTTP: токен из ответа join "
        "(POST /api/v1/boards/{code}/join). Без заголовка действует вошедший пользователь "
        "(сессия или Bearer-токен); без того и другого — 401."
    ),
    "schema": {"type": "string", "maxLength": 100},
}
ERRORS = {
    "400": _ERR,
    "401": _ERR,
    "403": _ERR,
    "404": _ERR,
    "409": _ERR,
    "422": _ERR,
    "429": {"description": "Слишком часто (ограничение частоты)", **_ERR_BODY},
}


def _op(summary: str, ok: dict, *, body: str | None = None, params=(), status: str = "200"):
    operation = {
        "tags": ["boards"],
        "summary": summary,
        "parameters": list(params),
        "responses": {status: ok, **ERRORS},
    }
    if body:
        operation["requestBody"] = _body(body)
    return operation


PATHS = {
    "/api/v1/boards": {
        "post": _op(
            "Создать доску (педагог, администратор)",
            _json("BoardCreated", "Создана"),
            body="BoardCreate",
            status="201",
        )
    },
    "/api/v1/boards/{code}": {
        "get": _op("Состояние доски с seq", _json("BoardState"), params=[CODE, TOKEN]),
        "patch": _op(
            "Изменить название, колонки, правила (ведущий)",
            _json("Board"),
            body="BoardUpdate",
            params=[CODE],
        ),
    },
    "/api/v1/boards/{code}/join": {
        "post": {
            **_op("Присоединиться к доске", _json("Joined"), body="Join", params=[CODE]),
            "description": (
                "Без token создаёт нового участника; с token из прошлого join возвращает "
                "того же. Новых участников с одного адреса — не больше "
                "KB_BOARD_JOINS_PER_MINUTE в минуту и KB_BOARD_JOINS_PER_HOUR в час "
                "(по умолчанию 100 и 300), дальше 429."
            ),
        }
    },
    "/api/v1/boards/{code}/posts": {
        "post": _op(
            "Новая запись",
            _json("PostResult", "Создана"),
            body="PostCreate",
            params=[CODE, TOKEN],
            status="201",
        )
    },
    "/api/v1/boards/{code}/posts/{post_id}": {
        "patch": _op(
            "Изменить свою запись", _json("PostResult"), body="Text", params=[CODE, POST_ID, TOKEN]
        ),
        "delete": _op("Удалить свою запись", _json("Seq"), params=[CODE, POST_ID, TOKEN]),
    },
    "/api/v1/boards/{code}/posts/{post_id}/like": {
        "post": _op(
            "Лайк: like=true ставит, false снимает, без тела — переключает",
            _json("PostResult"),
            params=[CODE, POST_ID, TOKEN],
        )
    },
    "/api/v1/boards/{code}/posts/{post_id}/comments": {
        "post": _op(
            "Комментарий к записи",
            _json("PostResult", "Создан"),
            body="Text",
            params=[CODE, POST_ID, TOKEN],
            status="201",
        )
    },
    "/api/v1/boards/{code}/posts/{post_id}/moderate": {
        "post": _op(
            "Модерация записи (ведущий)",
            _json("PostResult"),
            body="Moderate",
            params=[CODE, POST_ID],
        )
    },
    "/api/v1/boards/{code}/lock": {
        "post": _op("Закрыть доску: только чтение (ведущий)", _json("Board"), params=[CODE])
    },
    "/api/v1/boards/{code}/unlock": {
        "post": _op("Открыть доску (ведущий)", _json("Board"), params=[CODE])
    },
    "/api/v1/boards/{code}/export.csv": {
        "get": _op(
            "Записи в CSV (ведущий)",
            {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}},
            params=[CODE],
        )
    },
    "/api/v1/boards/{code}/export.xlsx": {
        "get": _op(
            "Записи в Excel (ведущий)",
            {
                "description": "XLSX",
                "content": {
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                        "schema": {"type": "string", "format": "binary"}
                    }
                },
            },
            params=[CODE],
        )
    },
    "/api/v1/boards/{code}/export.md": {
        "get": _op(
            "Доска в Markdown (ведущий)",
            {
                "description": "Markdown",
                "content": {"text/markdown": {"schema": {"type": "string"}}},
            },
            params=[CODE],
        )
    },
    "/api/v1/boards/{code}/save-to-wiki": {
        "post": _op("Сохранить в базу знаний (ведущий)", _json("SavedToWiki"), params=[CODE])
    },
    "/api/v1/boards/{code}/polls": {
        "get": _op("Опросы с результатами", _json("PollList"), params=[CODE]),
        "post": _op(
            "Создать опрос (ведущий)",
            _json("PollResult", "Создан"),
            body="PollCreate",
            params=[CODE],
            status="201",
        ),
    },
    "/api/v1/boards/{code}/polls/{poll_id}": {
        "delete": _op("Удалить опрос (ведущий)", _json("Seq"), params=[CODE, POLL_ID])
    },
    "/api/v1/boards/{code}/polls/{poll_id}/open": {
        "post": _op("Открыть опрос (ведущий)", _json("PollResult"), params=[CODE, POLL_ID])
    },
    "/api/v1/boards/{code}/polls/{poll_id}/close": {
        "post": _op("Закрыть опрос (ведущий)", _json("PollResult"), params=[CODE, POLL_ID])
    },
    "/api/v1/boards/{code}/polls/{poll_id}/reveal": {
        "post": _op(
            "Показать скрытые результаты всем (ведущий)",
            _json("PollResult"),
            params=[CODE, POLL_ID],
        )
    },
    "/api/v1/boards/{code}/polls/{poll_id}/conceal": {
        "post": _op(
            "Снова скрыть результаты (ведущий)", _json("PollResult"), params=[CODE, POLL_ID]
        )
    },
    "/api/v1/boards/{code}/polls/{poll_id}/vote": {
        "post": _op(
            "Ответить на опрос (один раз)",
            _json("PollResult"),
            body="Vote",
            params=[CODE, POLL_ID, TOKEN],
        )
    },
}

_STR = {"type": "string"}
_INT = {"type": "integer"}
_BOOL = {"type": "boolean"}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


SCHEMAS = {
    "BoardCreate": {
        "type": "object",
        "required": ["title"],
        "properties": {
            "title": {"type": "string", "maxLength": 200},
            "description": _STR,
            "columns": {"type": "array", "items": {"type": "string", "maxLength": 100}},
            "moderated": _BOOL,
            "anonymous": _BOOL,
            "likes": _BOOL,
            "comments": _BOOL,
            "seminar_id": _ID,
        },
    },
    "BoardCreated": {
        "type": "object",
        "properties": {"id": _INT, "code": _STR, "url": _STR, "wall_url": _STR},
    },
    "BoardUpdate": {
        "type": "object",
        "properties": {
            "title": _STR,
            "description": _STR,
            "columns": {
                "type": "array",
                "items": {"type": "object", "properties": {"id": _ID, "title": _STR}},
            },
            "moderated": _BOOL,
            "anonymous": _BOOL,
            "likes": _BOOL,
            "comments": _BOOL,
        },
    },
    "Board": {
        "type": "object",
        "properties": {
            "id": _INT,
            "code": _STR,
            "title": _STR,
            "description": _STR,
            "columns": {
                "type": "array",
                "items": {"type": "object", "properties": {"id": _INT, "title": _STR}},
            },
            "anonymous": _BOOL,
            "moderated": _BOOL,
            "likes": _BOOL,
            "comments": _BOOL,
            "locked": _BOOL,
            "seminar": {"type": ["object", "null"]},
            "url": _STR,
            "wall_url": _STR,
            "seq": _INT,
        },
    },
    "Comment": {
        "type": "object",
        "properties": {
            "id": _INT,
            "author": _STR,
            "author_key": {"type": ["string", "null"]},
            "text": _STR,
            "created_at": {"type": "string", "format": "date-time"},
        },
    },
    "Post": {
        "type": "object",
        "properties": {
            "id": _INT,
            "column": _INT,
            "text": {"type": "string", "description": "Обычный текст, не HTML"},
            "author": _STR,
            "author_key": {"type": ["string", "null"]},
            "status": {"enum": ["visible", "pending", "hidden"]},
            "pinned": _BOOL,
            "likes": _INT,
            "edited": _BOOL,
            "comments": {"type": "array", "items": _ref("Comment")},
            "created_at": {"type": "string", "format": "date-time"},
            "seq": {"type": "integer", "description": "seq последнего изменения записи"},
        },
    },
    "Poll": {
        "type": "object",
        "properties": {
            "id": _INT,
            "question": _STR,
            "kind": {"enum": ["single", "multiple", "words"]},
            "status": {"enum": ["draft", "open", "closed"]},
            "results": {"enum": ["after_vote", "revealed", "always"]},
            "revealed": _BOOL,
            "options": {
                "type": "array",
                "items": {
                    "type": "object",
                    # votes: null while the results are hidden from this viewer
                    "properties": {
                        "id": _INT,
                        "text": _STR,
                        "votes": {"type": ["integer", "null"]},
                    },
                },
            },
            "voters": _INT,
            "created_at": {"type": "string", "format": "date-time"},
            "seq": _INT,
        },
    },
    "BoardState": {
        "type": "object",
        "properties": {
            "board": _ref("Board"),
            "posts": {"type": "array", "items": _ref("Post")},
            "polls": {"type": "array", "items": _ref("Poll")},
            "seq": _INT,
            "participant": {"type": ["object", "null"]},
            "moderator": _BOOL,
            "my_likes": {"type": "array", "items": _INT},
            "my_votes": {"type": "object"},
        },
    },
    "Join": {
        "type": "object",
        "properties": {"name": {"type": "string", "maxLength": 60}, "token": _STR},
    },
    "Joined": {
        "type": "object",
        "properties": {"token": _STR, "participant": {"type": "object"}, "moderator": _BOOL},
    },
    "PostCreate": {
        "type": "object",
        "required": ["text"],
        "properties": {
            "text": {"type": "string", "maxLength": 1000},
            "column": _COLUMN,
            "name": {
                "type": "string",
                "maxLength": 60,
                "description": (
                    "Подпись записи другим именем: только ведущий доски или интеграция с "
                    "Bearer-токеном; участник — только своим именем из join (иначе 403)."
                ),
            },
        },
    },
    "Text": {"type": "object", "required": ["text"], "properties": {"text": _STR}},
    "Moderate": {
        "type": "object",
        "required": ["action"],
        "properties": {
            "action": {"enum": ["approve", "hide", "show", "pin", "unpin", "move"]},
            "column": _COLUMN,
        },
    },
    "PostResult": {
        "type": "object",
        "properties": {"post": _ref("Post"), "seq": _INT, "liked": _BOOL},
    },
    "Seq": {"type": "object", "properties": {"seq": _INT}},
    "SavedToWiki": {
        "type": "object",
        "properties": {"slug": _STR, "revision": _INT, "created": _BOOL, "merged": _BOOL},
    },
    "PollCreate": {
        "type": "object",
        "required": ["question"],
        "properties": {
            "question": {"type": "string", "maxLength": 300},
            "kind": {"enum": ["single", "multiple", "words"]},
            "options": {"type": "array", "items": _STR},
            "open": _BOOL,
            "results": {"enum": ["after_vote", "revealed", "always"]},
        },
    },
    "PollResult": {"type": "object", "properties": {"poll": _ref("Poll"), "seq": _INT}},
    "PollList": {
        "type": "object",
        "properties": {"polls": {"type": "array", "items": _ref("Poll")}, "seq": _INT},
    },
    "Vote": {
        "type": "object",
        "properties": {
            "choices": {"type": "array", "items": _ID, "minItems": 1},
            "words": {"type": "array", "items": _STR, "maxItems": 3},
        },
    },
}
