"""JSON API, HTML pages, seminars with iCalendar, export and save-to-wiki."""

import csv
import io
from datetime import timedelta

import pytest

from kb.board import export, seminars
from kb.board import service as boards
from kb.database import utcnow
from tests.board.conftest import guest


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api_board(client, token_for):
    editor = bearer(token_for("editor"))
    response = client.post(
        "/api/v1/boards",
        json={"title": "Круглый стол", "columns": ["Идеи", "Вопросы"], "moderated": False},
        headers=editor,
    )
    assert response.status_code == 201, response.json
    return response.json["code"], editor


def test_create_board_needs_an_editor(client, auth, token_for):
    # no cookie, no token: not a CSRF matter, just not signed in
    assert client.post("/api/v1/boards", json={"title": "x"}).status_code == 401
    csrf = {"X-CSRFToken": auth.csrf("/login")}
    assert client.post("/api/v1/boards", json={"title": "x"}, headers=csrf).status_code == 401
    reader = bearer(token_for("reader"))
    assert client.post("/api/v1/boards", json={"title": "x"}, headers=reader).status_code == 403
    editor = bearer(token_for("editor"))
    bad = client.post("/api/v1/boards", json={"title": ""}, headers=editor)
    assert bad.status_code == 422 and "Название" in bad.json["error"]
    assert client.post("/api/v1/boards", data="[]", headers=editor).status_code == 400


def test_board_life_over_http(client, api_board, token_for):
    code, editor = api_board
    state = client.get(f"/api/v1/boards/{code}").json
    assert state["seq"] == 0 and state["posts"] == [] and state["board"]["code"] == code
    assert [c["title"] for c in state["board"]["columns"]] == ["Идеи", "Вопросы"]

    question = state["board"]["columns"][1]["id"]
    made = client.post(
        f"/api/v1/boards/{code}/posts",
        json={"text": "Вопрос из чата Zoom", "column": question, "name": "Ирина (чат)"},
        headers=editor,
    )
    assert made.status_code == 201
    post = made.json["post"]
    assert (post["author"], post["column"], made.json["seq"]) == ("Ирина (чат)", question, 1)

    reader = bearer(token_for("reader"))
    liked = client.post(f"/api/v1/boards/{code}/posts/{post['id']}/like", headers=reader)
    assert liked.json["liked"] is True and liked.json["post"]["likes"] == 1
    twice = client.post(
        f"/api/v1/boards/{code}/posts/{post['id']}/like", json={"like": True}, headers=reader
    )
    assert twice.status_code == 409 and "уже" in twice.json["error"]

    assert client.post(f"/api/v1/boards/{code}/lock", headers=reader).status_code == 403
    locked = client.post(f"/api/v1/boards/{code}/lock", headers=editor)
    assert locked.json["locked"] is True
    refused = client.post(f"/api/v1/boards/{code}/posts", json={"text": "поздно"}, headers=reader)
    assert refused.status_code == 409 and "закрыта" in refused.json["error"]
    assert client.post(f"/api/v1/boards/{code}/unlock", headers=editor).json["locked"] is False
    assert client.get(f"/api/v1/boards/{code}").json["seq"] == 4

    assert client.get("/api/v1/boards/ZZZZZZ").status_code == 404
    too_long = client.post(
        f"/api/v1/boards/{code}/posts", json={"text": "я" * 1001}, headers=reader
    )
    assert too_long.status_code == 422


def test_guest_joins_and_posts_with_a_participant_token(client, auth, api_board):
    code, _editor = api_board
    headers = {"X-CSRFToken": auth.csrf("/login")}
    joined = client.post(f"/api/v1/boards/{code}/join", json={"name": "Гость"}, headers=headers)
    token = joined.json["token"]
    assert joined.json["participant"]["name"] == "Гость"
    posted = client.post(
        f"/api/v1/boards/{code}/posts",
        json={"text": "<img src=x onerror=alert(1)>"},
        headers={**headers, "X-Board-Token": token},
    )
    assert posted.status_code == 201
    assert posted.json["post"]["text"] == "<img src=x onerror=alert(1)>"  # plain text, inert
    nobody = client.post(f"/api/v1/boards/{code}/posts", json={"text": "кто я?"}, headers=headers)
    assert nobody.status_code == 401
    long_name = client.post(f"/api/v1/boards/{code}/join", json={"name": "Я" * 61}, headers=headers)
    assert long_name.status_code == 422


