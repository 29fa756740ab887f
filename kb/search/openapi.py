"""OpenAPI 3.1 fragments for the search endpoints (merged by kb.api)."""

ERR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def _json(ref: str) -> dict:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}


def _query(name: str, description: str, schema: dict | None = None) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema or {"type": "string"},
        "description": description,
    }


COUNTS = {"type": "object", "additionalProperties": {"type": "integer"}}

PATHS = {
    "/api/v1/search": {
        "get": {
            "summary": "Поиск по страницам и прикреплённым файлам",
            "description": (
                "Слова ищутся в любой форме (русская и английская морфология, ё = е). "
                "Поддерживаются «фразы в кавычках», скобки и AND/OR/NOT; ошибка в синтаксисе "
                "не приводит к ошибке — запрос ищется как набор слов. Гостям доступно, только "
                "если включено KB_PUBLIC_READ; удалённые страницы не находятся."
            ),
            "tags": ["search"],
            "parameters": [
                _query("q", "Что искать (до 300 символов)"),
                _query("space", "Фильтр: адрес (slug) пространства"),
                _query("tag", "Фильтр: метка"),
                _query("org", "Фильтр: краткое название организации автора"),
                _query(
                    "type",
                    "Фильтр: page — страницы, attachment — файлы",
                    {"type": "string", "enum": ["page", "attachment"]},
                ),
                _query(
                    "sort",
                    "relevance (по умолчанию) или date — сначала новые",
                    {"type": "string", "enum": ["relevance", "date"], "default": "relevance"},
                ),
                _query(
                    "page",
                    "Номер страницы результатов",
                    {"type": "integer", "minimum": 1, "default": 1},
                ),
                _query(
                    "per_page",
                    "Результатов на странице (не больше 50)",
                    {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
                ),
            ],
            "responses": {
                "200": {"description": "Результаты", "content": _json("SearchResults")},
                "400": {"description": "Неверные параметры", "content": ERR},
                "401": {"description": "Нужно войти или передать токен", "content": ERR},
            },
        }
    },
    "/api/v1/search/suggest": {
        "get": {
            "summary": "Подсказки названий страниц по началу слова",
            "tags": ["search"],
            "parameters": [_query("q", "Набранный текст; последнее слово — начало слова")],
            "responses": {
                "200": {"description": "Названия", "content": _json("SearchSuggestions")},
                "401": {"description": "Нужно войти или передать токен", "content": ERR},
            },
        }
    },
}

SCHEMAS = {
    "SearchHit": {
        "type": "object",
        "required": ["slug", "title", "space", "snippet", "score", "attachment"],
        "properties": {
            "slug": {"type": "string", "description": "Адрес страницы"},
            "title": {"type": "string", "description": "Название страницы"},
            "space": {"type": "string", "description": "Адрес пространства"},
            "snippet": {
                "type": "string",
                "description": "Фрагмент текста (HTML: всё экранировано, найденные слова в <mark>)",
            },
            "score": {"type": "number"},
            "attachment": {
                "description": "Для найденного файла — файл на этой странице",
                "oneOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "required": ["id", "filename"],
                        "properties": {
                            "id": {"type": "integer"},
                            "filename": {"type": "string"},
                        },
                    },
                ],
            },
        },
    },
    "SearchResults": {
        "type": "object",
        "required": ["total", "results", "facets", "suggestion"],
        "properties": {
            "total": {"type": "integer"},
            "results": {"type": "array", "items": {"$ref": "#/components/schemas/SearchHit"}},
            "facets": {
                "type": "object",
                "description": "Число найденного по значениям (с учётом фильтров)",
                "properties": {"space": COUNTS, "tag": COUNTS, "org": COUNTS, "type": COUNTS},
            },
            "suggestion": {
                "type": ["string", "null"],
                "description": "«Возможно, вы имели в виду …»: исправленный запрос",
            },
        },
    },
    "SearchSuggestions": {
        "type": "object",
        "required": ["titles"],
        "properties": {
            "titles": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["slug", "title", "url"],
                    "properties": {
                        "slug": {"type": "string"},
                        "title": {"type": "string"},
                        "url": {"type": "string"},
                    },
                },
            }
        },
    },
}