def test_polls_over_http(client, api_board, token_for):
    code, editor = api_board
    made = client.post(
        f"/api/v1/boards/{code}/polls",
        json={"question": "Формат?", "kind": "single", "options": ["Онлайн", "Очно"], "open": True},
        headers=editor,
    )
    assert made.status_code == 201 and made.json["poll"]["status"] == "open"
    poll = made.json["poll"]
    reader = bearer(token_for("reader"))
    url = f"/api/v1/boards/{code}/polls/{poll['id']}"
    voted = client.post(f"{url}/vote", json={"choices": [poll["options"][0]["id"]]}, headers=reader)
    assert voted.json["poll"]["voters"] == 1
    again = client.post(f"{url}/vote", json={"choices": [poll["options"][1]["id"]]}, headers=reader)
    assert again.status_code == 409
    assert client.post(f"{url}/close", headers=editor).json["poll"]["status"] == "closed"
    listed = client.get(f"/api/v1/boards/{code}/polls").json["polls"]
    assert [o["votes"] for o in listed[0]["options"]] == [1, 0]


def test_openapi_lists_board_paths(client):
    document = client.get("/api/v1/openapi.json").json
    for path in (
        "/api/v1/boards",
        "/api/v1/boards/{code}",
        "/api/v1/boards/{code}/posts",
        "/api/v1/boards/{code}/lock",
        "/api/v1/boards/{code}/export.csv",
        "/api/v1/boards/{code}/export.xlsx",
        "/api/v1/boards/{code}/save-to-wiki",
        "/api/v1/boards/{code}/polls",
    ):
        assert path in document["paths"]
    assert "Post" in document["components"]["schemas"]


# ------------------------------------------------------------------ pages


def test_join_page_wall_and_qr(client, api_board):
    code, _editor = api_board
    page = client.get(f"/b/{code}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert code in html and "board.js" in html and 'id="board-config"' in html
    assert "style=" not in html
    assert client.get(f"/b/{code.lower()}").status_code == 302
    wall = client.get(f"/b/{code}/wall").get_data(as_text=True)
    assert "qr.svg" in wall and code in wall
    qr = client.get(f"/b/{code}/qr.svg")
    assert qr.mimetype == "image/svg+xml" and b"<svg" in qr.data
    assert client.get("/b/ZZZZZZ").status_code == 404
    assert client.get(f"/b?code={code.lower()}").headers["Location"].endswith(f"/b/{code}")


def test_export_needs_a_moderator(client, api_board, token_for):
    code, _editor = api_board
    assert client.get(f"/api/v1/boards/{code}/export.csv").status_code == 401
    reader = bearer(token_for("reader"))
    assert client.get(f"/api/v1/boards/{code}/export.md", headers=reader).status_code == 403
    assert client.get(f"/api/v1/boards/{code}/export.xlsx", headers=reader).status_code == 403
    workbook = client.get(f"/api/v1/boards/{code}/export.xlsx", headers=_editor)
    assert workbook.status_code == 200 and workbook.data[:2] == b"PK"
    assert workbook.headers["Content-Disposition"].endswith(f'board-{code}.xlsx"')


# ------------------------------------------------------------------ seminars


def _seminar_form(**extra) -> dict:
    return {
        "title": "Робототехника в детском саду",
        "kind": "master_class",
        "date": "2026-12-03",
        "start": "10:00",
        "end": "11:30",
        "speakers": "Анна Петрова, Ирина Кузнецова",
        "meeting_url": "https://telemost.yandex.ru/j/123",
        "description": "Разберём; три модели, с примерами",
        **extra,
    }


def test_seminar_times_are_local_and_stored_in_utc(ctx):
    seminar = seminars.create_seminar(ctx["editor"], _seminar_form())
    assert seminar.starts_at.hour == 7  # 10:00 Moscow = 07:00 UTC
    assert seminars.to_local(seminar.starts_at).hour == 10
    with pytest.raises(Exception, match="позже начала"):
        seminars.create_seminar(ctx["editor"], _seminar_form(end="09:00"))
    with pytest.raises(Exception, match="http"):
        seminars.create_seminar(ctx["editor"], _seminar_form(meeting_url="javascript:alert(1)"))
    with pytest.raises(Exception, match="Недостаточно|педагоги"):
        seminars.create_seminar(ctx["reader"], _seminar_form())


def test_seminar_pages_and_calendar(client, auth, users):
    auth.login(users["editor"])
    created = client.post(
        "/seminars/new", data={**_seminar_form(), "csrf_token": auth.csrf("/login")}
    )
    assert created.status_code == 302
    url = created.headers["Location"]
    page = client.get(url).get_data(as_text=True)
    assert "Робототехника в детском саду" in page and "10:00" in page
    new_board = client.post(
        f"/boards/new?seminar_id={url.rsplit('/', 1)[1]}",
        data={
            "title": "Отзывы",
            "columns": "Плюсы\nМинусы",
            "anonymous": "on",
            "csrf_token": auth.csrf(),
        },
    )
    assert new_board.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "qr.svg" in page and "Перейти на доску" in page
    listing = client.get("/seminars").get_data(as_text=True)
    assert "Ближайшие" in listing and "Робототехника" in listing

    ics = client.get(url + ".ics")
    assert ics.mimetype == "text/calendar"
    text = ics.get_data(as_text=True)
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert "DTSTART:20261203T070000Z" in text and "DTEND:20261203T083000Z" in text
    assert "Разберём\\; три модели\\, с примерами" in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    feed = client.get("/seminars.ics").get_data(as_text=True)
    assert feed.count("BEGIN:VEVENT") == 1


def test_past_and_upcoming(ctx):
    now = utcnow()
    past = seminars.create_seminar(ctx["editor"], _seminar_form(date="2020-01-10"))
    soon = seminars.create_seminar(
        ctx["editor"], _seminar_form(date=(now + timedelta(days=3)).strftime("%Y-%m-%d"))
    )
    upcoming, done = seminars.list_seminars()
    assert [s.id for s in upcoming] == [soon.id] and [s.id for s in done] == [past.id]


# ------------------------------------------------------------------ export and wiki


def _filled(ctx):
    seminar = seminars.create_seminar(ctx["editor"], _seminar_form())
    board = boards.create_board(
        ctx["editor"], "Отзывы", columns=["Что понравилось", "Вопросы"], seminar_id=seminar.id
    )
    anna, olga = guest(board, "Анна"), guest(board, "=HYPERLINK(1)")
    liked = boards.create_post(board, anna, "Отличный # заголовок и [ссылка](javascript:x)")
    boards.like_post(board, olga, liked.id)
    boards.comment_post(board, olga, liked.id, "Согласна!")
    boards.create_post(board, olga, "Как *начать*?", column=board.columns[1].id)
    hidden = boards.create_post(board, olga, "спам")
    boards.moderate_post(board, ctx["editor"], hidden.id, "hide")
    poll = boards.create_poll(board, ctx["editor"], "Полезно?", "single", ["Да", "Нет"])
    boards.set_poll_status(board, ctx["editor"], poll.id, "open")
    boards.vote(board, anna, poll.id, [poll.options[0].id])
    return board


def test_csv_export(ctx):
    board = _filled(ctx)
    text = export.export_csv(board)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert rows[0][:3] == ["Колонка", "Автор", "Текст"]
    assert len(rows) == 3  # the hidden post is not exported
    first = rows[1]
    assert first[0] == "Что понравилось" and first[3] == "1" and "Согласна!" in first[4]
    assert rows[2][1] == "'=HYPERLINK(1)"  # spreadsheet formulas neutralized


def test_xlsx_export(ctx):
    from openpyxl import load_workbook

    board = _filled(ctx)
    sheet = load_workbook(io.BytesIO(export.export_xlsx(board))).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert sheet.title == "Записи" and rows[0][:3] == ["Колонка", "Автор", "Текст"]
    assert len(rows) == 3 and rows[1][0] == "Что понравилось" and rows[1][3] == 1
    assert rows[2][1] == "=HYPERLINK(1)" and sheet.cell(3, 2).data_type == "s"  # text, no formula


def test_markdown_export(ctx):
    board = _filled(ctx)
    text = export.export_markdown(board)
    assert text.startswith("# Отзывы\n")
    assert "## Что понравилось" in text and "## Вопросы" in text
    assert "Отличный \\# заголовок и \\[ссылка\\](javascript:x)" in text
    assert "Как \\*начать\\*?" in text
    assert "лайков: 1" in text and "Согласна" in text
    assert "спам" not in text
    assert "## Опросы" in text and "| Да | 1 | 100 |" in text
    assert "Мастер-класс «Робототехника в детском саду»" in text


def test_markdown_export_names_the_kind_once(ctx):
    seminar = seminars.create_seminar(
        ctx["editor"], _seminar_form(kind="seminar", title="Семинар «Игры с Bee-Bot»")
    )
    board = boards.create_board(ctx["editor"], "Отзывы", seminar_id=seminar.id)
    text = export.export_markdown(board)
    assert "Семинар «Игры с Bee-Bot», 03.12.2026 10:00." in text
    assert "Семинар «Семинар" not in text


def test_save_to_wiki_creates_then_updates(ctx):
    from kb.pages import service as pages

    board = _filled(ctx)
    with pytest.raises(Exception, match="ведущий|прав"):
        export.save_to_wiki(board, ctx["reader"])
    first = export.save_to_wiki(board, ctx["editor"])
    assert first.created
    page = pages.find_page(first.slug)
    assert page.title == "Отзывы: Робототехника в детском саду"
    assert "Что понравилось" in page.body and "| Да | 1 | 100 |" in page.body
    boards.create_post(board, guest(board, "Пётр"), "Новая мысль после семинара")
    second = export.save_to_wiki(board, ctx["editor"])
    assert second.slug == first.slug and not second.created
    assert "Новая мысль" in pages.find_page(first.slug).body
